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

namespace {

// Digits only (no sign, no spaces): what ids and counts look like on the wire.
std::optional<int64_t> ParseCount(const std::string& v) {
  if (v.empty() || v.size() > 18) return std::nullopt;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

Result<std::optional<int64_t>> QueryInt(const HttpRequest& req, const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end() || it->second.empty()) return std::optional<int64_t>();
  auto n = ParseCount(it->second);
  if (!n)
    return Status::InvalidArgument(std::string(name) + ": '" + it->second +
                                   "' is not a non-negative integer");
  return std::optional<int64_t>(*n);
}

Result<int64_t> PathId(const PathParams& p, const char* name) {
  auto it = p.find(name);
  const std::string v = it == p.end() ? "" : it->second;
  auto n = ParseCount(v);
  if (!n || *n == 0) return Status::NotFound(std::string(name) + " '" + v + "' is not a valid id");
  return *n;
}

std::string QueryString(const HttpRequest& req, const char* name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

service::Done<domain::Json> Reply(Respond respond, int ok_status) {
  return [respond = std::move(respond), ok_status](Result<domain::Json> r) {
    if (!r.ok()) return respond(Problem(r.status()));
    // Runs on the committer thread: the answer is serialised on the connection's.
    HttpResponse res;
    res.status = ok_status;
    res.render = [j = std::make_shared<domain::Json>(std::move(r).value())] { return domain::Dump(*j); };
    respond(std::move(res));
  };
}

void ReplyNow(const Respond& respond, Result<domain::Json> r) {
  if (!r.ok()) return respond(Problem(r.status()));
  respond(JsonResponse(200, *r));
}

std::string AnswerEtag(const service::Answer& answer) { return '"' + answer.fingerprint + '"'; }

bool IfNoneMatchHits(std::string_view header, std::string_view etag) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  size_t i = 0;
  while (i < header.size()) {
    while (i < header.size() && (is_space(header[i]) || header[i] == ',')) ++i;
    if (i == header.size()) break;
    if (header[i] == '*') return true;
    if (header.substr(i, 2) == "W/") i += 2;
    if (i < header.size() && header[i] == '"') {
      const size_t close = header.find('"', i + 1);
      if (close == std::string_view::npos) return false;  // unterminated: nothing more to read
      size_t end = close + 1;
      while (end < header.size() && is_space(header[end])) ++end;
      if ((end == header.size() || header[end] == ',') && header.substr(i, close + 1 - i) == etag)
        return true;
      i = end;
    }
    // Whatever follows up to the next comma is not part of a valid member.
    const size_t comma = header.find(',', i);
    if (comma == std::string_view::npos) break;
    i = comma + 1;
  }
  return false;
}

void ReplyAnswer(const HttpRequest& req, const Respond& respond, Result<service::AnswerPtr> r) {
  if (!r.ok()) return respond(Problem(r.status()));
  const service::Answer& answer = **r;
  HttpResponse res;
  res.headers.emplace_back("ETag", AnswerEtag(answer));
  res.headers.emplace_back("Cache-Control", "no-cache");
  if (!req.if_none_match.empty() && IfNoneMatchHits(req.if_none_match, res.headers[0].second)) {
    res.status = 304;  // RFC 9110 15.4.5: no body; the ETag and Cache-Control as a 200 would have
  } else {
    res.shared_body = answer.body;
  }
  respond(std::move(res));
}

}  // namespace normbase::api
