// Minimal .npy reader/writer for float32 tensors: numpy reads and writes the same files with
// np.load / np.save, so the host needs no Python and no third-party image library.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ck {

// A failure reading or writing a tensor file; the message says what is wrong and what to do.
struct FileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FloatArray {
  std::vector<int64_t> shape;
  std::vector<float> data;  // C order
};

// Reads a little-endian float32 C-order .npy (format 1.0, 2.0 or 3.0).
FloatArray read_npy(const std::string& path);

// Writes a float32 .npy (format 1.0) via a temporary file renamed into place: never a partial file.
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data);

}  // namespace ck
