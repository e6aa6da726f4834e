// `normbase-server admin ...`: account management straight on a data
// directory, for the operator who holds it (first admin, lost tokens). RocksDB
// admits one process, so against a running server use the HTTP API instead.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "server/app.h"
#include "service/accounts.h"
#include "service/importer.h"

namespace normbase::server {

struct AdminCommands {
  CLI::App* admin = nullptr;
  CLI::App* create_user = nullptr;
  CLI::App* issue_token = nullptr;
  CLI::App* revoke_token = nullptr;
  CLI::App* list_users = nullptr;
  std::string name, role = "contributor", group, label;
  int64_t user_id = 0, token_id = 0;
};

std::shared_ptr<AdminCommands> AddAdminCommands(CLI::App& app) {
  auto c = std::make_shared<AdminCommands>();
  c->admin = app.add_subcommand("admin", "Manage users and tokens on a stopped server's data directory");
  c->admin->require_subcommand(1);
  // Let the server's options (--data, --config, ...) follow the subcommand:
  // `normbase-server admin list-users --data DIR`. Subcommands added below
  // inherit this.
  c->admin->fallthrough();
  c->create_user = c->admin->add_subcommand("create-user", "Create a user");
  c->create_user->add_option("--name", c->name, "User name")->required();
  c->create_user->add_option("--role", c->role, "contributor, moderator or admin")->capture_default_str();
  c->create_user->add_option("--group", c->group, "Stakeholder group (government, private-sector, ...)");
  c->issue_token = c->admin->add_subcommand("issue-token", "Issue an API token for a user; prints it once");
  c->issue_token->add_option("--user", c->user_id, "User id")->required();
  c->issue_token->add_option("--label", c->label, "What the token is for");
  c->revoke_token = c->admin->add_subcommand("revoke-token", "Revoke a token");
  c->revoke_token->add_option("--user", c->user_id, "User id")->required();
  c->revoke_token->add_option("--token", c->token_id, "Token id")->required();
  c->list_users = c->admin->add_subcommand("list-users", "List users");
  return c;
}

bool AdminSelected(const AdminCommands& c) { return c.admin->parsed(); }

int RunAdmin(const AdminCommands& c, const ServerConfig& config) {
  // A typo in --data must not quietly create an empty database.
  if (!std::filesystem::exists(std::filesystem::path(config.data_dir) / "db" / "CURRENT")) {
    std::cerr << "normbase-server admin: " << config.data_dir
              << " holds no Normbase data (no db/ inside); start the server on it once first\n";
    return 1;
  }
  auto store = OpenStore(config);
  if (!store.ok()) {
    std::cerr << "normbase-server admin: " << store.status().message() << "\n";
    return 1;
  }
  service::CodebookCache codebook;
  if (auto s = service::LoadCodebookIntoCache(**store, codebook); !s.ok()) {
    std::cerr << "normbase-server admin: " << s.message() << "\n";
    return 1;
  }
  service::Accounts accounts(**store, codebook);
  Result<domain::Json> out = Status::InvalidArgument("no admin command given");
  if (c.create_user->parsed()) {
    domain::Json body{{"name", c.name}, {"role", c.role}};
    if (!c.group.empty()) body["stakeholder_group"] = c.group;
    out = accounts.CreateUserDirect(body);
  } else if (c.issue_token->parsed()) {
    out = accounts.IssueTokenDirect(c.user_id, c.label);
  } else if (c.revoke_token->parsed()) {
    out = accounts.RevokeTokenDirect(c.user_id, c.token_id);
  } else if (c.list_users->parsed()) {
    out = accounts.ListUsers();
  }
  if (!out.ok()) {
    std::cerr << "normbase-server admin: " << out.status().message() << "\n";
    return 1;
  }
  std::cout << out->dump(2) << "\n";
  return 0;
}

}  // namespace normbase::server
