// The only translation unit that includes Boost.Beast: keep it that way, it
// is the heaviest one to compile.
#include "api/http_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <thread>
#include <vector>

#include "api/problem.h"

namespace normbase::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr char kServerName[] = "normbase";

struct Shared {
  HttpServerOptions options;
  Handler handler;
  std::atomic<size_t> connections{0};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {
    ++shared_->connections;
  }
  ~Session() { --shared_->connections; }

  void Run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
  }

  // Answers and closes without reading (connection limit).
  void Refuse(HttpResponse r) {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), r = std::move(r)]() mutable {
      self->Write(std::move(r), /*keep_alive=*/false, 11);
    });
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(shared_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.header_limit));
    stream_.expires_after(first_request_ ? shared_->options.read_timeout : shared_->options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == net::error::eof) return Close();
    if (ec == beast::error::timeout || ec == net::error::operation_aborted) return Close();
    if (ec == http::error::body_limit)
      return Write(Problem(413, "the request body is larger than the limit of " +
                                    std::to_string(shared_->options.body_limit) + " bytes"),
                   false, 11);
    if (ec == http::error::header_limit)
      return Write(Problem(431, "the request headers are larger than the limit of " +
                                    std::to_string(shared_->options.header_limit) + " bytes"),
                   false, 11);
    if (ec) {
      if (std::string_view(ec.category().name()) == "beast.http") {
        if (buffer_.size() == 0 && ec == http::error::partial_message) return Close();
        return Write(Problem(400, "malformed HTTP request: " + ec.message()), false, 11);
      }
      return Close();  // reset by peer and friends: nobody to answer
    }
    first_request_ = false;
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.body = std::move(msg.body());
    req.content_type = std::string(msg[http::field::content_type]);
    req.authorization = std::string(msg[http::field::authorization]);
    req.origin = std::string(msg[http::field::origin]);
    beast::error_code ep_ec;
    auto ep = stream_.socket().remote_endpoint(ep_ec);
    if (!ep_ec) req.remote = ep.address().to_string();
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();
    const bool head = msg.method() == http::verb::head;
    if (!ParseTarget(req.target, &req.path, &req.query))
      return Write(Problem(400, "malformed request target (bad percent-encoding)"), keep_alive, version);
    stream_.expires_never();  // the handler may take a while (a durable write)
    Respond respond = [self = shared_from_this(), keep_alive, version, head](HttpResponse r) {
      net::post(self->stream_.get_executor(), [self, r = std::move(r), keep_alive, version, head]() mutable {
        if (head) r.body.clear();
        self->Write(std::move(r), keep_alive, version);
      });
    };
    try {
      shared_->handler(std::move(req), std::move(respond));
    } catch (const std::exception& e) {
      spdlog::error("handler threw: {}", e.what());
      Write(Problem(500, "an internal error occurred"), false, version);
    }
  }

  void Write(HttpResponse r, bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version);
    res->set(http::field::server, kServerName);
    res->set(http::field::content_type, r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    res->set(http::field::cache_control, "no-store");
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(keep_alive);
    res->body() = std::move(r.body);
    res->prepare_payload();
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
                        if (ec || !keep_alive) return self->Close();
                        self->DoRead();
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Shared> shared_;
  bool first_request_ = true;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, Handler handler)
      : ioc_(std::max(1, options.threads)), acceptor_(net::make_strand(ioc_)) {
    shared_ = std::make_shared<Shared>();
    shared_->options = std::move(options);
    shared_->handler = std::move(handler);
  }

  Result<uint16_t> Start() {
    beast::error_code ec;
    auto addr = net::ip::make_address(shared_->options.address, ec);
    if (ec) return Status::InvalidArgument("listen address '" + shared_->options.address + "' is not an IP address");
    tcp::endpoint ep(addr, shared_->options.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
      return Status::Unavailable("cannot listen on " + shared_->options.address + ":" +
                                 std::to_string(shared_->options.port) + ": " + ec.message());
    const uint16_t port = acceptor_.local_endpoint().port();
    DoAccept();
    for (int i = 0; i < std::max(1, shared_->options.threads); ++i)
      threads_.emplace_back([this] { ioc_.run(); });
    return port;
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    ioc_.stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  void DoAccept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted) return;
        spdlog::warn("accept failed: {}", ec.message());
      } else {
        auto session = std::make_shared<Session>(std::move(socket), shared_);
        if (shared_->connections > shared_->options.max_connections)
          session->Refuse(Problem(503, "too many connections; retry shortly"));
        else
          session->Run();
      }
      if (!stopped_) DoAccept();
    });
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Result<uint16_t> HttpServer::Start() { return impl_->Start(); }

void HttpServer::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace normbase::api
