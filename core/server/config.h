// ServerConfig: everything normbase-server can be told, from flags or from a
// config file (TOML/INI via --config; the same names, sections for dotted
// names: [policy] approvals = 2, [policy.retire] approvals = 3). `--help`
// documents each. Defaults make the first run easy: loopback, ./var/normbase.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/http_server.h"
#include "api/rate_limit.h"
#include "bus/job_broker.h"
#include "server/worker_supervisor.h"
#include "service/common.h"
#include "store/store.h"

namespace CLI {
class App;
}

namespace normbase::server {

struct ServerConfig {
  std::string data_dir = "./var/normbase";
  std::string listen = "127.0.0.1:8080";
  std::string seed_dir;    // empty: the seed compiled into the binary
  std::string ready_file;  // written with the base URL once listening (for scripts, tests)
  std::string web_root;    // the built dashboard; empty: api::DefaultWebRoot()
  std::string log_level = "info";
  std::string config_file;  // already applied by main (see ConfigFileArgs)
  api::HttpServerOptions http;
  api::RateLimitOptions rate_limit;  // per-account and per-address request rates
  api::StreamHooks stream;  // limits of the live stream (hub and admission are wired in main)
  stream::EventHubOptions hub;
  std::vector<std::string> allowed_origins;
  store::StoreOptions store;
  service::ServiceConfig service;
  bus::BrokerOptions bus;          // the job bus workers connect to
  SupervisorOptions local_workers; // workers the server starts and restarts itself
  std::vector<std::string> plugin_config;  // "name={json}" as given
  // Per-kind policy values as parsed; FinalizeConfig() applies those given.
  std::map<domain::ProposalKind, domain::PolicyRule> kind_overrides;
};

// Registers the server's options on `app`, writing into `config`.
void AddServerOptions(CLI::App& app, ServerConfig& config);
// After parsing: builds the per-kind review policy (each kind starts from
// the defaults, retire from 3 approvals in 3 groups, then takes the values
// given for it) and applies --listen.
Status FinalizeConfig(const CLI::App& app, ServerConfig& config);
// Reads a config file — TOML/INI (sections give dotted names: [policy]
// approvals = 2 is --policy.approvals 2) or JSON (by the .json extension;
// nested objects likewise) — and returns it as command-line arguments, leaving
// out the options that `cli_args` gives already: the command line wins.
Result<std::vector<std::string>> ConfigFileArgs(const std::string& path,
                                                const std::vector<std::string>& cli_args);
// Splits "host:port" ("[::1]:8080" for IPv6) into the HTTP options.
Status ApplyListen(ServerConfig& config);

}  // namespace normbase::server
