#include "plugin_host.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace normbase::worker {
namespace fs = std::filesystem;

namespace {

bool ValidName(const char* s) {
  if (s == nullptr || *s == '\0' || std::strlen(s) > 64) return false;
  for (const char* c = s; *c; ++c)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-')) return false;
  return true;
}

}  // namespace

Result<std::unique_ptr<PluginHost>> PluginHost::Load(const std::string& dir, const std::vector<std::string>& only) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("plugin directory " + dir + " does not exist");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".so") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::unique_ptr<PluginHost> host(new PluginHost());
  for (const auto& file : files) {
    const std::string path = file.string();
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      host->refused_.push_back({path, std::string("cannot load: ") + ::dlerror()});
      continue;
    }
    host->handles_.push_back(handle);
    auto entry = reinterpret_cast<nb_plugin_entry_fn>(::dlsym(handle, NB_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) {
      host->refused_.push_back({path, "exports no " NB_PLUGIN_ENTRY_SYMBOL "(): not a Normbase plugin"});
      continue;
    }
    const nb_plugin* api = entry(NB_PLUGIN_ABI_VERSION);
    if (api == nullptr) {
      host->refused_.push_back({path, "declined plugin ABI version " + std::to_string(NB_PLUGIN_ABI_VERSION) +
                                          " (it was built for another one): rebuild it against this SDK"});
      continue;
    }
    // abi_version is the first field in every version: safe to read before anything else.
    if (api->abi_version != NB_PLUGIN_ABI_VERSION) {
      host->refused_.push_back({path, "was built for plugin ABI version " + std::to_string(api->abi_version) +
                                          " but this worker loads version " + std::to_string(NB_PLUGIN_ABI_VERSION) +
                                          ": rebuild it against the installed SDK (normbase/plugin.h)"});
      continue;
    }
    if (!ValidName(api->name) || api->run == nullptr || api->free_output == nullptr || api->kind == nullptr ||
        (std::strcmp(api->kind, NB_PLUGIN_KIND_CHECK) != 0 && std::strcmp(api->kind, NB_PLUGIN_KIND_ANALYSIS) != 0)) {
      host->refused_.push_back({path, "has a malformed descriptor (name [a-z0-9-]+, kind check|analysis, run and "
                                      "free_output are required)"});
      continue;
    }
    const std::string name = api->name;
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    if (host->plugins_.count(name)) {
      host->refused_.push_back({path, "plugin '" + name + "' is also in " + host->plugins_[name].path});
      continue;
    }
    host->plugins_[name] = LoadedPlugin{path, api};
  }
  return host;
}

PluginHost::~PluginHost() {
  for (void* h : handles_) ::dlclose(h);
}

const LoadedPlugin* PluginHost::Find(const std::string& name) const {
  auto it = plugins_.find(name);
  return it == plugins_.end() ? nullptr : &it->second;
}

PluginHost::Outcome PluginHost::Run(const LoadedPlugin& p, void* instance, const std::string& input,
                                    const nb_host* host) {
  char* out = nullptr;
  size_t out_len = 0;
  Outcome o;
  o.code = p.api->run(instance, input.data(), input.size(), host, &out, &out_len);
  if (out != nullptr) {
    o.output.assign(out, out_len);
    p.api->free_output(out);
  }
  if (o.code != NB_PLUGIN_OK && o.code != NB_PLUGIN_BAD_INPUT && o.code != NB_PLUGIN_FAILED) {
    o.output = "the plugin returned unknown code " + std::to_string(o.code);
    o.code = NB_PLUGIN_FAILED;
  }
  return o;
}

}  // namespace normbase::worker
