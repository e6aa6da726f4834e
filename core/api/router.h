// Router: maps (method, path) to a route handler. Patterns are literal
// segments and `{name}` parameters ("/api/v1/proposals/{id}/reviews"). An
// unknown path is a 404; a known path with another method is a 405 with the
// Allow header. Built once at start-up, then read-only and thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "api/http_types.h"

namespace normbase::api {

using PathParams = std::map<std::string, std::string>;
using RouteHandler = std::function<void(const HttpRequest&, const PathParams&, Respond)>;

class Router {
 public:
  void Add(std::string method, std::string pattern, RouteHandler handler);

  struct Match {
    const RouteHandler* handler = nullptr;  // null: no route
    PathParams params;
    std::string pattern;              // the matched template, for metrics
    std::vector<std::string> allowed; // methods of the path when the method did not match
  };
  Match Find(const std::string& method, const std::string& path) const;
  // Every (method, pattern) pair, for the OpenAPI check.
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace normbase::api
