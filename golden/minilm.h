// A BERT-style sentence encoder in floating point: all-MiniLM-L6-v2 as exported by
// scripts/minilm/export_network.py (docs/minilm.md, docs/network-format.md).
//
//   ids  = WordPieceTokenizer::Encode(text)             [CLS] ... [SEP], <= max_tokens
//   x    = LN(word[id_i] + position[i] + token_type[0])  embeddings, one row per token
//   x    = RunLayerFloat(layer_l, x)                     l = 0 .. n_layers - 1
//   e    = mean of the rows of x                          over the n tokens
//   emb  = e / max(|e|_2, 1e-12)                          the sentence embedding
#pragma once

#include <string>
#include <vector>

#include "golden/field_check.h"
#include "golden/layer.h"
#include "golden/layer_io.h"
#include "golden/matrix.h"
#include "golden/wordpiece.h"

namespace esact {

// Bound on n_layers in a network file.
constexpr int kMaxNetworkLayers = 64;
// Bound on the bytes of one vocabulary token in a network file.
constexpr int kMaxTokenBytes = 1024;

// The enum codes of the network file; each has one defined value so far.
enum class Activation : uint8_t { kGeluErf = 0 };
enum class Pooling : uint8_t { kMeanL2 = 0 };             // mean over the tokens, L2 normalization
enum class TokenizerKind : uint8_t { kBertUncased = 0 };  // golden/wordpiece.h

struct FloatNetwork {
  int vocab_size = 0;
  int max_positions = 0;
  int type_vocab_size = 0;
  int d_model = 0;
  int n_heads = 0;
  int d_ff = 0;
  int n_layers = 0;
  int max_tokens = 0;  // the tokenizer truncates to this many ids, [CLS] and [SEP] included
  float ln_eps = 1e-12f;
  Activation activation = Activation::kGeluErf;
  Pooling pooling = Pooling::kMeanL2;
  TokenizerKind tokenizer = TokenizerKind::kBertUncased;
  std::vector<std::string> vocab;        // vocab_size tokens, id = index
  Matrix<float> word;                    // vocab_size x d_model
  Matrix<float> position;                // max_positions x d_model
  Matrix<float> token_type;              // type_vocab_size x d_model
  std::vector<float> ln_gamma, ln_beta;  // embedding LayerNorm, d_model each
  std::vector<FloatLayer>
      layers;  // n_layers; their d_model, n_heads, d_ff, ln_eps are the network's
};

// The rules a network obeys, in the order and with the field names of the network file
// (docs/network-format.md): the configuration ranges, the vocabulary (vocab_size distinct
// non-empty tokens of at most kMaxTokenBytes bytes, with [PAD], [UNK], [CLS] and [SEP]),
// every shape, every layer's copy of the configuration, and every parameter finite.
FieldProblem CheckNetwork(const FloatNetwork& net);

// The tokenizer of the network's vocabulary and max_tokens.
WordPieceTokenizer MakeTokenizer(const FloatNetwork& net);

// Embeddings of ids (token type 0, positions 0 .. n-1) followed by the embedding LayerNorm,
// as n_rows x d_model with rows [ids.size(), n_rows) zero. Throws std::invalid_argument for
// an id outside the vocabulary, more ids than max_positions or n_rows, or no ids.
Matrix<float> EmbedTokens(const FloatNetwork& net, const std::vector<int>& ids, int n_rows);

// Layers [first, last) of the network on rows [0, n_valid) of x (RunLayerFloat each).
Matrix<float> RunEncoderFloat(const FloatNetwork& net, const Matrix<float>& x, int n_valid,
                              int first = 0, int last = -1);

// Mean of rows [0, n_valid) of x, divided by max(L2 norm, 1e-12) (sentence-transformers'
// Pooling + Normalize).
std::vector<float> MeanPoolNormalize(const Matrix<float>& x, int n_valid);

// The whole network on token ids: the sentence embedding, d_model floats of norm 1.
std::vector<float> SentenceEmbeddingFloat(const FloatNetwork& net, const std::vector<int>& ids);

// The fp32 input of layer `layer` for ids: the embeddings run through layers [0, layer),
// n_rows x d_model with rows [ids.size(), n_rows) zero.
Matrix<float> LayerInputFloat(const FloatNetwork& net, int layer, const std::vector<int>& ids,
                              int n_rows);

// One layer of the network for the hardware (docs/minilm.md, "One real layer"):
// QuantizeLayer calibrated on calib_ids (each sequence run on its own), and the input of
// input_ids padded to n_tokens rows, quantized with the layer's x_scale; the file's SPLS
// configuration is DefaultSplsConfig(n_valid).
struct NetworkLayer {
  LayerFile file;
  Matrix<float> x_fp32;  // the unquantized input, n_tokens x d_model
};
NetworkLayer MakeNetworkLayer(const FloatNetwork& net, int layer, const std::vector<int>& input_ids,
                              const std::vector<std::vector<int>>& calib_ids, int n_tokens);

}  // namespace esact
