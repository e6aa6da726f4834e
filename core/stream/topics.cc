#include "stream/topics.h"

#include <algorithm>

#include "domain/event.h"

namespace normbase::stream {

namespace {

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool SubjectIs(const std::map<std::string, std::string>& subjects, const char* key, const std::string& v) {
  auto it = subjects.find(key);
  return it != subjects.end() && it->second == v;
}

constexpr size_t kMaxTopics = 64;
constexpr size_t kMaxTopicLength = 200;

Status CheckTopic(const std::string& t, bool privileged) {
  if (t.empty() || t.size() > kMaxTopicLength) return Status::InvalidArgument("topic: must be 1-200 characters");
  if (t == "all" || t == "proposals" || t == "dataset" || t == "checks" || t == "workers") return Status::Ok();
  if (t == "users") {
    if (!privileged) return Status::PermissionDenied("topic 'users' needs a moderator's token");
    return Status::Ok();
  }
  if ((StartsWith(t, "proposal:") && t.size() > 9) || (StartsWith(t, "agreement:") && t.size() > 10))
    return Status::Ok();
  return Status::InvalidArgument("topic: '" + t +
                                 "' is not one of all, proposals, proposal:<id>, agreement:<id>, dataset, "
                                 "checks, workers, users");
}

}  // namespace

std::vector<std::string> TopicFilter::SplitList(const std::string& csv) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= csv.size()) {
    size_t j = csv.find(',', i);
    if (j == std::string::npos) j = csv.size();
    if (j > i) out.push_back(csv.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Result<TopicFilter> TopicFilter::Parse(const std::vector<std::string>& topics, bool privileged) {
  if (topics.size() > kMaxTopics) return Status::InvalidArgument("topics: at most 64");
  TopicFilter f;
  f.privileged_ = privileged;
  for (const auto& t : topics) {
    NB_RETURN_IF_ERROR(CheckTopic(t, privileged));
    if (std::find(f.topics_.begin(), f.topics_.end(), t) == f.topics_.end()) f.topics_.push_back(t);
  }
  if (topics.empty()) f.topics_.push_back("all");
  return f;
}

std::shared_ptr<const TopicFilter> TopicFilter::Everything(bool privileged) {
  // What Parse makes of no topics; it cannot fail for an empty list.
  static const auto make = [](bool p) {
    return std::make_shared<const TopicFilter>(Parse({}, p).value());
  };
  static const std::shared_ptr<const TopicFilter> plain = make(false), privileged_one = make(true);
  return privileged ? privileged_one : plain;
}

Result<TopicFilter> TopicFilter::With(const std::vector<std::string>& more) const {
  std::vector<std::string> all = topics_;
  all.insert(all.end(), more.begin(), more.end());
  return Parse(all, privileged_);
}

TopicFilter TopicFilter::Without(const std::vector<std::string>& less) const {
  TopicFilter f = *this;
  f.topics_.erase(std::remove_if(f.topics_.begin(), f.topics_.end(),
                                 [&](const std::string& t) {
                                   return std::find(less.begin(), less.end(), t) != less.end();
                                 }),
                  f.topics_.end());
  return f;
}

bool TopicFilter::IsPrivateType(const std::string& type) {
  return domain::IsPrivateEventType(type);
}

bool TopicFilter::Matches(const std::string& type, const std::map<std::string, std::string>& subjects) const {
  const bool is_private = IsPrivateType(type);
  for (const auto& t : topics_) {
    if (t == "users") {
      if (is_private) return true;
      continue;
    }
    if (is_private) continue;  // account events only via "users"
    if (t == "all") return true;
    if (t == "proposals" && subjects.count("proposal")) return true;
    if (t == "dataset" && (type == "agreement.changed" || StartsWith(type, "dataset."))) return true;
    if (t == "checks" && StartsWith(type, "check.")) return true;
    if (t == "workers" && (StartsWith(type, "worker.") || StartsWith(type, "job."))) return true;
    if (StartsWith(t, "proposal:") && SubjectIs(subjects, "proposal", t.substr(9))) return true;
    if (StartsWith(t, "agreement:") && SubjectIs(subjects, "agreement", t.substr(10))) return true;
  }
  return false;
}

}  // namespace normbase::stream
