#include "service/accounts.h"

#include <nlohmann/json.hpp>

#include "service/token_hash.h"
#include "store/records.h"

namespace normbase::service {

using domain::Role;
using domain::User;

Status RequireRole(const User& actor, Role need, const char* action) {
  if (domain::RoleAllows(actor.role, need)) return Status::Ok();
  return Status::PermissionDenied(std::string(action) + " needs the " + domain::RoleName(need) +
                                  " role; user '" + actor.name + "' is a " +
                                  domain::RoleName(actor.role));
}

size_t PageSize(const ServiceConfig& c, std::optional<size_t> requested) {
  if (!requested || *requested == 0) return c.default_page;
  return std::min(*requested, c.max_page);
}

namespace {

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxLabelLength = 200;

bool ValidUserName(const std::string& n) {
  if (n.empty() || n.size() > kMaxNameLength) return false;
  for (unsigned char c : n)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

Json UserEvent(const User& u) { return Json{{"user", domain::ToJson(u)}}; }

domain::Event MakeEvent(std::string type, int64_t actor, int64_t user_id, const Json& payload) {
  domain::Event e;
  e.type = std::move(type);
  e.actor = actor;
  e.subjects["user"] = std::to_string(user_id);
  e.payload = domain::Dump(payload);
  return e;
}

}  // namespace

Result<User> Accounts::Authenticate(std::string_view token) const {
  if (token.empty()) return Status::Unauthenticated("this request needs a token: send 'Authorization: Bearer <token>'");
  const std::string hash = HashToken(token);
  NB_ASSIGN_OR_RETURN(auto rec, store::LoadTokenByHash(store_, hash));
  if (!rec || rec->revoked)
    return Status::Unauthenticated("the token is unknown or revoked; ask an admin for a new one");
  NB_ASSIGN_OR_RETURN(auto user, store::LoadUser(store_, rec->user_id));
  if (!user) return Status::Unauthenticated("the token's user no longer exists");
  if (user->disabled) return Status::Unauthenticated("user '" + user->name + "' is disabled");
  return *user;
}

Result<User> Accounts::NewUser(store::WriteContext& w, const Json& body) const {
  if (!body.is_object()) return Status::InvalidArgument("body: expected a JSON object {name, role, stakeholder_group}");
  for (auto it = body.begin(); it != body.end(); ++it)
    if (it.key() != "name" && it.key() != "role" && it.key() != "stakeholder_group")
      return Status::InvalidArgument(it.key() + ": unknown field (expected name, role, stakeholder_group)");
  User u;
  if (!body.contains("name") || !body["name"].is_string())
    return Status::InvalidArgument("name: is required (a string)");
  u.name = body["name"].get<std::string>();
  if (!ValidUserName(u.name))
    return Status::InvalidArgument("name: '" + u.name + "' must be 1-64 characters of letters, digits, '-', '_' or '.'");
  const std::string role = body.value("role", std::string("contributor"));
  if (body.contains("role") && !body["role"].is_string()) return Status::InvalidArgument("role: expected a string");
  auto r = domain::ParseRole(role);
  if (!r) return Status::InvalidArgument("role: '" + role + "' is not one of contributor, moderator, admin");
  u.role = *r;
  if (body.contains("stakeholder_group") && !body["stakeholder_group"].is_null()) {
    if (!body["stakeholder_group"].is_string()) return Status::InvalidArgument("stakeholder_group: expected a string");
    u.stakeholder_group = body["stakeholder_group"].get<std::string>();
    auto cb = codebook_.Get();
    if (cb && !cb->HasStakeholderGroup(u.stakeholder_group))
      return Status::InvalidArgument("stakeholder_group: '" + u.stakeholder_group +
                                     "' is not a stakeholder group of the codebook");
  } else if (u.role != Role::kAdmin) {
    return Status::InvalidArgument("stakeholder_group: is required for contributors and moderators (their reviews count for it)");
  }
  NB_ASSIGN_OR_RETURN(auto existing, store::FindUserByName(w, u.name));
  if (existing) return Status::AlreadyExists("a user named '" + u.name + "' exists already (id " + std::to_string(existing->id) + ")");
  NB_ASSIGN_OR_RETURN(u.id, w.NextId("user"));
  u.created_at = w.Now();
  store::SaveUser(w, u);
  return u;
}

void Accounts::CreateUser(const User& actor, const Json& body, Done<Json> done) {
  if (auto s = RequireRole(actor, Role::kAdmin, "creating a user"); !s.ok()) return done(s);
  SubmitFor<Json>(store_, [this, body, actor_id = actor.id](store::WriteContext& w) -> Result<Json> {
    NB_ASSIGN_OR_RETURN(User u, NewUser(w, body));
    w.AppendEvent(MakeEvent("user.created", actor_id, u.id, UserEvent(u)));
    return domain::ToJson(u);
  }, std::move(done));
}

Result<Json> Accounts::CreateUserDirect(const Json& body) {
  Json out;
  Status s = store_.Commit([&](store::WriteContext& w) -> Status {
    NB_ASSIGN_OR_RETURN(User u, NewUser(w, body));
    w.AppendEvent(MakeEvent("user.created", 0, u.id, UserEvent(u)));
    out = domain::ToJson(u);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

void Accounts::UpdateUser(const User& actor, int64_t user_id, const Json& body, Done<Json> done) {
  if (auto s = RequireRole(actor, Role::kAdmin, "changing a user"); !s.ok()) return done(s);
  if (!body.is_object()) return done(Status::InvalidArgument("body: expected a JSON object"));
  auto cb = codebook_.Get();
  SubmitFor<Json>(store_, [body, user_id, cb, actor_id = actor.id](store::WriteContext& w) -> Result<Json> {
    NB_ASSIGN_OR_RETURN(auto u, store::LoadUser(w, user_id));
    if (!u) return Status::NotFound("user " + std::to_string(user_id) + " does not exist");
    for (auto it = body.begin(); it != body.end(); ++it) {
      const std::string& k = it.key();
      if (k == "role") {
        auto r = it->is_string() ? domain::ParseRole(it->get<std::string>()) : std::nullopt;
        if (!r) return Status::InvalidArgument("role: expected one of contributor, moderator, admin");
        u->role = *r;
      } else if (k == "stakeholder_group") {
        if (!it->is_string() || (cb && !cb->HasStakeholderGroup(it->get<std::string>())))
          return Status::InvalidArgument("stakeholder_group: not a stakeholder group of the codebook");
        u->stakeholder_group = it->get<std::string>();
      } else if (k == "disabled") {
        if (!it->is_boolean()) return Status::InvalidArgument("disabled: expected true or false");
        u->disabled = it->get<bool>();
      } else {
        return Status::InvalidArgument(k + ": unknown field (expected role, stakeholder_group, disabled)");
      }
    }
    if (u->role != Role::kAdmin || u->disabled) {
      // Never leave the server without an active admin: nobody could manage it.
      bool other_admin = false;
      NB_RETURN_IF_ERROR(store::ForEachUser(w, [&](User&& other) {
        if (other.id != u->id && other.role == Role::kAdmin && !other.disabled) other_admin = true;
        return !other_admin;
      }));
      NB_ASSIGN_OR_RETURN(auto before, store::LoadUser(w, user_id));
      const bool was_active_admin = before->role == Role::kAdmin && !before->disabled;
      if (was_active_admin && !other_admin)
        return Status::Conflict("user '" + u->name + "' is the last active admin; make another admin first");
    }
    store::SaveUser(w, *u);
    w.AppendEvent(MakeEvent("user.updated", actor_id, u->id, UserEvent(*u)));
    return domain::ToJson(*u);
  }, std::move(done));
}

Result<Json> Accounts::Issue(store::WriteContext& w, int64_t user_id, const std::string& label,
                             int64_t actor) {
  NB_ASSIGN_OR_RETURN(auto u, store::LoadUser(w, user_id));
  if (!u) return Status::NotFound("user " + std::to_string(user_id) + " does not exist");
  if (label.size() > kMaxLabelLength) return Status::InvalidArgument("label: longer than 200 bytes");
  domain::TokenRecord t;
  NB_ASSIGN_OR_RETURN(t.id, w.NextId("token"));
  t.user_id = user_id;
  t.label = label;
  t.created_at = w.Now();
  const std::string token = NewToken();
  store::SaveToken(w, HashToken(token), t);
  w.AppendEvent(MakeEvent("token.issued", actor, user_id, Json{{"token", domain::ToJson(t)}}));
  Json out = domain::ToJson(t);
  out["token"] = token;
  return out;
}

Result<Json> Accounts::Revoke(store::WriteContext& w, int64_t user_id, int64_t token_id,
                              int64_t actor) {
  NB_ASSIGN_OR_RETURN(auto tokens, store::TokensOfUser(w, user_id));
  for (auto& [hash, t] : tokens) {
    if (t.id != token_id) continue;
    if (t.revoked) return Status::Conflict("token " + std::to_string(token_id) + " is already revoked");
    t.revoked = true;
    store::SaveToken(w, hash, t);
    w.AppendEvent(MakeEvent("token.revoked", actor, user_id, Json{{"token", domain::ToJson(t)}}));
    return domain::ToJson(t);
  }
  return Status::NotFound("user " + std::to_string(user_id) + " has no token " + std::to_string(token_id));
}

void Accounts::IssueToken(const User& actor, int64_t user_id, std::string label, Done<Json> done) {
  if (auto s = RequireRole(actor, Role::kAdmin, "issuing a token"); !s.ok()) return done(s);
  SubmitFor<Json>(store_, [user_id, label = std::move(label), actor_id = actor.id](store::WriteContext& w) {
    return Issue(w, user_id, label, actor_id);
  }, std::move(done));
}

void Accounts::RevokeToken(const User& actor, int64_t user_id, int64_t token_id, Done<Json> done) {
  if (actor.id != user_id)
    if (auto s = RequireRole(actor, Role::kAdmin, "revoking another user's token"); !s.ok()) return done(s);
  SubmitFor<Json>(store_, [user_id, token_id, actor_id = actor.id](store::WriteContext& w) {
    return Revoke(w, user_id, token_id, actor_id);
  }, std::move(done));
}

Result<Json> Accounts::IssueTokenDirect(int64_t user_id, std::string label) {
  Json out;
  Status s = store_.Commit([&](store::WriteContext& w) -> Status {
    NB_ASSIGN_OR_RETURN(out, Issue(w, user_id, label, 0));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<Json> Accounts::RevokeTokenDirect(int64_t user_id, int64_t token_id) {
  Json out;
  Status s = store_.Commit([&](store::WriteContext& w) -> Status {
    NB_ASSIGN_OR_RETURN(out, Revoke(w, user_id, token_id, 0));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<Json> Accounts::ListUsers(int64_t after_id, size_t limit) const {
  Json items = Json::array();
  bool more = false;
  int64_t last = 0;
  NB_RETURN_IF_ERROR(store::ForEachUser(store_, [&](User&& u) {
    if (u.id <= after_id) return true;
    if (limit && items.size() == limit) {
      more = true;
      return false;
    }
    last = u.id;
    items.push_back(domain::ToJson(u));
    return true;
  }));
  return Json{{"items", items}, {"next_cursor", more ? Json(std::to_string(last)) : Json(nullptr)}};
}

Result<Json> Accounts::GetUser(int64_t id) const {
  NB_ASSIGN_OR_RETURN(auto u, store::LoadUser(store_, id));
  if (!u) return Status::NotFound("user " + std::to_string(id) + " does not exist");
  return domain::ToJson(*u);
}

Result<Json> Accounts::ListTokens(const User& actor, int64_t user_id) const {
  if (actor.id != user_id)
    NB_RETURN_IF_ERROR(RequireRole(actor, Role::kAdmin, "listing another user's tokens"));
  NB_ASSIGN_OR_RETURN(auto tokens, store::TokensOfUser(store_, user_id));
  Json items = Json::array();
  for (const auto& [hash, t] : tokens) items.push_back(domain::ToJson(t));  // never the hash
  return Json{{"items", items}};
}

Result<std::optional<std::string>> Accounts::Bootstrap() {
  std::optional<std::string> token;
  Status s = store_.Commit([&](store::WriteContext& w) -> Status {
    bool any = false;
    NB_RETURN_IF_ERROR(store::ForEachUser(w, [&](User&&) {
      any = true;
      return false;
    }));
    if (any) return Status::Ok();
    NB_ASSIGN_OR_RETURN(User u, NewUser(w, Json{{"name", "admin"}, {"role", "admin"}}));
    w.AppendEvent(MakeEvent("user.created", 0, u.id, UserEvent(u)));
    NB_ASSIGN_OR_RETURN(Json t, Issue(w, u.id, "bootstrap", 0));
    token = t["token"].get<std::string>();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return token;
}

}  // namespace normbase::service
