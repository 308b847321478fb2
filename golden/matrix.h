// Row-major dense matrix used by every golden function.
#pragma once

#include <cassert>
#include <cstddef>
#include <vector>

namespace esact {

template <typename T>
struct Matrix {
  int rows = 0;
  int cols = 0;
  std::vector<T> data;

  Matrix() = default;
  Matrix(int r, int c, T fill = T{}) : rows(r), cols(c), data(static_cast<size_t>(r) * c, fill) {}

  T& at(int r, int c) {
    assert(r >= 0 && r < rows && c >= 0 && c < cols);
    return data[static_cast<size_t>(r) * cols + c];
  }
  const T& at(int r, int c) const {
    assert(r >= 0 && r < rows && c >= 0 && c < cols);
    return data[static_cast<size_t>(r) * cols + c];
  }
  T* row(int r) { return &data[static_cast<size_t>(r) * cols]; }
  const T* row(int r) const { return &data[static_cast<size_t>(r) * cols]; }
  bool operator==(const Matrix& o) const {
    return rows == o.rows && cols == o.cols && data == o.data;
  }
  bool operator!=(const Matrix& o) const { return !(*this == o); }
};

}  // namespace esact
