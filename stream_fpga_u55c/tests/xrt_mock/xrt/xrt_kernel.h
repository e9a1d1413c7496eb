// Test-only stand-in for the XRT native API (see xrt_device.h).
#pragma once
#include <string>

#include "xrt/xrt_bo.h"
#include "xrt/xrt_device.h"

namespace xrt {
class run {
 public:
  void wait();
};
class kernel {
 public:
  kernel(const device& d, const uuid& id, const std::string& name);
  int group_id(int argument) const;
  template <typename... Args>
  run operator()(Args&&... args);
};
}  // namespace xrt
