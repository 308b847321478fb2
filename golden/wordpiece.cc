#include "golden/wordpiece.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <stdexcept>

namespace esact {
namespace {

struct CodeRange {
  uint32_t first, last;
};
struct CodeMap {
  uint32_t from, to;
};
struct CodeMulti {
  uint32_t from;
  uint32_t to[3];  // 0-terminated when shorter
};

#include "golden/wordpiece_table.inc"

constexpr uint32_t kReplacement = 0xFFFD;
constexpr uint32_t kSpace = 0x20;

template <size_t N>
bool InRanges(const CodeRange (&table)[N], uint32_t cp) {
  const CodeRange* it =
      std::upper_bound(std::begin(table), std::end(table), cp,
                       [](uint32_t c, const CodeRange& r) { return c < r.first; });
  return it != std::begin(table) && cp <= std::prev(it)->last;
}

template <typename Entry, size_t N>
const Entry* Find(const Entry (&table)[N], uint32_t cp) {
  const Entry* it = std::lower_bound(std::begin(table), std::end(table), cp,
                                     [](const Entry& e, uint32_t c) { return e.from < c; });
  return it != std::end(table) && it->from == cp ? it : nullptr;
}

// Hangul syllables decompose algorithmically (Unicode chapter 3.12); the table generator
// checks that the reference does exactly this.
constexpr uint32_t kHangulFirst = 0xAC00;
constexpr uint32_t kHangulLast = 0xD7A3;
void AppendHangul(uint32_t cp, std::vector<uint32_t>& out) {
  const uint32_t s = cp - kHangulFirst;
  out.push_back(0x1100 + s / 588);
  out.push_back(0x1161 + (s % 588) / 28);
  if (s % 28 != 0) out.push_back(0x11A7 + s % 28);
}

// Decodes UTF-8; each byte of an ill-formed sequence (bad lead or continuation byte,
// overlong form, surrogate, beyond U+10FFFF, cut short) becomes U+FFFD.
std::vector<uint32_t> DecodeUtf8(const std::string& s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    int len = 0;
    uint32_t cp = 0, min = 0;
    if (b < 0x80) {
      len = 1, cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, cp = b & 0x07, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const uint8_t c = static_cast<uint8_t>(s[i + k]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out.push_back(cp);
      i += len;
    } else {
      out.push_back(kReplacement);
      ++i;
    }
  }
  return out;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string EncodeUtf8(const uint32_t* cps, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) AppendUtf8(cps[i], out);
  return out;
}

// The normalizer on code points.
std::vector<uint32_t> NormalizeCodes(const std::vector<uint32_t>& in) {
  std::vector<uint32_t> out;
  out.reserve(in.size());
  for (uint32_t cp : in) {
    if (InRanges(kWordPieceDrop, cp)) continue;
    if (InRanges(kWordPieceSpace, cp)) {
      out.push_back(kSpace);
    } else if (InRanges(kWordPiecePad, cp)) {
      out.insert(out.end(), {kSpace, cp, kSpace});
    } else if (cp >= kHangulFirst && cp <= kHangulLast) {
      AppendHangul(cp, out);
    } else if (const CodeMap* m = Find(kWordPieceMap, cp)) {
      out.push_back(m->to);
    } else if (const CodeMap* p = Find(kWordPiecePadMap, cp)) {
      out.insert(out.end(), {kSpace, p->to, kSpace});
    } else if (const CodeMulti* u = Find(kWordPieceMulti, cp)) {
      for (uint32_t c : u->to) {
        if (c != 0) out.push_back(c);
      }
    } else {
      out.push_back(cp);
    }
  }
  return out;
}

// The pre-tokenizer on normalized code points: split at spaces, punctuation alone.
std::vector<std::vector<uint32_t>> SplitWords(const std::vector<uint32_t>& text) {
  std::vector<std::vector<uint32_t>> words;
  std::vector<uint32_t> word;
  const auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (uint32_t cp : text) {
    if (cp == kSpace) {
      flush();
    } else if (InRanges(kWordPiecePunct, cp)) {
      flush();
      words.push_back({cp});
    } else {
      word.push_back(cp);
    }
  }
  flush();
  return words;
}

// The special tokens the reference matches in raw text (its "added tokens").
constexpr const char* kSpecialTokens[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

}  // namespace

std::string BertNormalize(const std::string& text) {
  const std::vector<uint32_t> cps = NormalizeCodes(DecodeUtf8(text));
  return EncodeUtf8(cps.data(), cps.size());
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, int max_tokens)
    : vocab_(std::move(vocab)), max_tokens_(max_tokens) {
  if (max_tokens_ < 2) {
    throw std::invalid_argument(fmt::format(
        "WordPieceTokenizer: max_tokens {} leaves no room for [CLS] and [SEP]", max_tokens_));
  }
  ids_.reserve(vocab_.size());
  for (size_t i = 0; i < vocab_.size(); ++i) {
    if (vocab_[i].empty()) {
      throw std::invalid_argument(fmt::format("WordPieceTokenizer: token {} is empty", i));
    }
    if (!ids_.emplace(vocab_[i], static_cast<int>(i)).second) {
      throw std::invalid_argument(fmt::format("WordPieceTokenizer: token {} '{}' repeats token {}",
                                              i, vocab_[i], ids_.at(vocab_[i])));
    }
  }
  for (const char* special : kSpecialTokens) {
    const int id = TokenId(special);
    if (id >= 0) specials_.emplace_back(special, id);
  }
  unk_ = TokenId("[UNK]");
  cls_ = TokenId("[CLS]");
  sep_ = TokenId("[SEP]");
  for (const char* need : {"[UNK]", "[CLS]", "[SEP]"}) {
    if (TokenId(need) < 0) {
      throw std::invalid_argument(
          fmt::format("WordPieceTokenizer: the vocabulary has no {}", need));
    }
  }
}

int WordPieceTokenizer::TokenId(const std::string& token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<std::string> WordPieceTokenizer::PreTokenize(const std::string& text) const {
  std::vector<std::string> out;
  for (const std::vector<uint32_t>& w : SplitWords(NormalizeCodes(DecodeUtf8(text)))) {
    out.push_back(EncodeUtf8(w.data(), w.size()));
  }
  return out;
}

std::vector<int> WordPieceTokenizer::WordPiece(const std::string& word) const {
  const std::vector<uint32_t> cps = DecodeUtf8(word);
  if (cps.empty()) return {};
  if (cps.size() > static_cast<size_t>(kMaxWordChars)) return {unk_};
  std::vector<int> pieces;
  size_t start = 0;
  while (start < cps.size()) {
    int found = -1;
    size_t end = cps.size();
    for (; end > start; --end) {
      const std::string piece = (start > 0 ? "##" : "") + EncodeUtf8(&cps[start], end - start);
      found = TokenId(piece);
      if (found >= 0) break;
    }
    if (found < 0) return {unk_};
    pieces.push_back(found);
    start = end;
  }
  return pieces;
}

std::vector<int> WordPieceTokenizer::Tokenize(const std::string& text) const {
  std::vector<int> ids;
  const auto add_segment = [&](const std::string& segment) {
    for (const std::vector<uint32_t>& w : SplitWords(NormalizeCodes(DecodeUtf8(segment)))) {
      const std::vector<int> p = WordPiece(EncodeUtf8(w.data(), w.size()));
      ids.insert(ids.end(), p.begin(), p.end());
    }
  };
  // Leftmost special token first; none of them is a prefix of another.
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t best = std::string::npos;
    const std::pair<std::string, int>* match = nullptr;
    for (const auto& s : specials_) {
      const size_t at = text.find(s.first, pos);
      if (at < best) best = at, match = &s;
    }
    if (match == nullptr) {
      add_segment(text.substr(pos));
      break;
    }
    add_segment(text.substr(pos, best - pos));
    ids.push_back(match->second);
    pos = best + match->first.size();
  }
  return ids;
}

std::vector<int> WordPieceTokenizer::Encode(const std::string& text) const {
  std::vector<int> pieces = Tokenize(text);
  if (pieces.size() > static_cast<size_t>(max_tokens_ - 2)) pieces.resize(max_tokens_ - 2);
  std::vector<int> ids;
  ids.reserve(pieces.size() + 2);
  ids.push_back(cls_);
  ids.insert(ids.end(), pieces.begin(), pieces.end());
  ids.push_back(sep_);
  return ids;
}

}  // namespace esact
