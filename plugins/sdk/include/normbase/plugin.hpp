// normbase/plugin.hpp — a thin, header-only C++ layer over the C ABI in
// normbase/plugin.h, so that a plugin author writes one class:
//
//   class Evidence {
//    public:
//     static constexpr const char* kName = "evidence";
//     static constexpr const char* kVersion = "1.0.0";
//     static constexpr const char* kKind = NB_PLUGIN_KIND_CHECK;
//     static constexpr const char* kDescription = "Every coded element has a quote.";
//     explicit Evidence(const nlohmann::json& config);
//     nlohmann::json Run(normbase::sdk::Job& job);   // throws BadInput / anything
//   };
//   NORMBASE_PLUGIN(Evidence)
//
// Exceptions never cross the C boundary: BadInput becomes NB_PLUGIN_BAD_INPUT,
// any other exception NB_PLUGIN_FAILED, each with its what() as the message.
// The constructor receives the instance configuration given to create(); if it
// throws (or the configuration is not a JSON object), every run() of that
// instance fails with NB_PLUGIN_BAD_INPUT naming the problem, rather than
// running with defaults nobody asked for.
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "normbase/plugin.h"

namespace normbase::sdk {

// Thrown by a plugin when the job's input is not what it expects.
class BadInput : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One running job: its parsed input and the host's services.
class Job {
 public:
  Job(nlohmann::json input, const nb_host* host) : input_(std::move(input)), host_(host) {}
  const nlohmann::json& input() const { return input_; }
  void Progress(double fraction, const std::string& message = {}) const {
    if (host_ != nullptr && host_->progress != nullptr)
      host_->progress(host_->ctx, fraction, message.empty() ? nullptr : message.c_str());
  }
  bool Cancelled() const {
    return host_ != nullptr && host_->cancelled != nullptr && host_->cancelled(host_->ctx) != 0;
  }

 private:
  nlohmann::json input_;
  const nb_host* host_;
};

namespace detail {

inline int Emit(const std::string& text, char** output, size_t* output_len) {
  // malloc, not new: free_output is the matching release and the host may be
  // written in C.
  char* buffer = static_cast<char*>(std::malloc(text.size() + 1));
  if (buffer == nullptr) return NB_PLUGIN_FAILED;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  *output = buffer;
  *output_len = text.size();
  return NB_PLUGIN_OK;
}

// What create() hands the host: the plugin, or the reason it could not be
// built. A configuration that does not parse or that the plugin's constructor
// rejects must not be silently replaced by the defaults, so the failure is kept
// and every run() of the instance reports it as NB_PLUGIN_BAD_INPUT.
template <class Plugin>
struct Instance {
  std::unique_ptr<Plugin> plugin;
  std::string config_error;
};

template <class Plugin>
struct Adapter {
  static void* Create(const char* config, size_t len) noexcept {
    auto* instance = new (std::nothrow) Instance<Plugin>();  // owned by the host through Destroy()
    if (instance == nullptr) return nullptr;
    try {
      auto parsed = len == 0 ? nlohmann::json::object() : nlohmann::json::parse(config, config + len);
      if (!parsed.is_object()) throw BadInput("configuration: expected a JSON object");
      instance->plugin = std::make_unique<Plugin>(parsed);
    } catch (const std::exception& e) {
      instance->config_error = std::string("configuration of ") + Plugin::kName + ": " + e.what();
      if (instance->config_error.empty()) instance->config_error = "configuration rejected";
    } catch (...) {
      instance->config_error = std::string("configuration of ") + Plugin::kName + " rejected";
    }
    return instance;
  }
  static void Destroy(void* instance) noexcept { delete static_cast<Instance<Plugin>*>(instance); }
  static int Run(void* instance, const char* input, size_t input_len, const nb_host* host,
                 char** output, size_t* output_len) noexcept {
    *output = nullptr;
    *output_len = 0;
    std::unique_ptr<Plugin> fallback;
    try {
      Plugin* plugin = nullptr;
      if (instance != nullptr) {
        auto* inst = static_cast<Instance<Plugin>*>(instance);
        if (!inst->config_error.empty()) throw BadInput(inst->config_error);
        plugin = inst->plugin.get();
      }
      if (plugin == nullptr) {  // the host called run() without create(): default configuration
        fallback = std::make_unique<Plugin>(nlohmann::json::object());
        plugin = fallback.get();
      }
      nlohmann::json parsed;
      try {
        parsed = nlohmann::json::parse(input, input + input_len);
      } catch (const nlohmann::json::exception& e) {
        throw BadInput(std::string("input is not JSON: ") + e.what());
      }
      Job job(std::move(parsed), host);
      nlohmann::json result = plugin->Run(job);
      return Emit(result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), output,
                  output_len);
    } catch (const BadInput& e) {
      Emit(e.what(), output, output_len);
      return NB_PLUGIN_BAD_INPUT;
    } catch (const std::exception& e) {
      Emit(e.what(), output, output_len);
      return NB_PLUGIN_FAILED;
    } catch (...) {
      Emit("unknown exception", output, output_len);
      return NB_PLUGIN_FAILED;
    }
  }
  static void FreeOutput(char* output) noexcept { std::free(output); }
};

template <class Plugin>
const nb_plugin* Descriptor(uint32_t host_abi_version) {
  static const nb_plugin descriptor = {
      NB_PLUGIN_ABI_VERSION, Plugin::kName,     Plugin::kVersion,
      Plugin::kKind,         Plugin::kDescription, &Adapter<Plugin>::Create,
      &Adapter<Plugin>::Destroy, &Adapter<Plugin>::Run, &Adapter<Plugin>::FreeOutput,
  };
  // Always answer: the host reads abi_version (the first field, the same in
  // every version) and refuses a mismatch naming both versions.
  (void)host_abi_version;
  return &descriptor;
}

}  // namespace detail
}  // namespace normbase::sdk

#define NORMBASE_PLUGIN(PluginClass)                                                    \
  extern "C" __attribute__((visibility("default"))) const nb_plugin* normbase_plugin_entry( \
      uint32_t host_abi_version) {                                                      \
    return ::normbase::sdk::detail::Descriptor<PluginClass>(host_abi_version);          \
  }
