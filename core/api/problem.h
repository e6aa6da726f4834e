// The one place where Status becomes HTTP: status codes and RFC 9457 problem
// details (application/problem+json) with a message a person can act on.
#pragma once

#include "api/http_types.h"
#include "domain/codec.h"
#include "domain/status.h"

namespace normbase::api {

int HttpStatusFor(const Status& s);
// {"type", "title", "status", "detail"} with application/problem+json.
HttpResponse Problem(const Status& s);
HttpResponse Problem(int http_status, const std::string& detail);
HttpResponse JsonResponse(int http_status, const domain::Json& body);

}  // namespace normbase::api
