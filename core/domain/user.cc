#include "domain/user.h"

namespace normbase::domain {

std::optional<Role> ParseRole(const std::string& s) {
  if (s == "contributor") return Role::kContributor;
  if (s == "moderator") return Role::kModerator;
  if (s == "admin") return Role::kAdmin;
  return std::nullopt;
}

const char* RoleName(Role r) {
  switch (r) {
    case Role::kContributor: return "contributor";
    case Role::kModerator: return "moderator";
    case Role::kAdmin: return "admin";
  }
  return "contributor";
}

}  // namespace normbase::domain
