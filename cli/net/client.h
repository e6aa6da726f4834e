// The normbase CLI's network layer: a blocking HTTP/1.1 client for the REST
// API and a WebSocket client for the live stream. Boost.Beast stays inside
// client.cc (the one heavy translation unit); everything else in the CLI sees
// these plain types.
//
// Only plain http:// URLs are supported (no TLS); put a TLS-terminating proxy
// in front of a public server or use an SSH tunnel.
//
// Thread-compatible: one client per thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace normbase::cli::net {

// Where the server is: parsed from "http://host[:port][/prefix]".
struct Endpoint {
  std::string host;
  std::string port = "80";
  std::string prefix;  // a path the server is mounted under, without a trailing slash
};
// nullopt with `error` set when the URL is not an http:// URL with a host.
std::optional<Endpoint> ParseUrl(const std::string& url, std::string* error);

struct HttpResponse {
  // 0 when no answer came (the request did not reach the server or the
  // answer was cut): `transport_error` then says why.
  int status = 0;
  std::string content_type;
  std::string body;
  std::string transport_error;
};

// Called while a request body is sent: bytes sent so far and the total.
using Progress = std::function<void(size_t sent, size_t total)>;

class HttpClient {
 public:
  HttpClient(Endpoint endpoint, std::string token, int timeout_ms);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `target` is the path and query under the endpoint's prefix ("/api/v1/...").
  // The token, when set, is sent as "Authorization: Bearer". A request whose
  // keep-alive connection the server had closed is retried once on a new one.
  HttpResponse Request(const std::string& method, const std::string& target,
                       const std::string& body = "",
                       const std::string& content_type = "application/json",
                       const Progress& progress = nullptr);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// One connection to the live stream. Next() returns the next text message;
// ping/pong and close frames are handled inside.
class StreamClient {
 public:
  StreamClient();
  ~StreamClient();
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  // Opens the WebSocket at `target` ("/api/v1/stream?since=N"). On failure
  // returns false; error() says why and refused_status() holds the HTTP
  // status when the server answered the upgrade with an error (else 0), and
  // refused_body() its problem document.
  bool Connect(const Endpoint& endpoint, const std::string& target, const std::string& token,
               int timeout_ms);

  enum class ReadResult { kMessage, kTimeout, kClosed };
  // Waits up to `timeout_ms` for a message. kClosed: the connection ended
  // (error() says how); a timed-out read stays pending for the next call.
  ReadResult Next(int timeout_ms, std::string* message);

  const std::string& error() const { return error_; }
  int refused_status() const { return refused_status_; }
  const std::string& refused_body() const { return refused_body_; }
  void Close();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
  int refused_status_ = 0;
  std::string refused_body_;
};

}  // namespace normbase::cli::net
