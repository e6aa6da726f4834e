// "fault": a check plugin whose behaviour the test chooses through the
// proposal's rationale, to exercise the job bus against misbehaving plugins:
//   "crash"      segfaults the worker        "hang"      never returns
//   "garbage"    returns non-JSON as success "fail"      a failed check with a finding
//   "sleep:N"    sleeps N ms, then passes    "abort"     calls abort()
//   "big:N"      passes with N bytes of summary padding
//   "sleep-once:N" sleeps N ms on the first dispatch only (recovery benchmarks)
//   "alloc:N"    allocates and touches N MiB (memory limits)
// Anything else passes. Test-only: never installed.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "normbase/plugin.hpp"

namespace {

class Fault {
 public:
  static constexpr const char* kName = "fault";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kKind = NB_PLUGIN_KIND_CHECK;
  static constexpr const char* kDescription = "Misbehaves on request (tests only)";
  explicit Fault(const nlohmann::json&) {}

  nlohmann::json Run(normbase::sdk::Job& job) {
    const auto& in = job.input();
    std::string what;
    if (in.contains("proposal") && in["proposal"].is_object())
      what = in["proposal"].value("rationale", "");
    if (what == "crash") std::raise(SIGSEGV);
    if (what == "abort") std::abort();
    if (what == "hang")
      for (volatile bool forever = true; forever;) {
      }
    const bool first = !in.contains("job") || in["job"].value("attempt", 1) == 1;
    if (what.rfind("sleep:", 0) == 0 || (first && what.rfind("sleep-once:", 0) == 0)) {
      const int ms = std::atoi(what.c_str() + what.find(':') + 1);
      for (int i = 0; i < ms / 10; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (i % 20 == 0) job.Progress(double(i) / (ms / 10.0), "sleeping");
      }
    }
    if (what.rfind("alloc:", 0) == 0) {
      std::vector<char> block(size_t(std::atoi(what.c_str() + 6)) << 20, 1);  // throws std::bad_alloc past the limit
      if (block.back() != 1) throw std::runtime_error("unreachable");
    }
    if (what == "fail")
      return {{"status", "failed"},
              {"summary", "1 finding"},
              {"findings", {{{"severity", "error"}, {"field", "rationale"}, {"message", "asked to fail"}}}}};
    nlohmann::json out{{"status", "passed"}, {"summary", "ok"}, {"findings", nlohmann::json::array()}};
    if (what.rfind("big:", 0) == 0) out["padding"] = std::string(std::atoi(what.c_str() + 4), 'x');
    return out;
  }
};

}  // namespace

// "garbage" must reach the host as a successful run with non-JSON output, which
// the C++ helper cannot produce: wrap the adapter for that one case.
extern "C" __attribute__((visibility("default"))) const nb_plugin* normbase_plugin_entry(uint32_t v) {
  static nb_plugin d = *::normbase::sdk::detail::Descriptor<Fault>(v);
  static auto inner = d.run;
  d.run = [](void* inst, const char* input, size_t len, const nb_host* host, char** out,
             size_t* out_len) -> int {
    // The core writes its inputs without spaces: a text search spares every
    // job a second parse of its whole input.
    if (std::string_view(input, len).find(R"("rationale":"garbage")") != std::string_view::npos)
      return ::normbase::sdk::detail::Emit("this is {not json", out, out_len);
    return inner(inst, input, len, host, out, out_len);
  };
  return &d;
}
