/* A plugin built against a future ABI (version 99): the worker must refuse it
 * without calling anything but the entry point. Test-only. */
#include <stddef.h>
#include <stdint.h>

struct future_plugin {
  uint32_t abi_version;
  const char* name;
};

static const struct future_plugin kDescriptor = {99u, "from-the-future"};

extern "C" __attribute__((visibility("default"))) const void* normbase_plugin_entry(uint32_t host_abi_version) {
  (void)host_abi_version;
  return &kDescriptor;
}
