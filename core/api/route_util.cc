#include "api/route_util.h"

#include <nlohmann/json.hpp>

namespace normbase::api {

RouteHandler Authed(ApiServices& s, AuthedHandler h) {
  return [&s, h = std::move(h)](const HttpRequest& req, const PathParams& p, Respond respond) {
    if (req.authorization.empty())
      return respond(Problem(Status::Unauthenticated(
          "this request changes data and needs a token: send 'Authorization: Bearer <token>'")));
    auto token = BearerToken(req.authorization);
    if (!token.ok()) return respond(Problem(token.status()));
    auto user = s.accounts.Authenticate(*token);
    if (!user.ok()) return respond(Problem(user.status()));
    h(*user, req, p, std::move(respond));
  };
}

Result<std::string> BearerToken(const std::string& header) {
  // The scheme is case-insensitive (RFC 9110 section 11.1).
  constexpr size_t kSchemeLength = 7;  // "Bearer "
  std::string scheme = header.substr(0, kSchemeLength);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (header.size() <= kSchemeLength || scheme != "bearer ")
    return Status::Unauthenticated("the Authorization header must be 'Bearer <token>'");
  return header.substr(kSchemeLength);
}

Result<domain::Json> JsonBody(const HttpRequest& req) {
  if (req.body.empty()) return domain::Json(nullptr);
  const std::string& ct = req.content_type;
  if (!ct.empty() && ct.rfind("application/json", 0) != 0 && ct.find("+json") == std::string::npos)
    return Status::UnsupportedMedia("unsupported Content-Type '" + ct + "': send application/json");
  return domain::ParseJson(req.body);
}

Result<std::optional<int64_t>> QueryInt(const HttpRequest& req, const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end() || it->second.empty()) return std::optional<int64_t>();
  const std::string& v = it->second;
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || used == 0)
    return Status::InvalidArgument(std::string(name) + ": '" + v + "' is not an integer");
  if (n < 0) return Status::InvalidArgument(std::string(name) + ": must not be negative");
  return std::optional<int64_t>(n);
}

Result<int64_t> PathId(const PathParams& p, const char* name) {
  auto it = p.find(name);
  const std::string v = it == p.end() ? "" : it->second;
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size() || n <= 0)
    return Status::NotFound(std::string(name) + " '" + v + "' is not a valid id");
  return n;
}

std::string QueryString(const HttpRequest& req, const char* name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

service::Done<domain::Json> Reply(Respond respond, int ok_status) {
  return [respond = std::move(respond), ok_status](Result<domain::Json> r) {
    if (!r.ok()) return respond(Problem(r.status()));
    respond(JsonResponse(ok_status, *r));
  };
}

void ReplyNow(const Respond& respond, Result<domain::Json> r) {
  if (!r.ok()) return respond(Problem(r.status()));
  respond(JsonResponse(200, *r));
}

}  // namespace normbase::api
