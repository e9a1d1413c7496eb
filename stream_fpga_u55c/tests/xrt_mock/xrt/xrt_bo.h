// Test-only stand-in for the XRT native API (see xrt_device.h).
#pragma once
#include <cstddef>

#include "xrt/xrt_device.h"

enum xclBOSyncDirection { XCL_BO_SYNC_BO_TO_DEVICE, XCL_BO_SYNC_BO_FROM_DEVICE };

namespace xrt {
class bo {
 public:
  bo(const device& d, std::size_t bytes, int memory_group);
  template <typename T>
  T map();
  void sync(xclBOSyncDirection direction);
};
}  // namespace xrt
