// normbase-worker: runs Normbase's validation and analysis plugins out of the
// core's process. `normbase-worker --connect tcp://core:7700 --plugins DIR`
// runs jobs; `normbase-worker keygen PREFIX` makes a CurveZMQ key pair.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <spdlog/spdlog.h>

#include "bus/curve_keys.h"
#include "plugin_host.h"
#include "worker.h"

namespace fs = std::filesystem;
using namespace normbase;

namespace {

// Installed layout first (<prefix>/bin -> <prefix>/lib/normbase/plugins), then
// the build tree's plugin folder, so both an install and a fresh build work.
std::string DefaultPluginsDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = exe.parent_path().parent_path() / "lib" / "normbase" / "plugins";
    if (fs::is_directory(installed, ec)) return installed.string();
  }
#ifdef NORMBASE_PLUGIN_BUILD_DIR
  return NORMBASE_PLUGIN_BUILD_DIR;
#else
  return "plugins";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"normbase-worker: runs Normbase plugins for a core's job bus"};
  app.fallthrough();  // `normbase-worker plugins --plugins DIR`
  app.set_version_flag("--version", "normbase-worker " NORMBASE_VERSION);
  worker::WorkerOptions o;
  o.plugins_dir = DefaultPluginsDir();
  std::string log_level = "info";
  app.add_option("--connect", o.connect, "the core's bus endpoint (tcp://HOST:PORT or ipc://PATH)")->capture_default_str();
  app.add_option("--plugins", o.plugins_dir, "folder of plugin libraries (*.so)")->capture_default_str();
  app.add_option("--plugin", o.only_plugins, "load only this plugin (repeatable)");
  app.add_option("--capacity", o.capacity, "jobs run at once")->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_option("--id", o.id, "worker id (default: host-pid-random)");
  app.add_option("--key", o.key_file, "this worker's CurveZMQ key pair file (from keygen)");
  app.add_option("--server-key", o.server_key, "the core's CurveZMQ public key (file or Z85)");
  app.add_option("--heartbeat-ms", o.heartbeat_ms, "heartbeat interval until the core says otherwise")->capture_default_str();
  app.add_option("--heartbeat-expiry-ms", o.heartbeat_expiry_ms, "silence after which the core counts as gone")->capture_default_str();
  app.add_option("--drain-timeout-ms", o.drain_timeout_ms, "on SIGTERM, how long running jobs may finish")->capture_default_str();
  app.add_option("--memory-limit-mb", o.memory_limit_mb, "address-space limit for this process (0: none)")->capture_default_str();
  app.add_option("--max-message-bytes", o.max_message_bytes, "largest message on the bus")->capture_default_str();
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  std::string prefix;
  auto* keygen = app.add_subcommand("keygen", "write a CurveZMQ key pair: PREFIX.key (secret, 0600) and PREFIX.pub");
  keygen->add_option("prefix", prefix, "output path prefix")->required();
  auto* list = app.add_subcommand("plugins", "list the plugins in --plugins and why any were refused, then exit");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [worker %P] %v");

  if (keygen->parsed()) {
    auto kp = bus::GenerateKeyPair();
    if (kp.ok()) {
      if (auto s = bus::WriteKeyPair(prefix, *kp); !s.ok()) {
        std::cerr << "normbase-worker keygen: " << s.message() << "\n";
        return 1;
      }
      std::cout << "wrote " << prefix << ".key (secret, mode 0600) and " << prefix << ".pub\npublic key: "
                << kp->public_z85 << "\n";
      return 0;
    }
    std::cerr << "normbase-worker keygen: " << kp.status().message() << "\n";
    return 1;
  }

  auto host = worker::PluginHost::Load(o.plugins_dir, o.only_plugins);
  if (!host.ok()) {
    spdlog::error("{}", host.status().message());
    return worker::kExitConfig;
  }
  for (const auto& r : (*host)->refused()) spdlog::error("refused plugin {}: {}", r.path, r.reason);
  if (list->parsed()) {
    for (const auto& [name, p] : (*host)->plugins())
      std::cout << name << "\t" << p.api->version << "\t" << p.api->kind << "\t" << p.path << "\n";
    for (const auto& r : (*host)->refused()) std::cout << "refused\t" << r.path << "\t" << r.reason << "\n";
    return 0;
  }
  return worker::RunWorker(o, **host);
}
