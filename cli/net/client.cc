// The only translation unit of the CLI that includes Boost.Beast: it is the
// slowest to compile, so it stays alone and behind a Boost-free header.
#include "net/client.h"

#include <signal.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>

namespace normbase::cli::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::uint64_t kMaxResponseBody = 512ull << 20;  // a full JSON export is a few MB
constexpr std::uint32_t kMaxResponseHeader = 64 << 10;
constexpr size_t kMaxStreamMessage = 16 << 20;
// Request bodies are written in slices of this size so that progress can be shown.
constexpr size_t kWriteSlice = 64 << 10;
// A live-stream connection with no traffic at all (the server pings when idle)
// for this long is considered lost; Beast pings at half of it.
constexpr auto kStreamIdleTimeout = std::chrono::seconds(30);
constexpr char kUserAgent[] = "normbase-cli/0.1";

bool IsStaleConnection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

std::string HostHeader(const Endpoint& e) {
  const bool v6 = e.host.find(':') != std::string::npos;
  return (v6 ? "[" + e.host + "]" : e.host) + (e.port == "80" ? "" : ":" + e.port);
}

// Runs the io_context until the operation started by `start` completes or
// the deadline (kept by the tcp_stream's expiry) fires.
template <typename Start>
beast::error_code RunOne(asio::io_context& ioc, Start start) {
  beast::error_code result;
  bool done = false;
  start([&](beast::error_code ec, std::size_t = 0) {
    result = ec;
    done = true;
  });
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  return result;
}

beast::error_code ConnectStream(asio::io_context& ioc, const Endpoint& e, beast::tcp_stream& s,
                                int timeout_ms) {
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(e.host, e.port, ec);
  if (ec) return ec;
  s.expires_after(std::chrono::milliseconds(timeout_ms));
  return RunOne(ioc, [&](auto handler) {
    s.async_connect(results,
                    [handler](beast::error_code ec, const tcp::endpoint&) mutable { handler(ec); });
  });
}

}  // namespace

std::optional<Endpoint> ParseUrl(const std::string& url, std::string* error) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    *error = "'" + url +
             "': https is not supported by this client; use http:// (e.g. through an SSH tunnel)";
    return std::nullopt;
  }
  if (url.rfind(scheme, 0) != 0) {
    *error = "'" + url + "' is not a server URL: expected http://HOST[:PORT]";
    return std::nullopt;
  }
  std::string rest = url.substr(scheme.size());
  Endpoint e;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    e.prefix = rest.substr(slash);
    rest = rest.substr(0, slash);
    while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
  }
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    const auto close = rest.find(']');
    if (close == std::string::npos) {
      *error = "'" + url + "': unterminated [IPv6] host";
      return std::nullopt;
    }
    e.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() == ':') e.port = rest.substr(1);
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    e.host = rest.substr(0, colon);
    e.port = rest.substr(colon + 1);
  } else {
    e.host = rest;
  }
  const bool port_ok =
      !e.port.empty() && e.port.size() <= 5 &&
      std::all_of(e.port.begin(), e.port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      std::stoi(e.port) > 0 && std::stoi(e.port) <= 65535;
  if (e.host.empty() || !port_ok) {
    *error = "'" + url + "' is not a server URL: expected http://HOST[:PORT]";
    return std::nullopt;
  }
  return e;
}

// ---- HTTP --------------------------------------------------------------------

class HttpClient::Impl {
 public:
  Impl(Endpoint e, std::string token, int timeout_ms)
      : endpoint_(std::move(e)), token_(std::move(token)), timeout_ms_(timeout_ms) {
    // A server that closes the connection must not kill the CLI with SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
  }

  HttpResponse Request(const std::string& method, const std::string& target,
                       const std::string& body, const std::string& content_type,
                       const Progress& progress) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(endpoint_.prefix + target);
    req.version(11);
    req.set(http::field::host, HostHeader(endpoint_));
    req.set(http::field::user_agent, kUserAgent);
    req.set(http::field::accept, "application/json, application/problem+json, text/csv");
    if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
    if (!body.empty() || method == "POST" || method == "PATCH")
      req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();

    HttpResponse out;
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = stream_.has_value();
      if (!reused) {
        stream_.emplace(ioc_);
        if (auto ec = ConnectStream(ioc_, endpoint_, *stream_, timeout_ms_); ec) {
          stream_.reset();
          out.transport_error = "cannot connect to " + HostHeader(endpoint_) + ": " + ec.message();
          return out;
        }
      }
      const auto write_ec = Write(req, progress);
      // Even when the write failed the server may have answered first (413).
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxResponseBody);
      parser.header_limit(kMaxResponseHeader);
      stream_->expires_after(std::chrono::milliseconds(timeout_ms_));
      auto ec =
          RunOne(ioc_, [&](auto handler) { http::async_read(*stream_, buffer_, parser, handler); });
      if (ec) {
        const bool nothing = !parser.got_some();
        stream_.reset();
        buffer_.clear();
        if (reused && attempt == 0 && nothing &&
            (IsStaleConnection(ec) || IsStaleConnection(write_ec)))
          continue;
        const auto& why = write_ec ? write_ec : ec;
        out.transport_error =
            (why == beast::error::timeout
                 ? "no answer from " + HostHeader(endpoint_) + " within " +
                       std::to_string(timeout_ms_ / 1000) + " s"
                 : "connection to " + HostHeader(endpoint_) + " failed: " + why.message());
        return out;
      }
      auto& res = parser.get();
      out.status = static_cast<int>(res.result_int());
      out.content_type = std::string(res[http::field::content_type]);
      out.body = std::move(res.body());
      if (!res.keep_alive()) stream_.reset();
      return out;
    }
    return out;
  }

 private:
  // Writes the header, then the body in slices, reporting progress.
  beast::error_code Write(http::request<http::string_body>& req, const Progress& progress) {
    http::request_serializer<http::string_body> sr(req);
    sr.limit(kWriteSlice);
    const size_t total = req.body().size();
    size_t written = 0;
    while (!sr.is_done()) {
      stream_->expires_after(std::chrono::milliseconds(timeout_ms_));
      size_t n = 0;
      beast::error_code ec;
      bool done = false;
      http::async_write_some(*stream_, sr, [&](beast::error_code e, std::size_t bytes) {
        ec = e;
        n = bytes;
        done = true;
      });
      ioc_.restart();
      while (!done && ioc_.run_one() > 0) {
      }
      if (ec) return ec;
      written += n;
      // The count includes the header (a few hundred bytes): close enough for a bar.
      if (progress && total > 0) progress(std::min(total, written), total);
    }
    if (progress && total > 0) progress(total, total);
    return {};
  }

  Endpoint endpoint_;
  std::string token_;
  int timeout_ms_;
  asio::io_context ioc_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

HttpClient::HttpClient(Endpoint endpoint, std::string token, int timeout_ms)
    : impl_(std::make_unique<Impl>(std::move(endpoint), std::move(token), timeout_ms)) {}
HttpClient::~HttpClient() = default;

HttpResponse HttpClient::Request(const std::string& method, const std::string& target,
                                 const std::string& body, const std::string& content_type,
                                 const Progress& progress) {
  return impl_->Request(method, target, body, content_type, progress);
}

// ---- WebSocket -----------------------------------------------------------------

class StreamClient::Impl {
 public:
  asio::io_context ioc;
  std::optional<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
  bool reading = false;
  bool read_done = false;
  beast::error_code read_ec;
};

StreamClient::StreamClient() : impl_(std::make_unique<Impl>()) { ::signal(SIGPIPE, SIG_IGN); }
StreamClient::~StreamClient() { Close(); }

bool StreamClient::Connect(const Endpoint& endpoint, const std::string& target,
                           const std::string& token, int timeout_ms) {
  auto& im = *impl_;
  error_.clear();
  refused_status_ = 0;
  refused_body_.clear();
  im.buffer.clear();
  im.reading = false;
  im.ws.emplace(im.ioc);
  if (auto ec = ConnectStream(im.ioc, endpoint, im.ws->next_layer(), timeout_ms); ec) {
    error_ = "cannot connect to " + HostHeader(endpoint) + ": " + ec.message();
    im.ws.reset();
    return false;
  }
  im.ws->read_message_max(kMaxStreamMessage);
  im.ws->set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
    req.set(http::field::user_agent, kUserAgent);
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  }));
  websocket::response_type res;
  im.ws->next_layer().expires_after(std::chrono::milliseconds(timeout_ms));
  auto ec = RunOne(im.ioc, [&](auto handler) {
    im.ws->async_handshake(res, HostHeader(endpoint), endpoint.prefix + target, handler);
  });
  if (ec) {
    error_ = "the live stream refused the connection: " + ec.message();
    refused_status_ = static_cast<int>(res.result_int());
    refused_body_ = res.body();
    im.ws.reset();
    return false;
  }
  // From here the websocket's own timeouts govern (idle detection with pings).
  im.ws->next_layer().expires_never();
  websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::milliseconds(timeout_ms);
  t.idle_timeout = kStreamIdleTimeout;
  t.keep_alive_pings = true;
  im.ws->set_option(t);
  return true;
}

StreamClient::ReadResult StreamClient::Next(int timeout_ms, std::string* message) {
  auto& im = *impl_;
  if (!im.ws) return ReadResult::kClosed;
  if (!im.reading) {
    im.reading = true;
    im.read_done = false;
    im.ws->async_read(im.buffer, [&im](beast::error_code ec, std::size_t) {
      im.read_done = true;
      im.read_ec = ec;
    });
  }
  im.ioc.restart();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!im.read_done && std::chrono::steady_clock::now() < deadline)
    im.ioc.run_one_until(deadline);
  if (!im.read_done) return ReadResult::kTimeout;
  im.reading = false;
  if (im.read_ec) {
    const auto& reason = im.ws->reason();
    if (im.read_ec == websocket::error::closed)
      error_ = "the server closed the stream (code " + std::to_string(reason.code) +
               (reason.reason.empty() ? "" : ": " + std::string(reason.reason.c_str())) + ")";
    else
      error_ = "the stream connection was lost: " + im.read_ec.message();
    im.ws.reset();
    return ReadResult::kClosed;
  }
  *message = beast::buffers_to_string(im.buffer.data());
  im.buffer.consume(im.buffer.size());
  return ReadResult::kMessage;
}

void StreamClient::Close() {
  auto& im = *impl_;
  if (!im.ws) return;
  beast::error_code ec;
  im.ws->next_layer().socket().close(ec);
  // Let the pending read (if any) complete with its error before the stream goes.
  im.ioc.restart();
  im.ioc.poll();
  im.ws.reset();
  im.reading = false;
}

}  // namespace normbase::cli::net
