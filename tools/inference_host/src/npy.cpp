#include "npy.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>

namespace ck {
namespace {

const char kMagic[] = "\x93NUMPY";
const size_t kMagicLen = 6;

bool host_is_little_endian() {
  const uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

std::string header_field(const std::string& header, const std::string& key, const std::string& path) {
  // The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 8, 8), }
  const std::regex pattern("['\"]" + key + "['\"]\\s*:\\s*(\\([^)]*\\)|'[^']*'|\"[^\"]*\"|True|False)");
  std::smatch match;
  if (!std::regex_search(header, match, pattern)) {
    throw FileError(path + ": .npy header has no '" + key + "' entry (header: " + header + ")");
  }
  return match[1].str();
}

std::vector<int64_t> parse_shape(const std::string& tuple, const std::string& path) {
  std::vector<int64_t> shape;
  std::string inner = tuple.substr(1, tuple.size() - 2);
  std::stringstream stream(inner);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;  // trailing comma of a 1-tuple
    const auto last = item.find_last_not_of(" \tL");
    const std::string digits = item.substr(first, last - first + 1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
      throw FileError(path + ": .npy shape " + tuple + " is not a tuple of sizes");
    }
    shape.push_back(std::stoll(digits));
  }
  return shape;
}

}  // namespace

FloatArray read_npy(const std::string& path) {
  if (!host_is_little_endian()) throw FileError("this host reads .npy only on little-endian machines");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw FileError("input tensor file not found: " + path + " (write one with numpy.save)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open input tensor file " + path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  if (bytes.size() < kMagicLen + 4 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0) {
    throw FileError(path + " is not a .npy file (write the input with numpy.save)");
  }
  const auto major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0;
  size_t offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw FileError(path + ": truncated .npy header");
    uint32_t len32;
    std::memcpy(&len32, bytes.data() + 8, 4);
    header_len = len32;
    offset = 12;
  } else {
    throw FileError(path + ": unsupported .npy format version " + std::to_string(major));
  }
  if (bytes.size() < offset + header_len) throw FileError(path + ": truncated .npy header");
  const std::string header(bytes.data() + offset, header_len);
  offset += header_len;

  std::string descr = header_field(header, "descr", path);
  descr = descr.substr(1, descr.size() - 2);
  if (descr != "<f4" && descr != "=f4" && descr != "f4") {
    throw FileError(path + ": tensor dtype is '" + descr +
                    "'; the host reads little-endian float32 only (save numpy.asarray(x, dtype='<f4'))");
  }
  if (header_field(header, "fortran_order", path) != "False") {
    throw FileError(path + ": Fortran-ordered array; save numpy.ascontiguousarray(x) instead");
  }
  const std::string shape_text = header_field(header, "shape", path);
  if (shape_text.front() != '(') throw FileError(path + ": .npy shape is not a tuple");

  FloatArray array;
  array.shape = parse_shape(shape_text, path);
  uint64_t count = 1;
  for (const auto size : array.shape) {
    if (size < 0 || (size > 0 && count > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(size))) {
      throw FileError(path + ": .npy shape " + shape_text + " is out of range");
    }
    count *= static_cast<uint64_t>(size);
  }
  const uint64_t expected = count * sizeof(float);
  const uint64_t present = bytes.size() - offset;
  if (present != expected) {
    throw FileError(path + ": holds " + std::to_string(present) + " data bytes, shape " + shape_text + " needs " +
                    std::to_string(expected) + " (truncated or corrupt file)");
  }
  array.data.resize(count);
  if (count) std::memcpy(array.data.data(), bytes.data() + offset, expected);
  return array;
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data) {
  std::string shape_text = "(";
  uint64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    shape_text += std::to_string(shape[i]);
    shape_text += (shape.size() == 1 || i + 1 < shape.size()) ? "," : "";
    if (i + 1 < shape.size()) shape_text += " ";
    count *= static_cast<uint64_t>(shape[i]);
  }
  shape_text += ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text + ", }";
  // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64 bytes.
  const size_t unpadded = kMagicLen + 2 + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 65535) throw FileError("tensor shape too long for a .npy 1.0 header");

  const std::filesystem::path target(path);
  std::filesystem::path temp = target;
  temp += ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw FileError("cannot write output tensor file " + temp.string() + " (does the folder exist?)");
    out.write(kMagic, kMagicLen);
    const char version[2] = {1, 0};
    out.write(version, 2);
    const uint16_t len = static_cast<uint16_t>(header.size());
    const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
    out.write(len_bytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(float)));
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw FileError("failed writing output tensor file " + temp.string() + " (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw FileError("cannot move the output into place at " + path + ": " + ec.message());
  }
}

}  // namespace ck
