// Helpers the route files share: authentication, body and parameter parsing,
// and turning a service result into a response.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/api.h"
#include "api/problem.h"

namespace normbase::api {

// Wraps a handler that needs a signed-in user: answers 401 itself otherwise.
using AuthedHandler =
    std::function<void(const domain::User&, const HttpRequest&, const PathParams&, Respond)>;
RouteHandler Authed(ApiServices& s, AuthedHandler h);

// The token of an "Authorization: Bearer <token>" header (scheme in any case).
Result<std::string> BearerToken(const std::string& header);
// The JSON body; null when the body is empty. 415 unless JSON, 400 when malformed.
Result<domain::Json> JsonBody(const HttpRequest& req);
Result<std::optional<int64_t>> QueryInt(const HttpRequest& req, const char* name);
Result<int64_t> PathId(const PathParams& p, const char* name);
std::string QueryString(const HttpRequest& req, const char* name);

// A completion that answers `ok_status` with the JSON, or the problem.
service::Done<domain::Json> Reply(Respond respond, int ok_status = 200);
// Answers a synchronous read.
void ReplyNow(const Respond& respond, Result<domain::Json> r);

// The strong ETag of a serialised answer: its fingerprint, quoted.
std::string AnswerEtag(const service::Answer& answer);
// True when an If-None-Match header value lists `etag` (quoted) or is "*".
// Uses the weak comparison RFC 9110 (13.1.2) prescribes for If-None-Match:
// W/"x" matches "x". Malformed members are skipped, never matched.
bool IfNoneMatchHits(std::string_view header, std::string_view etag);
// Answers a serialised read (service::Catalog's *Answer calls): 304 without
// a body when the request's If-None-Match names it, else 200 with the shared
// bytes. Both carry the ETag and "Cache-Control: no-cache" (a client may keep
// it but must revalidate: the head changes with every merge).
void ReplyAnswer(const HttpRequest& req, const Respond& respond, Result<service::AnswerPtr> r);

}  // namespace normbase::api
