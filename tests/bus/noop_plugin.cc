// "noop": a check plugin that passes every job without reading its input, so
// the job pipeline benchmark (tests/bench/job_pipeline.cc) measures the bus and
// the core, not a plugin's JSON parser. Written against the C ABI directly: the
// C++ SDK parses every input before calling the plugin. Test-only: never installed.
#include <cstdlib>
#include <cstring>

#include "normbase/plugin.h"

namespace {

constexpr char kPassed[] = R"({"status":"passed","summary":"ok","findings":[]})";

int Run(void*, const char*, size_t, const nb_host*, char** output, size_t* output_len) {
  *output_len = sizeof kPassed - 1;
  *output = static_cast<char*>(std::malloc(*output_len));
  if (*output == nullptr) return NB_PLUGIN_FAILED;
  std::memcpy(*output, kPassed, *output_len);
  return NB_PLUGIN_OK;
}

void FreeOutput(char* output) { std::free(output); }

const nb_plugin kDescriptor = {NB_PLUGIN_ABI_VERSION,
                               "noop",
                               "1.0.0",
                               NB_PLUGIN_KIND_CHECK,
                               "Passes without reading its input (benchmarks only)",
                               nullptr,
                               nullptr,
                               Run,
                               FreeOutput};

}  // namespace

extern "C" __attribute__((visibility("default"))) const nb_plugin* normbase_plugin_entry(
    uint32_t v) {
  return v == NB_PLUGIN_ABI_VERSION ? &kDescriptor : nullptr;
}
