// The only translation unit that includes Boost.Beast: keep it that way, it
// is the heaviest one to compile.
#include "api/http_server.h"

#include <spdlog/spdlog.h>

#include <pthread.h>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket.hpp>
#include <mutex>
#include <optional>
#include <span>
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

class WsSession;

// Each I/O thread runs an io_context of its own (a "lane"), and a connection
// lives on one lane from accept to close. Its handlers therefore never run
// concurrently, without a strand; a hand-off between two of them on the same
// thread wakes nobody; and the threads do not take turns at one scheduler's
// lock and epoll descriptor, which with two threads sharing one io_context
// woke the idle thread for nearly every completion (seen with strace).
using LaneExecutor = net::io_context::executor_type;

// Starts the writers of one fan-out in batches (see stream::FanOutScope).
// While the hub thread pushes an event to every subscriber, the sessions whose
// writer is idle are collected here, per lane, instead of each posting itself
// from the hub thread: one post per kFanOutBatch sessions, not one per
// subscriber, and on the lane's thread that runs the batch the session's write
// starts inline. That saves, per subscriber and event, an allocation and a
// scheduler hand-off, and often a thread wake-up.
struct FanOutBatch {
  std::span<const LaneExecutor> lanes;
  std::vector<std::vector<std::shared_ptr<WsSession>>> sessions;  // by lane
};
constexpr size_t kFanOutBatch = 64;
thread_local FanOutBatch* t_fan_out = nullptr;  // set on the hub thread during a fan-out
void StartWriters(FanOutBatch& batch, size_t lane);

// A live-stream client: the hub pushes frames from its thread; they wait in a
// bounded queue and are written one at a time on the session's lane.
//
// Thousands of these sit idle at once, so an idle one is kept small: a plain
// socket under the WebSocket stream (its own timer does the timeouts), no read
// buffer while no message is arriving, and a write queue that holds no memory
// while it is empty.
class WsSession : public stream::StreamSink, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket&& socket, size_t lane, std::shared_ptr<Shared> shared,
            stream::StreamAdmission admission)
      : ws_(std::move(socket)),
        shared_(std::move(shared)),
        filter_(std::move(admission.filter)),
        lane_(static_cast<uint32_t>(lane)) {
    ++shared_->connections;
  }
  ~WsSession() override {
    if (id_ != 0) shared_->stream.hub->Unsubscribe(id_);
    --shared_->connections;
  }

  // `since` is only needed until the subscription starts, so it is not a member.
  void Run(http::request<http::string_body> req, std::optional<uint64_t> since) {
    const auto& h = shared_->stream;
    websocket::stream_base::timeout t{h.handshake_timeout, h.idle_timeout, /*keep_alive_pings=*/true};
    ws_.set_option(t);
    ws_.read_message_max(h.max_client_message);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, kServerName); }));
    ws_.async_accept(req, [self = shared_from_this(), since](beast::error_code ec) {
      self->OnAccept(ec, since);
    });
  }

  // From the hub thread (and from this session for control frames).
  void Push(std::span<const stream::FramePtr> frames) override {
    {
      std::lock_guard lk(mu_);
      if (close_pending_) return;
      if (QueuedLocked() + frames.size() > shared_->stream.max_queue) {
        close_pending_ = true;  // DoWrite closes, with the reason
      } else {
        queue_.insert(queue_.end(), frames.begin(), frames.end());
      }
      if (writing_) return;
      writing_ = true;
    }
    if (t_fan_out) {
      auto& batch = t_fan_out->sessions[lane_];
      batch.push_back(shared_from_this());
      if (batch.size() >= kFanOutBatch) StartWriters(*t_fan_out, lane_);
    } else {
      net::post(ws_.get_executor(), [self = shared_from_this()] { self->DoWrite(); });
    }
  }

  // On the session's lane (a fan-out batch): the write starts inline.
  void StartWriter() {
    net::dispatch(ws_.get_executor(), [self = shared_from_this()] { self->DoWrite(); });
  }

 private:
  // Frames kept in a drained queue's vector; a longer one is freed.
  static constexpr size_t kKeptQueueCapacity = 16;
  // Where the zero-byte read points. Never written (it has no room), but it
  // must not be null: Beast's UTF-8 check of the (empty) text it read walks
  // the pointer and would read address 0.
  static inline char zero_read_target_ = 0;

  void OnAccept(beast::error_code ec, std::optional<uint64_t> since) {
    if (ec) return;
    auto* hub = shared_->stream.hub;
    id_ = hub->NextSubscriberId();  // from 1: 0 means "not subscribed"
    const auto filter = filter_;
    hub->Subscribe(id_, weak_from_this(), filter, since, [&](const stream::SubscribeResult& r) {
      return stream::HelloFrame(r, *filter, since);
    });
    WaitForMessage();
  }

  // Most subscribers never send a message, so between messages only a
  // zero-byte read is pending. Inside it Beast reads frame headers into the
  // stream's own buffer, answers pings, takes the pongs that keep the idle
  // timeout from firing and runs the close handshake; it completes once a
  // data frame starts. Only then is buffer_ made, for that one message.
  void WaitForMessage() {
    ws_.async_read_some(net::mutable_buffer(&zero_read_target_, 0),
                        beast::bind_front_handler(&WsSession::OnMessageStart, shared_from_this()));
  }

  void OnMessageStart(beast::error_code ec, std::size_t) {
    if (ec) return;  // closed, timed out (no pong) or too big: the stream ends
    buffer_ = std::make_unique<beast::flat_buffer>();
    if (ws_.is_message_done()) return OnMessage({}, 0);  // an empty message
    ws_.async_read(*buffer_, beast::bind_front_handler(&WsSession::OnMessage, shared_from_this()));
  }

  void OnMessage(beast::error_code ec, std::size_t) {
    if (ec) return;
    const std::string text = beast::buffers_to_string(buffer_->data());
    buffer_.reset();  // freed: the next message may never come
    auto cmd = stream::ParseClientMessage(text);
    const uint64_t seq = shared_->stream.hub->LastSeq();
    stream::FramePtr reply;
    if (!cmd.ok()) {
      reply = stream::ErrorFrame(cmd.status().message(), seq);
    } else if (cmd->op == stream::ClientCommand::Op::kPing) {
      reply = stream::SubscribedFrame(*filter_, seq);
    } else {
      Result<stream::TopicFilter> next =
          cmd->op == stream::ClientCommand::Op::kSubscribe
              ? filter_->With(cmd->topics)
              : Result<stream::TopicFilter>(filter_->Without(cmd->topics));
      if (!next.ok()) {
        reply = stream::ErrorFrame(next.status().message(), seq);
      } else {
        filter_ = std::make_shared<const stream::TopicFilter>(std::move(next).value());
        shared_->stream.hub->SetFilter(id_, filter_);
        reply = stream::SubscribedFrame(*filter_, seq);
      }
    }
    Push({&reply, 1});
    WaitForMessage();
  }

  void DoWrite() {
    stream::FramePtr next;
    uint64_t resume_after = 0;
    {
      std::lock_guard lk(mu_);
      if (close_pending_) {
        if (closing_) return;
        closing_ = true;
        resume_after = last_sent_seq_;
        std::vector<stream::FramePtr>().swap(queue_);
        queue_head_ = 0;
      } else if (QueuedLocked() == 0) {
        writing_ = false;
        return;
      } else {
        next = queue_[queue_head_];
      }
    }
    if (!next) {
      websocket::close_reason reason(static_cast<websocket::close_code>(stream::kCloseTooSlow));
      // The client resumes after the last event it was sent (those queued
      // behind it are dropped with the queue).
      reason.reason = "too slow: more than " + std::to_string(shared_->stream.max_queue) +
                      " messages waiting; resume with since=" + std::to_string(resume_after);
      ws_.async_close(reason, [self = shared_from_this()](beast::error_code) {});
      return;
    }
    ws_.text(true);
    ws_.async_write(net::buffer(next->text),
                    [self = shared_from_this(), next](beast::error_code ec, std::size_t) {
                      if (ec) return;
                      {
                        std::lock_guard lk(self->mu_);
                        if (self->QueuedLocked() > 0 && self->queue_[self->queue_head_] == next)
                          self->PopFrontLocked();
                        if (next->seq) self->last_sent_seq_ = next->seq;
                      }
                      self->DoWrite();
                    });
  }

  size_t QueuedLocked() const { return queue_.size() - queue_head_; }

  void PopFrontLocked() {
    queue_[queue_head_].reset();
    if (++queue_head_ == queue_.size()) {
      queue_head_ = 0;
      if (queue_.capacity() > kKeptQueueCapacity)
        std::vector<stream::FramePtr>().swap(queue_);  // a burst is over: give it back
      else
        queue_.clear();
    } else if (queue_head_ >= kKeptQueueCapacity && queue_head_ * 2 >= queue_.size()) {
      // Never drained (a steady stream): drop the written prefix, in amortised O(1).
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(queue_head_));
      queue_head_ = 0;
    }
  }

  // Without permessage-deflate support (never negotiated here), whose state
  // Beast would otherwise keep in every stream.
  websocket::stream<tcp::socket, /*deflateSupported=*/false> ws_;
  std::unique_ptr<beast::flat_buffer> buffer_;  // only while a message arrives
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<const stream::TopicFilter> filter_;  // replaced on (un)subscribe, on the lane
  uint64_t id_ = 0;                                    // the hub's subscriber id once subscribed
  uint32_t lane_ = 0;                                  // the I/O thread this stream lives on

  std::mutex mu_;
  // Frames to write, oldest at queue_head_. A vector, unlike a deque,
  // allocates nothing while empty.
  std::vector<stream::FramePtr> queue_;  // GUARDED_BY(mu_)
  size_t queue_head_ = 0;                // GUARDED_BY(mu_)
  bool writing_ = false;                 // GUARDED_BY(mu_): a DoWrite chain is running or about to
  bool close_pending_ = false;           // GUARDED_BY(mu_)
  bool closing_ = false;                 // GUARDED_BY(mu_)
  uint64_t last_sent_seq_ = 0;           // GUARDED_BY(mu_)
};

void StartWriters(FanOutBatch& batch, size_t lane) {
  auto& pending = batch.sessions[lane];
  if (pending.empty()) return;
  net::post(batch.lanes[lane], [sessions = std::move(pending)] {
    for (const auto& s : sessions) s->StartWriter();
  });
  pending = {};
  pending.reserve(kFanOutBatch);
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, size_t lane, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)), lane_(lane) {
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
    // Beast reads at most the buffer's free capacity, and at least 512 bytes:
    // left to grow by itself the buffer stays near 512, so a request of a few
    // hundred bytes of headers plus a body took two reads and two trips
    // through epoll. Reserved once per connection; kept between requests.
    if (buffer_.capacity() < kReadBufferBytes) buffer_.reserve(kReadBufferBytes);
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
    if (!remote_known_) {  // once per connection: a getpeername() per request showed in profiles
      beast::error_code ep_ec;
      auto ep = stream_.socket().remote_endpoint(ep_ec);
      if (!ep_ec) remote_ = ep.address().to_string();
      remote_known_ = true;
    }
    req.remote = remote_;
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();
    const bool head = msg.method() == http::verb::head;
    if (!ParseTarget(req.target, &req.path, &req.query))
      return Write(Problem(400, "malformed request target (bad percent-encoding)"), keep_alive, version);
    if (req.path == "/api/v1/stream") return Upgrade(std::move(req), keep_alive, version);
    stream_.expires_never();  // the handler may take a while (a durable write)
    Respond respond = [self = shared_from_this(), keep_alive, version, head](HttpResponse r) {
      net::post(self->stream_.get_executor(), [self, r = std::move(r), keep_alive, version, head]() mutable {
        r.Render();
        std::optional<size_t> head_length;
        if (head) {
          head_length = r.body_size();  // HEAD: the headers of the GET, no body
          r.body.clear();
          r.shared_body.reset();
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
    const auto since = admission->since;
    std::make_shared<WsSession>(stream_.release_socket(), lane_, shared_,
                                std::move(admission).value())
        ->Run(parser_->release(), since);
  }

  void Write(HttpResponse r, bool keep_alive, unsigned version, std::optional<size_t> head_length = {}) {
    // The body is shared (a cached answer) or moved in, never copied.
    auto body = r.shared_body ? std::move(r.shared_body) : std::make_shared<const std::string>(std::move(r.body));
    auto res = std::make_shared<http::response<http::span_body<const char>>>(
        static_cast<http::status>(r.status), version);
    res->set(http::field::server, kServerName);
    res->set(http::field::content_type, r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    res->set(http::field::cache_control, "no-store");
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(keep_alive);
    res->body() = {body->data(), body->size()};
    res->prepare_payload();
    if (head_length) res->content_length(*head_length);
    if (r.status == 304) res->content_length(boost::none);  // RFC 9110 8.6: not "0" on a 304
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, body, keep_alive](beast::error_code ec, std::size_t) {
                        if (ec || !keep_alive) return self->Close();
                        self->DoRead();
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  static constexpr size_t kReadBufferBytes = 4096;

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Shared> shared_;
  size_t lane_;  // the I/O thread this connection lives on
  bool first_request_ = true;
  bool remote_known_ = false;
  std::string remote_;  // the peer's address, for rate limits and logs
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, Handler handler, StreamHooks stream)
      : contexts_(MakeContexts(options.threads)), acceptor_(contexts_.front()->get_executor()) {
    for (const auto& c : contexts_) {
      lanes_.push_back(c->get_executor());
      work_.emplace_back(c->get_executor());  // a lane with no connection yet keeps running
    }
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
    if (auto* hub = shared_->stream.hub)
      hub->SetFanOutScope(
          [lanes = std::span<const LaneExecutor>(lanes_)](const std::function<void()>& fan_out) {
            FanOutBatch batch{lanes,
                              std::vector<std::vector<std::shared_ptr<WsSession>>>(lanes.size())};
            t_fan_out = &batch;
            fan_out();
            t_fan_out = nullptr;
            for (size_t lane = 0; lane < lanes.size(); ++lane) StartWriters(batch, lane);
          });
    DoAccept();
    for (size_t i = 0; i < contexts_.size(); ++i)
      threads_.emplace_back([&ioc = *contexts_[i], name = "nb-http-" + std::to_string(i)] {
        pthread_setname_np(pthread_self(), name.c_str());  // seen in top -H, perf, gdb
        ioc.run();
      });
    return port;
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    // Before the io_context goes: the hub must not post to it any more.
    if (auto* hub = shared_->stream.hub) hub->SetFanOutScope(nullptr);
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  void DoAccept() {
    // Connections go to the lanes in turn.
    const size_t lane = next_lane_;
    next_lane_ = (next_lane_ + 1) % lanes_.size();
    acceptor_.async_accept(lanes_[lane], [this, lane](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted) return;
        spdlog::warn("accept failed: {}", ec.message());
      } else {
        auto session = std::make_shared<Session>(std::move(socket), lane, shared_);
        if (shared_->connections > shared_->options.max_connections)
          session->Refuse(Problem(503, "too many connections; retry shortly"));
        else
          session->Run();
      }
      if (!stopped_) DoAccept();
    });
  }

  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(int threads) {
    std::vector<std::unique_ptr<net::io_context>> contexts;
    for (int i = 0; i < std::max(1, threads); ++i)
      contexts.push_back(std::make_unique<net::io_context>(/*concurrency_hint=*/1));
    return contexts;
  }

  std::vector<std::unique_ptr<net::io_context>> contexts_;  // one per I/O thread
  std::vector<LaneExecutor> lanes_;                         // their executors, same order
  std::vector<net::executor_work_guard<LaneExecutor>> work_;
  tcp::acceptor acceptor_;  // on the first lane
  size_t next_lane_ = 0;    // the lane of the next accepted connection (accept handler only)
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
