// A minimal host side of the plugin ABI (normbase/plugin.h): dlopen() a plugin,
// check its descriptor, run one job. Used by normbase-plugin-run (a tool for
// plugin authors) and by the plugin tests; normbase-worker has its own host
// with time and memory limits. Not thread-safe per instance: one job at a time.
#pragma once

#include <memory>
#include <string>

#include "normbase/plugin.h"

namespace normbase::plugins {

struct RunOutcome {
  int code = NB_PLUGIN_FAILED;  // NB_PLUGIN_OK, NB_PLUGIN_BAD_INPUT, NB_PLUGIN_FAILED
  std::string output;           // result JSON, or the message
};

class LoadedPlugin {
 public:
  // Loads `path` and checks that the descriptor has this host's ABI version and
  // the mandatory fields. On failure returns null and sets *error to a message
  // naming the file and what is wrong (e.g. both ABI versions).
  static std::unique_ptr<LoadedPlugin> Load(const std::string& path, std::string* error);
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const nb_plugin& descriptor() const { return *descriptor_; }
  // Creates an instance with `config_json` (the plugin may keep none) and runs
  // one job on it with the host services `host` (may be null); the output
  // buffer is released through free_output().
  RunOutcome Run(const std::string& config_json, const std::string& input,
                 const nb_host* host = nullptr) const;

 private:
  LoadedPlugin(void* handle, const nb_plugin* d) : handle_(handle), descriptor_(d) {}
  void* handle_;
  const nb_plugin* descriptor_;
};

}  // namespace normbase::plugins
