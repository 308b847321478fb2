// The network file (docs/network-format.md): a whole BERT-style sentence encoder in fp32
// (configuration, vocabulary, embeddings, encoder layers), little-endian, CRC-32 protected.
// scripts/minilm/export_network.py writes it from the installed model package.
#pragma once

#include <stdexcept>
#include <string>

#include "golden/minilm.h"

namespace esact {

// Thrown by ReadNetworkFile; what() is "<path>: <field>: <reason>".
class NetworkFileError : public std::runtime_error {
 public:
  NetworkFileError(const std::string& path, const std::string& field, const std::string& reason)
      : std::runtime_error(path + ": " + field + ": " + reason), field_(field) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// Throws std::invalid_argument ("field: reason") unless CheckNetwork passes, and
// std::runtime_error if the file cannot be written.
void WriteNetworkFile(const std::string& path, const FloatNetwork& net);
// Reads and checks everything (magic, CRC, version, decoding, then CheckNetwork); the
// layers' copies of the configuration are filled in from it.
FloatNetwork ReadNetworkFile(const std::string& path);

}  // namespace esact
