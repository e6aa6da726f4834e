#include "api/problem.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace normbase::api {

namespace {

const char* Title(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
  }
}

const char* TypeSlug(int status) {
  switch (status) {
    case 400: return "invalid-request";
    case 401: return "unauthenticated";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 405: return "method-not-allowed";
    case 409: return "conflict";
    case 413: return "too-large";
    case 415: return "unsupported-media-type";
    case 426: return "upgrade-required";
    case 431: return "headers-too-large";
    case 429: return "rate-limited";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "error";
  }
}

}  // namespace

int HttpStatusFor(const Status& s) {
  using C = Status::Code;
  switch (s.code()) {
    case C::kOk: return 200;
    case C::kInvalidArgument: return 400;
    case C::kNotFound: return 404;
    case C::kAlreadyExists: return 409;
    case C::kConflict: return 409;
    case C::kUnauthenticated: return 401;
    case C::kPermissionDenied: return 403;
    case C::kPreconditionFailed: return 409;  // the state (review status) does not allow it yet
    case C::kTooLarge: return 413;
    case C::kUnsupportedMedia: return 415;
    case C::kUnavailable: return 503;
    case C::kInternal: return 500;
  }
  return 500;
}

HttpResponse Problem(int status, const std::string& detail) {
  domain::Json body{{"type", std::string("https://normbase.org/problems/") + TypeSlug(status)},
                    {"title", Title(status)},
                    {"status", status},
                    {"detail", detail}};
  HttpResponse r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = domain::Dump(body);
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"normbase\"");
  return r;
}

HttpResponse Problem(const Status& s) {
  HttpResponse r = Problem(HttpStatusFor(s), s.message());
  if (s.code() == Status::Code::kInternal) {
    // Internal details go to the log, not to the client.
    spdlog::error("internal error: {}", s.message());
    r = Problem(500, "an internal error occurred; the server log has the details");
  }
  return r;
}

HttpResponse JsonResponse(int status, const domain::Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = domain::Dump(body);
  return r;
}

}  // namespace normbase::api
