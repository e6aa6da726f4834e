// TopicFilter: which events a live-stream client wants. Topics:
//   all                 every public event (the default)
//   proposals           events about any proposal
//   proposal:<id>       events about one proposal
//   agreement:<id>      events about one agreement (merges, imports of it)
//   dataset             merges and imports (agreement.changed, dataset.*)
//   checks              plugin check events (check.*)
//   workers             worker events (worker.*, job.*)
//   users               account events (user.*, token.*): moderators only
// Pure and immutable; build a new one to change the subscription.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/status.h"

namespace normbase::stream {

class TopicFilter {
 public:
  // Parses topics ("all" when empty). `privileged` allows the private ones.
  static Result<TopicFilter> Parse(const std::vector<std::string>& topics, bool privileged);
  // The filter of a client that names no topics ("all"). Most clients do, so
  // they share one instance instead of holding thousands of equal copies.
  static std::shared_ptr<const TopicFilter> Everything(bool privileged);
  // Splits "a,b,c".
  static std::vector<std::string> SplitList(const std::string& csv);

  bool Matches(const std::string& type, const std::map<std::string, std::string>& subjects) const;
  const std::vector<std::string>& topics() const { return topics_; }
  // Union with more topics (a "subscribe" message).
  Result<TopicFilter> With(const std::vector<std::string>& more) const;
  // Without some topics ("unsubscribe"); empty -> nothing matches.
  TopicFilter Without(const std::vector<std::string>& less) const;

  // Events no anonymous client may see (account changes).
  static bool IsPrivateType(const std::string& type);

 private:
  std::vector<std::string> topics_;
  bool privileged_ = false;
};

}  // namespace normbase::stream
