// Accounts: users, roles, stakeholder groups and API tokens.
//
// Reads are public; every write needs a token. Authenticate() turns a bearer
// token into the user it belongs to (Unauthenticated when unknown, revoked or
// disabled). Only admins manage users and tokens, except that any user may
// list and revoke their own tokens. Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "service/common.h"

namespace normbase::service {

class Accounts {
 public:
  Accounts(store::Store& store, const CodebookCache& codebook)
      : store_(store), codebook_(codebook) {}

  Result<domain::User> Authenticate(std::string_view token) const;

  // {"name", "role", "stakeholder_group"} -> the user.
  void CreateUser(const domain::User& actor, const Json& body, Done<Json> done);
  // {"role"?, "stakeholder_group"?, "disabled"?} -> the user.
  void UpdateUser(const domain::User& actor, int64_t user_id, const Json& body, Done<Json> done);
  // -> {"id", "token", "user_id", "label"}: the only time the token is shown.
  void IssueToken(const domain::User& actor, int64_t user_id, std::string label, Done<Json> done);
  void RevokeToken(const domain::User& actor, int64_t user_id, int64_t token_id, Done<Json> done);
  // Users in id order after `after_id`, at most `limit` (0: all), with next_cursor.
  Result<Json> ListUsers(int64_t after_id = 0, size_t limit = 0) const;
  Result<Json> GetUser(int64_t id) const;
  Result<Json> ListTokens(const domain::User& actor, int64_t user_id) const;

  // On first start: creates user "admin" (role admin) and returns a token for
  // it; nullopt when any user exists already. Blocking.
  Result<std::optional<std::string>> Bootstrap();
  // Blocking variants for the `normbase-server admin` commands (no actor:
  // whoever can open the data directory is the operator).
  Result<Json> CreateUserDirect(const Json& body);
  Result<Json> IssueTokenDirect(int64_t user_id, std::string label);
  Result<Json> RevokeTokenDirect(int64_t user_id, int64_t token_id);

 private:
  Result<domain::User> NewUser(store::WriteContext& w, const Json& body) const;
  static Result<Json> Issue(store::WriteContext& w, int64_t user_id, const std::string& label,
                            int64_t actor);
  static Result<Json> Revoke(store::WriteContext& w, int64_t user_id, int64_t token_id,
                             int64_t actor);

  store::Store& store_;
  const CodebookCache& codebook_;
};

}  // namespace normbase::service
