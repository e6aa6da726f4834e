#include "api/openapi.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

namespace normbase::api {

std::vector<std::string> OpenApiDrift(const Router& router, const std::string& document) {
  const auto doc = nlohmann::json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("paths") || !doc["paths"].is_object())
    return {"the OpenAPI document is not a JSON object with 'paths'"};
  static const std::set<std::string> kMethods = {"get",   "put",  "post",   "delete",
                                                 "patch", "head", "options"};
  std::set<std::pair<std::string, std::string>> documented, pending;
  for (const auto& [path, item] : doc["paths"].items()) {
    if (!item.is_object()) continue;
    for (const auto& [method, op] : item.items()) {
      if (!kMethods.count(method) || !op.is_object()) continue;
      if (op.value("x-normbase-websocket", false)) continue;
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(),
                     [](unsigned char c) { return std::toupper(c); });
      (op.value("x-normbase-pending", false) ? pending : documented).emplace(m, path);
    }
  }
  std::vector<std::string> drift;
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& route : router.Routes()) {
    served.insert(route);
    if (!documented.count(route) && !pending.count(route))
      drift.push_back("undocumented route: " + route.first + " " + route.second);
  }
  for (const auto& op : documented)
    if (!served.count(op))
      drift.push_back("documented but not served: " + op.first + " " + op.second);
  return drift;
}

}  // namespace normbase::api
