// The only translation unit of the tests that includes Boost.Beast: keep it
// that way, it is the heaviest one to compile.
#include "support/http_client.h"

#include <signal.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <optional>

namespace normbase::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr int kDefaultTimeoutMs = 30000;
constexpr std::uint64_t kMaxResponseBody = 256 << 20;  // exports are a few MB at most
constexpr std::uint32_t kMaxResponseHeader = 1 << 20;
constexpr char kUserAgent[] = "normbase-integration-tests";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A connection error that means "the server closed the idle connection".
bool IsStaleConnection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted;
}

}  // namespace

nlohmann::json HttpResult::json() const {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json() : j;
}

std::string HttpResult::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

class HttpClient::Impl {
 public:
  explicit Impl(const std::string& base_url) {
    std::string rest = base_url;
    if (auto p = rest.find("://"); p != std::string::npos) rest = rest.substr(p + 3);
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    const auto colon = rest.rfind(':');
    host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
    port_ = colon == std::string::npos ? "80" : rest.substr(colon + 1);
    if (host_.size() > 2 && host_.front() == '[') host_ = host_.substr(1, host_.size() - 2);
    // A server that closes a connection must not kill the test with SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
  }

  HttpResult Request(const std::string& method, const std::string& target, const std::string& body,
                     const std::map<std::string, std::string>& headers, const std::string& token) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host_ + ":" + port_);
    req.set(http::field::user_agent, kUserAgent);
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    for (const auto& [name, value] : headers) {
      if (value.empty())
        req.erase(name);
      else
        req.set(name, value);
    }

    HttpResult out;
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = stream_.has_value();
      if (!reused) {
        if (auto ec = Connect(stream_); ec) {
          out.error = "connect to " + host_ + ":" + port_ + ": " + ec.message();
          return out;
        }
      }
      stream_->expires_after(std::chrono::milliseconds(timeout_ms_));
      const auto write_ec = Run([&](auto handler) { http::async_write(*stream_, req, handler); });
      // Even when the write failed, the server may have answered before it
      // closed (413 and 431 are sent before the rest of the request is read):
      // read what is there.
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxResponseBody);
      parser.header_limit(kMaxResponseHeader);
      if (method == "HEAD") parser.skip(true);
      stream_->expires_after(std::chrono::milliseconds(timeout_ms_));
      auto ec = Run([&](auto handler) { http::async_read(*stream_, buffer_, parser, handler); });
      if (ec) {
        const bool nothing = !parser.got_some();
        Close();
        if (reused && attempt == 0 && nothing &&
            (IsStaleConnection(ec) || IsStaleConnection(write_ec)))
          continue;
        out.error = write_ec ? "write: " + write_ec.message() : "read: " + ec.message();
        return out;
      }
      auto& res = parser.get();
      out.status = static_cast<int>(res.result_int());
      for (const auto& field : res) {
        std::string name = Lower(std::string(field.name_string()));
        std::string value(field.value());
        auto [it, inserted] = out.headers.emplace(name, value);
        if (!inserted) it->second += ", " + value;
      }
      out.body = std::move(res.body());
      if (!res.keep_alive()) Close();
      return out;
    }
    return out;
  }

  std::string SendRaw(const std::string& bytes, int timeout_ms) {
    std::optional<beast::tcp_stream> stream;
    if (auto ec = Connect(stream); ec) return {};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    stream->expires_at(deadline);
    // A server that refuses the request may close before reading it all: a
    // failed write is expected, what came back is what matters.
    Run([&](auto handler) { net::async_write(*stream, net::buffer(bytes), handler); });
    std::string got;
    char buf[4096];
    for (;;) {
      stream->expires_at(deadline);
      std::size_t n = 0;
      auto ec = Run([&](auto handler) {
        stream->async_read_some(net::buffer(buf),
                                [&n, handler](beast::error_code e, std::size_t k) {
                                  n = k;
                                  handler(e, k);
                                });
      });
      got.append(buf, n);
      if (ec) break;  // EOF, reset or the deadline
    }
    beast::error_code ignored;
    stream->socket().close(ignored);
    return got;
  }

  void Close() {
    if (stream_) {
      beast::error_code ec;
      stream_->socket().shutdown(tcp::socket::shutdown_both, ec);
      stream_->socket().close(ec);
    }
    stream_.reset();
    buffer_.consume(buffer_.size());
  }

  int timeout_ms_ = kDefaultTimeoutMs;
  int opened_ = 0;

 private:
  beast::error_code Connect(std::optional<beast::tcp_stream>& stream) {
    stream.emplace(ioc_);
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve(host_, port_, ec);
    if (ec) return ec;
    stream->expires_after(std::chrono::milliseconds(timeout_ms_));
    ec = Run([&](auto handler) {
      stream->async_connect(
          endpoints, [handler](beast::error_code e, const tcp::endpoint&) { handler(e, 0); });
    });
    if (ec) {
      stream.reset();
      return ec;
    }
    ++opened_;
    return {};
  }

  // Starts one asynchronous operation and runs the io_context until it is
  // done: blocking calls with the tcp_stream's deadlines.
  template <typename Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result = net::error::would_block;
    bool done = false;
    start([&result, &done](beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    ioc_.run();  // returns once the operation and its timer are done
    return done ? result : beast::error_code(net::error::operation_aborted);
  }

  net::io_context ioc_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::string host_, port_;
};

HttpClient::HttpClient(std::string base_url) : impl_(std::make_unique<Impl>(base_url)) {}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

void HttpClient::set_timeout_ms(int ms) { impl_->timeout_ms_ = ms; }

void HttpClient::Close() { impl_->Close(); }

int HttpClient::connections_opened() const { return impl_->opened_; }

HttpResult HttpClient::Get(const std::string& target) { return Request("GET", target, ""); }

HttpResult HttpClient::Post(const std::string& target, const nlohmann::json& body) {
  return Request("POST", target, body.is_null() ? std::string() : body.dump());
}

HttpResult HttpClient::Post(const std::string& target, const std::string& raw_body,
                            const std::string& content_type) {
  return Request("POST", target, raw_body, {{"Content-Type", content_type}});
}

HttpResult HttpClient::Patch(const std::string& target, const nlohmann::json& body) {
  return Request("PATCH", target, body.is_null() ? std::string() : body.dump());
}

HttpResult HttpClient::Delete(const std::string& target) { return Request("DELETE", target, ""); }

HttpResult HttpClient::Request(const std::string& method, const std::string& target,
                               const std::string& body,
                               const std::map<std::string, std::string>& headers) {
  return impl_->Request(method, target, body, headers, token_);
}

std::string HttpClient::SendRaw(const std::string& bytes, int timeout_ms) {
  return impl_->SendRaw(bytes, timeout_ms);
}

}  // namespace normbase::testing
