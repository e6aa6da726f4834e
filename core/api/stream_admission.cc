#include "api/stream_admission.h"

#include <algorithm>

#include "api/route_util.h"

namespace normbase::api {

Result<stream::StreamAdmission> StreamAdmitter::Admit(const HttpRequest& req) const {
  if (!req.origin.empty()) {
    const bool same = req.origin == "http://" + req.host || req.origin == "https://" + req.host;
    const bool listed =
        std::find(allowed_origins_.begin(), allowed_origins_.end(), req.origin) != allowed_origins_.end();
    if (!same && !listed)
      return Status::PermissionDenied("Origin '" + req.origin +
                                      "' may not open the live stream; the operator can allow it with "
                                      "--allowed-origin");
  }
  stream::StreamAdmission a;
  std::string token;
  if (!req.authorization.empty()) {
    NB_ASSIGN_OR_RETURN(token, BearerToken(req.authorization));
  } else {
    token = QueryString(req, "token");
  }
  if (!token.empty()) {
    NB_ASSIGN_OR_RETURN(domain::User u, accounts_.Authenticate(token));
    a.privileged = domain::RoleAllows(u.role, domain::Role::kModerator);
  }
  NB_ASSIGN_OR_RETURN(auto since, QueryInt(req, "since"));
  if (since) a.since = static_cast<uint64_t>(*since);
  const auto topics = stream::TopicFilter::SplitList(QueryString(req, "topics"));
  if (topics.empty()) {
    a.filter = stream::TopicFilter::Everything(a.privileged);
  } else {
    NB_ASSIGN_OR_RETURN(auto filter, stream::TopicFilter::Parse(topics, a.privileged));
    a.filter = std::make_shared<const stream::TopicFilter>(std::move(filter));
  }
  return a;
}

}  // namespace normbase::api
