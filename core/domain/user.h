// User: an account that can write. Roles are ordered (admin includes
// moderator includes contributor) and checked by the server, never trusted
// from the client. A user's stakeholder group is what their review counts for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace normbase::domain {

enum class Role { kContributor = 1, kModerator = 2, kAdmin = 3 };

std::optional<Role> ParseRole(const std::string& s);
const char* RoleName(Role r);
// True when a user with `have` may do what needs `need`.
inline bool RoleAllows(Role have, Role need) {
  return static_cast<int>(have) >= static_cast<int>(need);
}

struct User {
  int64_t id = 0;
  std::string name;
  Role role = Role::kContributor;
  std::string stakeholder_group;  // codebook stakeholder group id; may be empty for admins
  int64_t created_at = 0;         // ms since epoch
  bool disabled = false;
};

// An API token's record. The token itself is never stored: only its SHA-256.
struct TokenRecord {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string label;
  int64_t created_at = 0;
  bool revoked = false;
};

}  // namespace normbase::domain
