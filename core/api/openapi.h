// The OpenAPI 3 document of the REST API: docs/openapi.json, compiled into
// the server at build time (CMake configure_file) so that a binary serves the
// document that matches its routes, at GET /api/v1/openapi.json without auth.
#pragma once

#include <string>
#include <vector>

#include "api/router.h"

namespace normbase::api {

extern const char* const kOpenApiJson;

// Where `document` (an OpenAPI 3 JSON text) and the routes of `router`
// disagree, one line each: "undocumented route: GET /x", "documented but not
// served: POST /y". Operations marked "x-normbase-pending" (being added) may
// be absent; "x-normbase-websocket" ones are served outside the router and
// are skipped. Empty when they agree. Api logs these at start-up.
std::vector<std::string> OpenApiDrift(const Router& router, const std::string& document);

}  // namespace normbase::api
