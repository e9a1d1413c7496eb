// Test-only stand-in for the XRT native API (declarations only, our own): lets g++ -fsyntax-only check that
// the generated host program uses the documented calls (xrt::device, load_xclbin, xrt::kernel, group_id,
// xrt::bo, map, sync, run.wait). Not an implementation.
#pragma once
#include <string>

namespace xrt {
class uuid {};
class device {
 public:
  explicit device(unsigned int index);
  uuid load_xclbin(const std::string& path);
};
}  // namespace xrt
