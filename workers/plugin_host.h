// PluginHost: the plugins a worker loaded from its plugin directory, each a
// shared library speaking the C ABI of normbase/plugin.h. A library built for
// another ABI version (or missing the entry point, or with a malformed
// descriptor) is refused with a message saying why and what to do; it is
// never called. Libraries stay loaded for the host's lifetime.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "domain/status.h"
#include "normbase/plugin.h"

namespace normbase::worker {

struct LoadedPlugin {
  std::string path;
  const nb_plugin* api = nullptr;  // owned by the library
};

struct PluginRefusal {
  std::string path;
  std::string reason;
};

class PluginHost {
 public:
  // Loads every *.so in `dir` (not recursive), in name order. `only`: when
  // non-empty, just these plugin names.
  static Result<std::unique_ptr<PluginHost>> Load(const std::string& dir, const std::vector<std::string>& only);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  const LoadedPlugin* Find(const std::string& name) const;
  const std::map<std::string, LoadedPlugin>& plugins() const { return plugins_; }
  const std::vector<PluginRefusal>& refused() const { return refused_; }

  // Runs one job on the calling thread. Output or an error message.
  struct Outcome {
    int code = NB_PLUGIN_FAILED;
    std::string output;  // result JSON (code OK) or message
  };
  static Outcome Run(const LoadedPlugin& p, void* instance, const std::string& input, const nb_host* host);

 private:
  PluginHost() = default;
  std::map<std::string, LoadedPlugin> plugins_;
  std::vector<PluginRefusal> refused_;
  std::vector<void*> handles_;  // dlopen handles, closed in the destructor
};

}  // namespace normbase::worker
