#include "server/config.h"

#include <CLI/CLI.hpp>
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
