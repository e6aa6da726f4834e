#include "plugin_host.h"

#include <dlfcn.h>

#include <cstring>

namespace normbase::plugins {

std::unique_ptr<LoadedPlugin> LoadedPlugin::Load(const std::string& path, std::string* error) {
  // RTLD_LOCAL: two plugins may bundle different copies of the same library.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    *error = path + ": cannot load: " + dlerror();
    return nullptr;
  }
  auto fail = [&](const std::string& message) -> std::unique_ptr<LoadedPlugin> {
    *error = path + ": " + message;
    dlclose(handle);
    return nullptr;
  };
  auto entry = reinterpret_cast<nb_plugin_entry_fn>(dlsym(handle, NB_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr)
    return fail(std::string("no ") + NB_PLUGIN_ENTRY_SYMBOL + " symbol: not a Normbase plugin");
  const nb_plugin* d = entry(NB_PLUGIN_ABI_VERSION);
  if (d == nullptr)
    return fail("the plugin declined ABI version " + std::to_string(NB_PLUGIN_ABI_VERSION));
  // Only the first field is read before the version is known to match.
  if (d->abi_version != NB_PLUGIN_ABI_VERSION)
    return fail("built for plugin ABI " + std::to_string(d->abi_version) + ", this host speaks " +
                std::to_string(NB_PLUGIN_ABI_VERSION) + "; rebuild it against this SDK");
  if (d->name == nullptr || d->kind == nullptr || d->run == nullptr || d->free_output == nullptr)
    return fail("descriptor lacks name, kind, run or free_output");
  if (std::strcmp(d->kind, NB_PLUGIN_KIND_CHECK) != 0 &&
      std::strcmp(d->kind, NB_PLUGIN_KIND_ANALYSIS) != 0)
    return fail(std::string("unknown plugin kind '") + d->kind + "'");
  return std::unique_ptr<LoadedPlugin>(new LoadedPlugin(handle, d));
}

LoadedPlugin::~LoadedPlugin() { dlclose(handle_); }

RunOutcome LoadedPlugin::Run(const std::string& config_json, const std::string& input,
                             const nb_host* host) const {
  void* instance =
      descriptor_->create ? descriptor_->create(config_json.data(), config_json.size()) : nullptr;
  char* output = nullptr;
  size_t output_len = 0;
  RunOutcome outcome;
  outcome.code = descriptor_->run(instance, input.data(), input.size(), host, &output, &output_len);
  if (output != nullptr) {
    outcome.output.assign(output, output_len);
    descriptor_->free_output(output);
  }
  if (instance != nullptr && descriptor_->destroy != nullptr) descriptor_->destroy(instance);
  return outcome;
}

}  // namespace normbase::plugins
