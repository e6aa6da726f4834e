// What the built-in plugins share: the configuration rule (the job's "config"
// member overrides the instance configuration given to create(), key by key)
// and the translation of the analysis core's InputError into the SDK's
// BadInput, so that a malformed job becomes NB_PLUGIN_BAD_INPUT with the
// message naming the member at fault. The host's progress and cancellation
// services reach the analyses as analysis::JobHooks.
#pragma once

#include <type_traits>
#include <utility>

#include "model.h"
#include "normbase/plugin.hpp"

namespace normbase::builtin {

using analysis::Json;

class BuiltinPlugin {
 public:
  explicit BuiltinPlugin(const Json& config) : config_(config) {}

 protected:
  // Runs `fn(input, hooks)` on the job input with the instance configuration
  // merged under the job's own. The input is copied only when there is
  // something to merge.
  template <class Fn>
  Json Call(const sdk::Job& job, Fn&& fn) const {
    analysis::JobHooks hooks;
    hooks.cancelled = [&job] { return job.Cancelled(); };
    hooks.progress = [&job](double fraction) { job.Progress(fraction); };
    try {
      const Json& input = job.input();
      if (config_.empty() || !input.is_object()) return fn(input, hooks);
      Json merged = input;
      Json config = config_;
      if (auto it = input.find("config"); it != input.end() && it->is_object()) config.update(*it);
      merged["config"] = std::move(config);
      return fn(merged, hooks);
    } catch (const analysis::InputError& e) {
      throw sdk::BadInput(e.what());
    } catch (const Json::exception& e) {
      // A member of an unexpected type that a reader did not test first.
      throw sdk::BadInput(std::string("input has an unexpected shape: ") + e.what());
    }
  }

 private:
  Json config_;
};

// Calls a job function that takes hooks with them, one that does not without.
template <class Fn>
Json Invoke(Fn* fn, const Json& input, const analysis::JobHooks& hooks) {
  if constexpr (std::is_invocable_v<Fn*, const Json&, const analysis::JobHooks*>)
    return fn(input, &hooks);
  else
    return fn(input);
}

}  // namespace normbase::builtin

// Declares a built-in plugin class `Class` named `name` that runs `function`.
#define NORMBASE_BUILTIN_PLUGIN(Class, name, kind, description, function) \
  namespace {                                                             \
  class Class : public ::normbase::builtin::BuiltinPlugin {               \
   public:                                                                \
    static constexpr const char* kName = name;                            \
    static constexpr const char* kVersion = "1.0.0";                      \
    static constexpr const char* kKind = kind;                            \
    static constexpr const char* kDescription = description;              \
    using BuiltinPlugin::BuiltinPlugin;                                   \
    ::normbase::builtin::Json Run(::normbase::sdk::Job& job) {            \
      return Call(job, [](const ::normbase::builtin::Json& in,            \
                          const ::normbase::analysis::JobHooks& hooks) {  \
        return ::normbase::builtin::Invoke(&function, in, hooks);         \
      });                                                                 \
    }                                                                     \
  };                                                                      \
  }                                                                       \
  NORMBASE_PLUGIN(Class)
