// The on-disk layer format (docs/layer-format.md): configuration, quantization parameters,
// weights and input of one encoder layer, little-endian, CRC-32 protected.
#pragma once

#include <stdexcept>
#include <string>

#include "golden/layer.h"

namespace esact {

struct LayerFile {
  LayerParams params;
  SplsConfig spls;  // the run configuration the file suggests
  int n_tokens = 0;
  int n_valid = 0;
  Matrix<int8_t> x;  // n_tokens x d_model
};

// Thrown by ReadLayerFile; what() is "<path>: <field>: <reason>".
class LayerFileError : public std::runtime_error {
 public:
  LayerFileError(const std::string& path, const std::string& field, const std::string& reason)
      : std::runtime_error(path + ": " + field + ": " + reason), field_(field) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

void WriteLayerFile(const std::string& path, const LayerFile& f);
LayerFile ReadLayerFile(const std::string& path);

}  // namespace esact
