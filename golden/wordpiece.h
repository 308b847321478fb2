// The BERT uncased WordPiece tokenizer of all-MiniLM-L6-v2, equal to the model's own
// (Hugging Face `tokenizers`: BertNormalizer with lower-casing, BertPreTokenizer, WordPiece,
// the [CLS] ... [SEP] template and truncation). docs/minilm.md, "Tokenizer", is its
// description.
//
//   1. Special tokens ([PAD] [UNK] [CLS] [SEP] [MASK], where the vocabulary has them) are
//      matched in the raw text first; the text between them is tokenized on its own.
//   2. Normalizer, per code point: controls, format characters, non-spacing marks and
//      unassigned code points are removed; whitespace becomes ' '; CJK ideographs get a
//      space on either side; letters are lower-cased and stripped of accents (NFD without
//      Mn). The character tables (wordpiece_table.inc) were generated from the reference
//      tokenizer itself (scripts/minilm/gen_wordpiece_table.py), for every code point.
//   3. Pre-tokenizer: split at spaces; every punctuation character is a word of its own.
//   4. WordPiece: greedy longest match from the left, continuation pieces prefixed "##"; a
//      word with an unmatched rest, or longer than 100 code points, is one [UNK].
//   5. [CLS] + the first max_tokens - 2 pieces + [SEP].
//
// Input is UTF-8; every byte of an invalid sequence reads as U+FFFD (which step 2 removes).
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace esact {

// Normalizer (step 2) of one piece of text without special tokens, UTF-8 in and out.
std::string BertNormalize(const std::string& text);

class WordPieceTokenizer {
 public:
  static constexpr int kMaxWordChars = 100;  // longer words are [UNK]

  // vocab[id] is the token of id. Throws std::invalid_argument if a token is empty or
  // repeated, if [UNK], [CLS] or [SEP] is missing, or if max_tokens < 2.
  explicit WordPieceTokenizer(std::vector<std::string> vocab, int max_tokens = 128);

  // Steps 2 and 3 on text without special tokens: the words WordPiece sees.
  std::vector<std::string> PreTokenize(const std::string& text) const;
  // Step 4 on one word.
  std::vector<int> WordPiece(const std::string& word) const;
  // Steps 1 to 4: the pieces of the text, without [CLS] and [SEP], not truncated.
  std::vector<int> Tokenize(const std::string& text) const;
  // Steps 1 to 5: what the model reads, at most max_tokens ids.
  std::vector<int> Encode(const std::string& text) const;

  // -1 if the vocabulary has no such token.
  int TokenId(const std::string& token) const;
  // Throws std::out_of_range for an id outside the vocabulary.
  const std::string& Token(int id) const { return vocab_.at(id); }
  int vocab_size() const { return static_cast<int>(vocab_.size()); }
  int max_tokens() const { return max_tokens_; }
  int unk_id() const { return unk_; }
  int cls_id() const { return cls_; }
  int sep_id() const { return sep_; }

 private:
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int> ids_;
  std::vector<std::pair<std::string, int>> specials_;  // matched in the raw text
  int max_tokens_;
  int unk_ = -1, cls_ = -1, sep_ = -1;
};

}  // namespace esact
