// Transport-neutral HTTP request and response: what the routes see. Keeping
// Beast out of these types keeps route code light to compile and easy to test;
// only http_server.cc knows Beast.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace normbase::api {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received, with query
  std::string path;    // percent-decoded path without query
  std::map<std::string, std::string> query;  // decoded; the last value wins
  std::string body;
  std::string content_type;
  std::string authorization;
  std::string origin;
  std::string host;
  std::string if_none_match;  // for revalidating static files (ETag)
  std::string remote;  // peer address, for logs
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When set, the body instead of `body` (which is then empty): bytes shared
  // with a cache, sent without being copied.
  std::shared_ptr<const std::string> shared_body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, makes `body` where the response is written (Render, on the
  // connection's I/O thread). A durable write is usually answered on the
  // store's committer thread; serialising its answer there would hold up
  // every write queued behind it.
  std::function<std::string()> render;

  void Render() {
    if (!render) return;
    body = render();
    render = nullptr;
  }

  size_t body_size() const { return shared_body ? shared_body->size() : body.size(); }
  std::string_view body_view() const { return shared_body ? *shared_body : std::string_view(body); }
};

// Hands a response back to the connection; may be called from any thread, once.
using Respond = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest&&, Respond)>;

// Splits and percent-decodes a target into path and query. False when the
// encoding is malformed (bad %-escape) — the caller answers 400.
bool ParseTarget(const std::string& target, std::string* path,
                 std::map<std::string, std::string>* query);

}  // namespace normbase::api
