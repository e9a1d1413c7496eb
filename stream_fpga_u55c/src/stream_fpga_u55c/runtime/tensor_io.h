// Binary tensor files shared by the C-simulation testbench and the XRT host program: raw little-endian
// float32, row-major, no header (numpy: array.astype('<f4').tofile(path)).
#pragma once

#include <cstddef>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

inline void read_tensor(const std::string& path, float* dst, std::size_t count) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot open " + path);
  const std::streamoff bytes = in.tellg();
  if (bytes != static_cast<std::streamoff>(count * sizeof(float)))
    throw std::runtime_error(path + ": expected " + std::to_string(count * sizeof(float)) + " bytes, found " +
                             std::to_string(bytes));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(count * sizeof(float)));
}

inline void write_tensor(const std::string& path, const float* src, std::size_t count) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  out.write(reinterpret_cast<const char*>(src), static_cast<std::streamsize>(count * sizeof(float)));
}
