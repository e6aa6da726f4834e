// HttpServer: the HTTP/1.1 transport (Boost.Beast) in front of the Api.
//
// A session per connection, on one of the I/O threads from accept to close
// (each thread runs an io_context of its own); one request in flight per
// connection (the next is read only after the response is written); every
// read has a size limit and a deadline. Requests are handed to the Handler as
// transport-neutral HttpRequests; the Handler may answer from any thread.
// Bad framing (oversized body or headers, garbage, slow clients) is answered
// or closed here and never reaches the Api.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http_types.h"
#include "domain/status.h"
#include "stream/event_hub.h"
#include "stream/stream_protocol.h"

namespace normbase::api {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: let the OS pick (tests); Start() returns the port
  int threads = 2;
  size_t body_limit = 1 << 20;      // bytes; larger bodies get 413
  size_t header_limit = 16 << 10;   // bytes; larger headers get 431
  std::chrono::seconds read_timeout{30};   // a request must arrive within this
  std::chrono::seconds idle_timeout{60};   // keep-alive connections idle longer are closed
  size_t max_connections = 10000;   // beyond it new connections get 503 and are closed
};

// The live stream at /api/v1/stream (WebSocket on the same port). Without a
// hub, upgrade requests are refused. `admit` decides (Origin, token, topics,
// since) without knowing Beast; each client then gets a bounded queue — a
// client that falls `max_queue` frames behind is closed with 4008 and told
// the seq to resume from.
struct StreamHooks {
  stream::EventHub* hub = nullptr;
  std::function<Result<stream::StreamAdmission>(const HttpRequest&)> admit;
  size_t max_queue = 1024;           // frames waiting per client
  size_t max_client_message = 4096;  // bytes of one client message
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds idle_timeout{30};  // ping after half of it; no answer -> closed
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler handler, StreamHooks stream = {});
  ~HttpServer();  // stops if running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Returns the bound port.
  Result<uint16_t> Start();
  // Stops accepting, closes connections, joins the threads. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace normbase::api
