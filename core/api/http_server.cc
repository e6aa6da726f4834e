// The only translation unit that includes Boost.Beast: keep it that way, it
// is the heaviest one to compile.
#include "api/http_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "api/problem.h"

namespace normbase::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr char kServerName[] = "normbase";

struct Shared {
  HttpServerOptions options;
  Handler handler;
  StreamHooks stream;
  std::atomic<size_t> connections{0};
};

// A live-stream client: the hub pushes frames from its thread; they wait in a
// bounded queue and are written one at a time on the session's strand.
class WsSession : public stream::StreamSink, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket&& socket, std::shared_ptr<Shared> shared, stream::StreamAdmission admission)
      : ws_(std::move(socket)), shared_(std::move(shared)), admission_(std::move(admission)) {
    ++shared_->connections;
  }
  ~WsSession() override {
    if (subscribed_) shared_->stream.hub->Unsubscribe(id_);
    --shared_->connections;
  }

  void Run(http::request<http::string_body> req) {
    const auto& h = shared_->stream;
    websocket::stream_base::timeout t{h.handshake_timeout, h.idle_timeout, /*keep_alive_pings=*/true};
    ws_.set_option(t);
    ws_.read_message_max(h.max_client_message);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, kServerName); }));
    ws_.async_accept(req, beast::bind_front_handler(&WsSession::OnAccept, shared_from_this()));
  }

  // From the hub thread (and from this session for control frames).
  void Push(std::vector<stream::FramePtr> frames) override {
    std::lock_guard lk(mu_);
    if (close_pending_) return;
    if (queue_.size() + frames.size() > shared_->stream.max_queue) {
      close_pending_ = true;
      close_reason_ = "too slow: more than " + std::to_string(shared_->stream.max_queue) +
                      " messages waiting; resume with since=" + std::to_string(last_sent_seq_);
    } else {
      for (auto& f : frames) queue_.push_back(std::move(f));
    }
    if (!writing_) {
      writing_ = true;
      net::post(ws_.get_executor(), [self = shared_from_this()] { self->DoWrite(); });
    }
  }

 private:
  void OnAccept(beast::error_code ec) {
    if (ec) return;
    auto* hub = shared_->stream.hub;
    id_ = hub->NextSubscriberId();
    subscribed_ = true;
    const auto since = admission_.since;
    const auto filter = admission_.filter;
    hub->Subscribe(id_, weak_from_this(), filter, since, [&](const stream::SubscribeResult& r) {
      last_seq_seen_ = r.last_seq;
      return stream::HelloFrame(r, *filter, since);
    });
    DoRead();
  }

  void DoRead() {
    ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return;  // closed, timed out (no pong) or too big: the stream ends
    const std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    auto cmd = stream::ParseClientMessage(text);
    const uint64_t seq = shared_->stream.hub->LastSeq();
    if (!cmd.ok()) {
      Push({stream::ErrorFrame(cmd.status().message(), seq)});
    } else if (cmd->op == stream::ClientCommand::Op::kPing) {
      Push({stream::SubscribedFrame(*admission_.filter, seq)});
    } else {
      Result<stream::TopicFilter> next =
          cmd->op == stream::ClientCommand::Op::kSubscribe
              ? admission_.filter->With(cmd->topics)
              : Result<stream::TopicFilter>(admission_.filter->Without(cmd->topics));
      if (!next.ok()) {
        Push({stream::ErrorFrame(next.status().message(), seq)});
      } else {
        admission_.filter = std::make_shared<const stream::TopicFilter>(std::move(next).value());
        shared_->stream.hub->SetFilter(id_, admission_.filter);
        Push({stream::SubscribedFrame(*admission_.filter, seq)});
      }
    }
    DoRead();
  }

  void DoWrite() {
    stream::FramePtr next;
    {
      std::lock_guard lk(mu_);
      if (close_pending_) {
        if (closing_) return;
        closing_ = true;
        queue_.clear();
      } else if (queue_.empty()) {
        writing_ = false;
        return;
      } else {
        next = queue_.front();
      }
    }
    if (!next) {
      websocket::close_reason reason(static_cast<websocket::close_code>(stream::kCloseTooSlow));
      reason.reason = close_reason_.substr(0, 120);
      ws_.async_close(reason, [self = shared_from_this()](beast::error_code) {});
      return;
    }
    ws_.text(true);
    ws_.async_write(net::buffer(next->text), [self = shared_from_this(), next](beast::error_code ec, std::size_t) {
      if (ec) return;
      {
        std::lock_guard lk(self->mu_);
        if (!self->queue_.empty() && self->queue_.front() == next) self->queue_.pop_front();
        if (next->seq) self->last_sent_seq_ = next->seq;
      }
      self->DoWrite();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::shared_ptr<Shared> shared_;
  stream::StreamAdmission admission_;  // filter replaced on (un)subscribe, on the strand
  uint64_t id_ = 0;
  bool subscribed_ = false;
  uint64_t last_seq_seen_ = 0;

  std::mutex mu_;
  std::deque<stream::FramePtr> queue_;  // GUARDED_BY(mu_)
  bool writing_ = false;                // GUARDED_BY(mu_): a DoWrite chain is running
  bool close_pending_ = false;          // GUARDED_BY(mu_)
  bool closing_ = false;                // GUARDED_BY(mu_)
  std::string close_reason_;            // GUARDED_BY(mu_)
  uint64_t last_sent_seq_ = 0;          // GUARDED_BY(mu_)
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
    req.host = std::string(msg[http::field::host]);
    req.if_none_match = std::string(msg[http::field::if_none_match]);
    beast::error_code ep_ec;
    auto ep = stream_.socket().remote_endpoint(ep_ec);
    if (!ep_ec) req.remote = ep.address().to_string();
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();
    const bool head = msg.method() == http::verb::head;
    if (!ParseTarget(req.target, &req.path, &req.query))
      return Write(Problem(400, "malformed request target (bad percent-encoding)"), keep_alive, version);
    if (req.path == "/api/v1/stream") return Upgrade(std::move(req), keep_alive, version);
    stream_.expires_never();  // the handler may take a while (a durable write)
    Respond respond = [self = shared_from_this(), keep_alive, version, head](HttpResponse r) {
      net::post(self->stream_.get_executor(), [self, r = std::move(r), keep_alive, version, head]() mutable {
        std::optional<size_t> head_length;
        if (head) {
          head_length = r.body.size();  // HEAD: the headers of the GET, no body
          r.body.clear();
        }
        self->Write(std::move(r), keep_alive, version, head_length);
      });
    };
    try {
      shared_->handler(std::move(req), std::move(respond));
    } catch (const std::exception& e) {
      spdlog::error("handler threw: {}", e.what());
      Write(Problem(500, "an internal error occurred"), false, version);
    }
  }

  // /api/v1/stream: hand the socket to a WsSession once the request is admitted.
  void Upgrade(HttpRequest req, bool keep_alive, unsigned version) {
    const auto& hooks = shared_->stream;
    if (!hooks.hub || !hooks.admit)
      return Write(Problem(404, "the live stream is not enabled on this server"), keep_alive, version);
    if (!websocket::is_upgrade(parser_->get()))
      return Write(Problem(426, "/api/v1/stream is a WebSocket endpoint: send an Upgrade: websocket request"),
                   keep_alive, version);
    auto admission = hooks.admit(req);
    if (!admission.ok()) return Write(Problem(admission.status()), false, version);
    std::make_shared<WsSession>(stream_.release_socket(), shared_, std::move(admission).value())
        ->Run(parser_->release());
  }

  void Write(HttpResponse r, bool keep_alive, unsigned version, std::optional<size_t> head_length = {}) {
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
    if (head_length) res->content_length(*head_length);
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
  Impl(HttpServerOptions options, Handler handler, StreamHooks stream)
      : ioc_(std::max(1, options.threads)), acceptor_(net::make_strand(ioc_)) {
    shared_ = std::make_shared<Shared>();
    shared_->options = std::move(options);
    shared_->handler = std::move(handler);
    shared_->stream = std::move(stream);
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

HttpServer::HttpServer(HttpServerOptions options, Handler handler, StreamHooks stream)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(stream))) {}

HttpServer::~HttpServer() { Stop(); }

Result<uint16_t> HttpServer::Start() { return impl_->Start(); }

void HttpServer::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace normbase::api
