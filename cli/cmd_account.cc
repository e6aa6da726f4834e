// Signing in and accounts: login, logout, whoami, and the admin's user and
// token management.
#include <iostream>

#include "commands.h"

namespace normbase::cli {

namespace {

std::string Group(const Json& u) {
  return u.contains("stakeholder_group") && u["stakeholder_group"].is_string()
             ? u["stakeholder_group"].get<std::string>()
             : "-";
}

std::string UserLine(const Json& u) {
  return u.value("name", "?") + " (user #" + std::to_string(u.value("id", int64_t{0})) + ", " +
         u.value("role", "?") + ", group " + Group(u) +
         (u.value("disabled", false) ? ", disabled" : "") + ")";
}

int Login(Context& ctx, bool verify) {
  if (ctx.global.token.empty())
    return ctx.Usage("login needs --token TOKEN (use --token - to read it from standard input)");
  std::string token = ctx.global.token;
  if (token == "-") {
    std::getline(std::cin, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) return ctx.Usage("no token on standard input");
  }
  StoredConfig next = ctx.stored();
  next.server = ctx.settings().server;
  next.token = token;
  if (!ctx.endpoint()) return kExitUsage;
  Json user;
  if (verify) {
    // Check the pair before storing it: a typo should not be saved silently.
    ctx.global.token = token;
    if (int rc = ctx.Prepare(); rc != kExitOk) return rc;
    auto r = ctx.Get("/api/v1/whoami");
    if (!r.ok()) {
      std::cerr << "normbase: not saved: the server did not accept this token\n";
      return ctx.Fail(r);
    }
    user = r.body;
  }
  std::string error;
  if (!SaveConfig(ctx.config_path(), next, &error)) return ctx.Usage(error);
  if (ctx.json()) {
    PrintJson(Json{{"server", next.server}, {"config", ctx.config_path()}, {"user", user}});
  } else {
    std::cout << "Signed in to " << next.server << (user.is_object() ? " as " + UserLine(user) : "")
              << "\n"
              << "Saved in " << ctx.config_path() << " (mode 0600)\n";
  }
  return kExitOk;
}

int Logout(Context& ctx) {
  StoredConfig next = ctx.stored();
  const bool had = !next.token.empty();
  next.token.clear();
  std::string error;
  if (!SaveConfig(ctx.config_path(), next, &error)) return ctx.Usage(error);
  if (ctx.json())
    PrintJson(Json{{"removed_token", had}, {"config", ctx.config_path()}});
  else
    std::cout << (had ? "Removed the token from " : "No token was stored in ") << ctx.config_path()
              << "\n";
  return kExitOk;
}

int Whoami(Context& ctx) {
  auto r = ctx.Get("/api/v1/whoami");
  if (!r.ok()) return ctx.Fail(r);
  if (ctx.json()) {
    PrintJson(r.body);
    return kExitOk;
  }
  const auto& s = ctx.settings();
  std::cout << UserLine(r.body) << "\n"
            << "server: " << s.server << " ("
            << (s.server_from == "default" ? "default" : "from " + s.server_from) << ")\n"
            << "token:  from " << s.token_from << "\n";
  return kExitOk;
}

int ListUsers(Context& ctx) {
  Json all = Json::array();
  std::string cursor;
  do {
    auto r = ctx.Get("/api/v1/users" + Query({{"cursor", cursor}, {"limit", "1000"}}));
    if (!r.ok()) return ctx.Fail(r);
    for (const auto& u : r.body.value("items", Json::array())) all.push_back(u);
    cursor = r.body.contains("next_cursor") && r.body["next_cursor"].is_string()
                 ? r.body["next_cursor"].get<std::string>()
                 : "";
  } while (!cursor.empty());
  if (ctx.json()) {
    PrintJson(Json{{"items", all}});
    return kExitOk;
  }
  Table t({"ID", "NAME", "ROLE", "GROUP", "CREATED", "STATE"});
  for (const auto& u : all)
    t.Add({std::to_string(u.value("id", int64_t{0})), u.value("name", ""), u.value("role", ""),
           Group(u), FormatTime(u.value("created_at", int64_t{0})),
           u.value("disabled", false) ? ctx.out().Red("disabled") : "active"});
  std::cout << t.Render(ctx.out());
  return kExitOk;
}

int PrintUser(Context& ctx, const Reply& r, const std::string& verb) {
  if (!r.ok()) return ctx.Fail(r);
  if (ctx.json())
    PrintJson(r.body);
  else
    std::cout << verb << UserLine(r.body) << "\n";
  return kExitOk;
}

struct UserOptions {
  std::string name, role, group;
  int64_t id = 0;
  bool disable = false, enable = false;
};

struct TokenOptions {
  int64_t user = 0, token = 0;
  std::string label;
};

// The signed-in user's id, for "token list" without a user.
std::optional<int64_t> MyId(Context& ctx, int* rc) {
  auto r = ctx.Get("/api/v1/whoami");
  if (!r.ok()) {
    *rc = ctx.Fail(r);
    return std::nullopt;
  }
  return r.body.value("id", int64_t{0});
}

}  // namespace

void AddAccountCommands(CLI::App& app, Context& ctx) {
  auto verify = std::make_shared<bool>(true);
  auto* login = app.add_subcommand("login",
                                   "Store the server URL and token (given with --server and "
                                   "--token) in the config file, mode 0600");
  login->add_flag("!--no-verify", *verify,
                  "Store without checking the token with the server first");
  OnRun(login, ctx, [&ctx, verify] { return Login(ctx, *verify); });

  OnRun(app.add_subcommand("logout", "Remove the stored token from the config file"), ctx,
        [&ctx] { return Logout(ctx); });
  OnRun(app.add_subcommand("whoami",
                           "Show the signed-in user, the server, and where the token comes from"),
        ctx, [&ctx] { return Whoami(ctx); });

  auto* user = app.add_subcommand("user", "Manage users (admins; listing: moderators)");
  user->require_subcommand(1);
  OnRun(user->add_subcommand("list", "List users"), ctx, [&ctx] { return ListUsers(ctx); });

  auto uo = std::make_shared<UserOptions>();
  auto* show = user->add_subcommand("show", "Show one user");
  show->add_option("ID", uo->id, "User id")->required();
  OnRun(show, ctx, [&ctx, uo] {
    return PrintUser(ctx, ctx.Get("/api/v1/users/" + std::to_string(uo->id)), "");
  });

  auto* create = user->add_subcommand("create", "Create a user");
  create->add_option("NAME", uo->name, "User name")->required();
  create->add_option("--role", uo->role, "contributor, moderator or admin")
      ->required()
      ->check(CLI::IsMember({"contributor", "moderator", "admin"}));
  create->add_option("--group", uo->group,
                     "Stakeholder group their votes count for (required except for admins)");
  OnRun(create, ctx, [&ctx, uo] {
    Json body{{"name", uo->name}, {"role", uo->role}};
    if (!uo->group.empty()) body["stakeholder_group"] = uo->group;
    return PrintUser(ctx, ctx.Post("/api/v1/users", body), "Created ");
  });

  auto* update =
      user->add_subcommand("update", "Change a user's role or group, or disable/enable them");
  update->add_option("ID", uo->id, "User id")->required();
  update->add_option("--role", uo->role, "New role")
      ->check(CLI::IsMember({"contributor", "moderator", "admin"}));
  update->add_option("--group", uo->group, "New stakeholder group");
  auto* dis =
      update->add_flag("--disable", uo->disable, "Disable the user (their tokens stop working)");
  update->add_flag("--enable", uo->enable, "Enable the user again")->excludes(dis);
  OnRun(update, ctx, [&ctx, uo] {
    Json body = Json::object();
    if (!uo->role.empty()) body["role"] = uo->role;
    if (!uo->group.empty()) body["stakeholder_group"] = uo->group;
    if (uo->disable) body["disabled"] = true;
    if (uo->enable) body["disabled"] = false;
    if (body.empty())
      return ctx.Usage("nothing to change: give --role, --group, --disable or --enable");
    return PrintUser(ctx, ctx.Send("PATCH", "/api/v1/users/" + std::to_string(uo->id), body.dump()),
                     "Updated ");
  });

  auto* token = app.add_subcommand("token", "Issue, list and revoke API tokens");
  token->require_subcommand(1);
  auto to = std::make_shared<TokenOptions>();
  auto* issue =
      token->add_subcommand("issue", "Issue a token for a user (admins); it is shown once");
  issue->add_option("USER", to->user, "User id")->required();
  issue->add_option("--label", to->label, "What the token is for");
  OnRun(issue, ctx, [&ctx, to] {
    Json body = Json::object();
    if (!to->label.empty()) body["label"] = to->label;
    auto r = ctx.Post("/api/v1/users/" + std::to_string(to->user) + "/tokens", body);
    if (!r.ok()) return ctx.Fail(r);
    if (ctx.json()) {
      PrintJson(r.body);
    } else {
      // The token alone on stdout, so that TOKEN=$(normbase token issue 3) works.
      std::cout << r.body.value("token", "") << "\n";
      ctx.Notice("token #" + std::to_string(r.body.value("id", int64_t{0})) + " for user #" +
                 std::to_string(to->user) + ": store it now, it is not shown again");
    }
    return kExitOk;
  });

  auto* list = token->add_subcommand(
      "list", "List a user's tokens (default: your own); never shows the secrets");
  list->add_option("USER", to->user, "User id");
  OnRun(list, ctx, [&ctx, to] {
    int64_t uid = to->user;
    if (uid == 0) {
      int rc = kExitOk;
      auto me = MyId(ctx, &rc);
      if (!me) return rc;
      uid = *me;
    }
    auto r = ctx.Get("/api/v1/users/" + std::to_string(uid) + "/tokens");
    if (!r.ok()) return ctx.Fail(r);
    if (ctx.json()) {
      PrintJson(r.body);
      return kExitOk;
    }
    Table t({"ID", "LABEL", "CREATED", "STATE"});
    for (const auto& x : r.body.value("items", Json::array()))
      t.Add({std::to_string(x.value("id", int64_t{0})), x.value("label", ""),
             FormatTime(x.value("created_at", int64_t{0})),
             x.value("revoked", false) ? ctx.out().Red("revoked") : "active"});
    std::cout << t.Render(ctx.out());
    return kExitOk;
  });

  auto* revoke = token->add_subcommand("revoke", "Revoke a token");
  revoke->add_option("USER", to->user, "User id")->required();
  revoke->add_option("TOKEN", to->token, "Token id (from token list)")->required();
  OnRun(revoke, ctx, [&ctx, to] {
    auto r = ctx.Send(
        "DELETE",
        "/api/v1/users/" + std::to_string(to->user) + "/tokens/" + std::to_string(to->token), "");
    if (!r.ok()) return ctx.Fail(r);
    if (ctx.json())
      PrintJson(r.body);
    else
      std::cout << "Revoked token #" << to->token << " of user #" << to->user << "\n";
    return kExitOk;
  });
}

}  // namespace normbase::cli
