#include "server/config.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace normbase::server {

namespace {

void AddPolicyOptions(CLI::App& app, const std::string& prefix, domain::PolicyRule& rule,
                      const std::string& what) {
  app.add_option("--" + prefix + "approvals", rule.approvals,
                 "Approvals needed to merge " + what)
      ->check(CLI::Range(0, 100))->capture_default_str()->group("Review policy");
  app.add_option("--" + prefix + "distinct_groups", rule.distinct_groups,
                 "Distinct stakeholder groups the approvals must come from, for " + what)
      ->check(CLI::Range(0, 6))->capture_default_str()->group("Review policy");
  app.add_option("--" + prefix + "blocking_request_changes", rule.blocking_request_changes,
                 "Whether a current 'request changes' blocks merging " + what)
      ->capture_default_str()->group("Review policy");
  app.add_option("--" + prefix + "moderator_merge", rule.moderator_merge,
                 "Whether merging " + what + " needs the moderator role")
      ->capture_default_str()->group("Review policy");
  app.add_option("--" + prefix + "keep_votes_on_rationale_change", rule.keep_votes_on_rationale_change,
                 "Whether votes survive a revision that only changes the rationale, for " + what)
      ->capture_default_str()->group("Review policy");
  app.add_option("--" + prefix + "required_checks", rule.required_checks,
                 "Plugin checks that must pass before merging " + what)
      ->group("Review policy");
}

}  // namespace

void AddServerOptions(CLI::App& app, ServerConfig& c) {
  // Read by main before parsing (ConfigFileArgs); declared here for --help.
  app.add_option("--config", c.config_file,
                 "Read options from a TOML/INI or .json file: the flags' names, sections for dotted "
                 "names ([policy] approvals = 3); flags given on the command line win");
  app.add_option("--data", c.data_dir, "Data directory (RocksDB)")->capture_default_str();
  app.add_option("--listen", c.listen, "HTTP and WebSocket address host:port (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--seed-dir", c.seed_dir,
                 "Load codebook.json and agreements.json from this folder on first start "
                 "instead of the seed built into the binary");
  app.add_option("--ready-file", c.ready_file, "Write the base URL to this file once listening");
  app.add_option("--web.root", c.web_root,
                 "Folder of the built dashboard (web/dist); default: <prefix>/share/normbase/web "
                 "next to the binary, else ./web/dist");
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--threads", c.http.threads, "HTTP I/O threads")->check(CLI::Range(1, 64))->capture_default_str();

  auto* limits = "Limits";
  app.add_option("--body-limit", c.http.body_limit, "Largest request body in bytes (413 beyond)")
      ->capture_default_str()->group(limits);
  app.add_option("--header-limit", c.http.header_limit, "Largest request header block in bytes (431 beyond)")
      ->capture_default_str()->group(limits);
  app.add_option_function<int>("--read-timeout", [&c](int s) { c.http.read_timeout = std::chrono::seconds(s); },
                               "Seconds a client has to send a request")
      ->default_str("30")->check(CLI::Range(1, 3600))->group(limits);
  app.add_option_function<int>("--idle-timeout", [&c](int s) { c.http.idle_timeout = std::chrono::seconds(s); },
                               "Seconds an idle keep-alive connection stays open")
      ->default_str("60")->check(CLI::Range(1, 3600))->group(limits);
  app.add_option("--max-connections", c.http.max_connections, "Concurrent HTTP connections")
      ->capture_default_str()->group(limits);
  app.add_option("--write-queue", c.store.max_queue, "Writes waiting for the committer before 503")
      ->capture_default_str()->group(limits);
  app.add_option("--commit-group", c.store.max_group_requests, "Writes folded into one fsync at most")
      ->capture_default_str()->group(limits);
  app.add_option("--max-text", c.service.max_rationale, "Largest rationale, comment or review text in bytes")
      ->capture_default_str()->group(limits);
  app.add_option("--max-quote", c.service.limits.max_quote, "Largest evidence quote in bytes")
      ->capture_default_str()->group(limits);
  app.add_option("--page-limit", c.service.max_page, "Largest page size of a list")
      ->capture_default_str()->group(limits);
  app.add_option_function<size_t>("--read-cache-mb",
                                  [&c](size_t mb) { c.service.read_cache_bytes = mb << 20; },
                                  "MiB of serialised public reads (an agreement, a list page) kept in memory; 0: off")
      ->default_str(std::to_string(c.service.read_cache_bytes >> 20))
      ->check(CLI::Range(size_t{0}, size_t{65536}))->group(limits);
  app.add_option("--rate-limit.token", c.rate_limit.token_per_second,
                 "Requests per second one account may make, all its tokens together (429 beyond; 0: no limit)")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group(limits);
  app.add_option("--rate-limit.token-burst", c.rate_limit.token_burst,
                 "Requests an account may make at once before its rate applies (0: two seconds' worth)")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group(limits);
  app.add_option("--rate-limit.ip", c.rate_limit.ip_per_second,
                 "Requests per second from one address without a valid token (429 beyond; 0: no limit)")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group(limits);
  app.add_option("--rate-limit.ip-burst", c.rate_limit.ip_burst,
                 "Requests an address may make at once before its rate applies (0: two seconds' worth)")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group(limits);
  auto* live = "Live stream";
  app.add_option("--allowed-origin", c.allowed_origins,
                 "Browser origin allowed to open the live stream (repeatable); the server's own origin always is")
      ->group(live);
  app.add_option("--stream-queue", c.stream.max_queue,
                 "Messages waiting per live-stream client before it is closed as too slow (code 4008)")
      ->capture_default_str()->group(live);
  app.add_option("--stream-message-limit", c.stream.max_client_message, "Largest message a client may send, bytes")
      ->capture_default_str()->group(live);
  app.add_option_function<int>("--stream-idle-timeout",
                               [&c](int s) { c.stream.idle_timeout = std::chrono::seconds(s); },
                               "Seconds without traffic before a ping; no answer within as long again closes")
      ->default_str("30")->check(CLI::Range(2, 3600))->group(live);
  app.add_option("--replay-window", c.hub.replay_window,
                 "Events kept in memory for clients that resume with since=N; older ones get a reset")
      ->capture_default_str()->group(live);
  app.add_option("--sync", c.store.sync,
                 "fsync every commit group (turning it off loses acknowledged writes on power loss)")
      ->capture_default_str();
  app.add_option("--inline-commits", c.store.inline_commits,
                 "A request's thread writes and fsyncs its own change when no other is pending "
                 "(lower latency for a lone writer; 0: always through the committer thread)")
      ->capture_default_str();

  const std::string jobs = "Workers and jobs";
  app.add_option("--bus.endpoint", c.bus.endpoint,
                 "Where workers connect (tcp://HOST:PORT or ipc://PATH); beyond loopback CurveZMQ is required")
      ->capture_default_str()->group(jobs);
  app.add_option("--bus.curve-key", c.bus.curve_key_file,
                 "The server's CurveZMQ key pair file (normbase-worker keygen); turns CurveZMQ on")
      ->group(jobs);
  app.add_option("--bus.allowed-keys", c.bus.allowed_keys_file,
                 "File of worker public keys allowed to connect (one Z85 key per line)")->group(jobs);
  app.add_option("--bus.heartbeat-ms", c.bus.heartbeat_ms, "Heartbeat interval both ways")
      ->capture_default_str()->check(CLI::Range(20, 60000))->group(jobs);
  app.add_option("--bus.heartbeat-expiry-ms", c.bus.heartbeat_expiry_ms,
                 "Silence after which a worker counts as dead and its jobs are re-queued")
      ->capture_default_str()->check(CLI::Range(60, 600000))->group(jobs);
  app.add_option("--bus.max-message-bytes", c.bus.max_message_bytes, "Largest message on the bus")
      ->capture_default_str()->check(CLI::Range(size_t{4096}, size_t{1} << 30))->group(jobs);
  app.add_option("--bus.max-workers", c.bus.max_workers, "Workers connected at once")
      ->capture_default_str()->group(jobs);
  app.add_option("--jobs.enabled", c.service.jobs.enabled, "Queue plugin jobs for proposals and merges")
      ->capture_default_str()->group(jobs);
  app.add_option("--jobs.max-attempts", c.service.jobs.max_attempts,
                 "Failed attempts (worker crash, timeout) before a job fails for good")
      ->capture_default_str()->check(CLI::Range(1, 100))->group(jobs);
  app.add_option("--jobs.timeout-ms", c.service.jobs.timeout_ms, "Time a job may run")
      ->capture_default_str()->check(CLI::Range(int64_t{100}, int64_t{86400000}))->group(jobs);
  app.add_option("--jobs.checks", c.service.jobs.checks, "Check plugins run on every proposal revision")
      ->delimiter(',')->capture_default_str()->group(jobs);
  app.add_option("--jobs.proposal-analyses", c.service.jobs.proposal_analyses,
                 "Analysis plugins run on every proposal revision (what it would change)")
      ->delimiter(',')->capture_default_str()->group(jobs);
  app.add_option("--jobs.dataset-analyses", c.service.jobs.dataset_analyses,
                 "Analysis plugins run on every dataset revision")
      ->delimiter(',')->capture_default_str()->group(jobs);
  app.add_option("--jobs.plugin-config", c.plugin_config,
                 "Configuration handed to a plugin with each job: NAME={json object} (repeatable)")
      ->group(jobs);
  app.add_option("--workers", c.local_workers.count, "Local workers the server starts and restarts (0: none)")
      ->capture_default_str()->check(CLI::Range(0, 64))->group(jobs);
  app.add_option("--workers.capacity", c.local_workers.capacity, "Jobs each local worker runs at once")
      ->capture_default_str()->check(CLI::Range(1, 1024))->group(jobs);
  app.add_option("--workers.restart-burst", c.local_workers.restart_burst,
                 "Exits of one local worker within 10 s answered by an immediate restart; beyond, "
                 "restarts back off")
      ->capture_default_str()
      ->check(CLI::Range(0, 100))
      ->group(jobs);
  app.add_option("--workers.bin", c.local_workers.binary, "The normbase-worker binary (default: beside this one)")
      ->group(jobs);
  app.add_option("--plugins.dir", c.local_workers.plugins_dir,
                 "Plugin folder of the local workers (default: the worker's own)")->group(jobs);

  AddPolicyOptions(app, "policy.", c.service.policy.defaults, "a proposal");
  for (const char* kind : {"add", "recode", "amend", "retire"}) {
    auto k = *domain::ParseProposalKind(kind);
    AddPolicyOptions(app, std::string("policy.") + kind + ".", c.kind_overrides[k],
                     std::string("a ") + kind + " proposal (default: as --policy.*)");
  }
}

Status FinalizeConfig(const CLI::App& app, ServerConfig& c) {
  const domain::PolicyRule& d = c.service.policy.defaults;
  c.service.policy.per_kind.clear();
  for (auto& [kind, given] : c.kind_overrides) {
    const std::string p = std::string("--policy.") + domain::KindName(kind) + ".";
    domain::PolicyRule rule = d;
    if (kind == domain::ProposalKind::kRetire) {
      rule.approvals = std::max(d.approvals, 3);
      rule.distinct_groups = std::max(d.distinct_groups, 3);
    }
    auto set = [&](const char* name) { return app.count(p + name) > 0; };
    if (set("approvals")) rule.approvals = given.approvals;
    if (set("distinct_groups")) rule.distinct_groups = given.distinct_groups;
    if (set("blocking_request_changes")) rule.blocking_request_changes = given.blocking_request_changes;
    if (set("moderator_merge")) rule.moderator_merge = given.moderator_merge;
    if (set("keep_votes_on_rationale_change"))
      rule.keep_votes_on_rationale_change = given.keep_votes_on_rationale_change;
    if (set("required_checks")) rule.required_checks = given.required_checks;
    c.service.policy.per_kind[kind] = rule;
  }
  for (const auto& pc : c.plugin_config) {
    auto eq = pc.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument("--jobs.plugin-config: expected NAME={json}, got '" + pc + "'");
    auto parsed = domain::ParseJson(pc.substr(eq + 1));
    if (!parsed.ok() || !parsed->is_object())
      return Status::InvalidArgument("--jobs.plugin-config " + pc.substr(0, eq) + ": the value must be a JSON object");
    c.service.jobs.plugin_config[pc.substr(0, eq)] = pc.substr(eq + 1);
  }
  // An empty value ("--jobs.checks ''") means none.
  for (auto* list : {&c.service.jobs.checks, &c.service.jobs.proposal_analyses, &c.service.jobs.dataset_analyses})
    list->erase(std::remove(list->begin(), list->end(), std::string()), list->end());
  // A name no plugin can have would queue jobs that wait forever: refuse it.
  for (const auto* list : {&c.service.jobs.checks, &c.service.jobs.proposal_analyses, &c.service.jobs.dataset_analyses})
    for (const auto& name : *list)
      if (name.size() > 64 || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
        return Status::InvalidArgument("--jobs.*: '" + name + "' is not a plugin name ([a-z0-9-]+, at most 64)");
  c.bus.job_timeout_ms = c.service.jobs.timeout_ms;
  if (c.bus.heartbeat_expiry_ms <= c.bus.heartbeat_ms)
    return Status::InvalidArgument("--bus.heartbeat-expiry-ms must be longer than --bus.heartbeat-ms");
  return ApplyListen(c);
}

namespace {

void FlattenJson(const nlohmann::json& j, const std::string& prefix,
                 std::vector<std::pair<std::string, std::vector<std::string>>>* out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string name = prefix.empty() ? it.key() : prefix + "." + it.key();
    std::vector<std::string> values;
    auto scalar = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    if (it->is_object()) {
      FlattenJson(*it, name, out);
      continue;
    }
    if (it->is_array())
      for (const auto& v : *it) values.push_back(scalar(v));
    else
      values.push_back(scalar(*it));
    out->emplace_back(name, std::move(values));
  }
}

}  // namespace

Result<std::vector<std::string>> ConfigFileArgs(const std::string& path,
                                                const std::vector<std::string>& cli_args) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("--config: cannot read '" + path + "'");
  std::vector<std::pair<std::string, std::vector<std::string>>> items;
  try {
    if (path.size() > 5 && path.substr(path.size() - 5) == ".json") {
      auto j = nlohmann::json::parse(in);
      if (!j.is_object()) return Status::InvalidArgument("--config: " + path + " must hold a JSON object");
      FlattenJson(j, "", &items);
    } else {
      for (const auto& item : CLI::ConfigTOML().from_config(in)) {
        if (item.name == "++" || item.name == "--") continue;  // CLI11's section markers
        std::string name;
        for (const auto& p : item.parents) name += p + ".";
        name += item.name;
        if (name.rfind("default.", 0) == 0) name = name.substr(8);  // CLI11's top-level section
        items.emplace_back(name, item.inputs);
      }
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument("--config: " + path + " is malformed: " + e.what());
  }
  std::set<std::string> given;
  for (const auto& a : cli_args)
    if (a.rfind("--", 0) == 0) given.insert(a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2));
  std::vector<std::string> args;
  for (const auto& [name, values] : items) {
    if (name == "config" || given.count(name)) continue;
    args.push_back("--" + name);
    for (const auto& v : values) args.push_back(v);
  }
  return args;
}

Status ApplyListen(ServerConfig& c) {
  const auto colon = c.listen.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("--listen: expected host:port, got '" + c.listen + "'");
  std::string host = c.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(c.listen.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) return Status::InvalidArgument("--listen: '" + c.listen + "' has no valid port");
  c.http.address = host;
  c.http.port = static_cast<uint16_t>(port);
  return Status::Ok();
}

}  // namespace normbase::server
