// Helpers the route files share: authentication, body and parameter parsing,
// and turning a service result into a response.
#pragma once

#include <optional>
#include <string>

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

}  // namespace normbase::api
