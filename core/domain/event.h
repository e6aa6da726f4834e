// Event: one entry of the append-only event log — the audit trail and the
// source of the live stream. The store assigns `seq` (global, gap-free,
// increasing) and `time_ms` inside the same atomic batch as the change.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace normbase::domain {

struct Event {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::string type;     // "proposal.created", "review.submitted", "proposal.merged", ...
  int64_t actor = 0;    // user id; 0 for the system
  std::map<std::string, std::string> subjects;  // "proposal" -> "12", "agreement" -> "paris-call-2018"
  std::string payload;  // a JSON document (serialised), enough for a client to update its view
};

// Account events (user.*, token.*) are shown to moderators only, in the REST
// log and on the live stream alike: one definition for both.
inline bool IsPrivateEventType(const std::string& type) {
  return type.rfind("user.", 0) == 0 || type.rfind("token.", 0) == 0;
}

}  // namespace normbase::domain
