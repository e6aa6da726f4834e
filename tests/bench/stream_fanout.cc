// stream_fanout: a load generator for the live stream (/api/v1/stream).
//
// Against one server (normbase-server or the Node.js peer in peer/) it opens
// N WebSocket subscribers, waits until every one has its first message (the
// hello), then sends M events one at a time through an HTTP POST and records,
// per event, the time from just before the POST until the LAST healthy
// subscriber has the event. It prints p50/p99 across the events, the time to
// the first subscriber and to the POST's answer, and the server's memory per
// idle subscriber (VmRSS of --server-pid before connecting and after N idle
// connections, divided by N).
//
// With --slow-percent P, P% of the N subscribers (spread evenly) shrink
// their receive buffer, read the hello and then never read again; latency
// is then measured over the healthy ones only.
//
// The last line of output is machine-readable ("RESULT key=value ...") for
// tests/bench/run_stream_bench.sh, which runs this against both servers in
// interleaved pairs and reports medians and ratios.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kHandshakeTimeout = std::chrono::seconds(30);
constexpr auto kHttpTimeout = std::chrono::seconds(30);
constexpr size_t kMaxMessage = 1 << 20;
constexpr char kStreamTarget[] = "/api/v1/stream";

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string post_target;  // e.g. /api/v1/proposals/1/comments
  std::string token;        // Authorization: Bearer <token>, when not empty
  std::string label = "server";
  int server_pid = 0;  // 0: no memory figures
  size_t subscribers = 1000;
  double slow_percent = 0;
  int slow_rcvbuf = 1024;  // bytes asked of SO_RCVBUF for slow subscribers
  int events = 30;
  int warmup = 5;           // events sent first and not counted (JIT, caches)
  size_t text_bytes = 512;  // size of each comment's text
  int threads = 1;          // io_context threads
  size_t connect_inflight = 256;
  int gap_ms = 20;  // pause between events
  int event_timeout_ms = 10000;
  int settle_ms = 500;     // pause before reading the idle RSS
  bool per_event = false;  // also print every event's latencies
};

void Usage() {
  std::cerr
      << "usage: stream_fanout --url http://HOST:PORT --post-target PATH\n"
         "         [--token T | --token-file F] [--server-pid PID] [--label NAME]\n"
         "         [--subscribers N] [--events M] [--warmup W]\n"
         "         [--slow-percent P] [--slow-rcvbuf BYTES] [--text-bytes B] [--threads 1|2]\n"
         "         [--connect-inflight K] [--gap-ms MS] [--event-timeout-ms MS] [--settle-ms MS]\n"
         "         [--per-event 1]\n";
}

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> kv;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::cerr << "bad argument: " << k << "\n";
      return std::nullopt;
    }
    kv[k.substr(2)] = argv[++i];
  }
  try {
    for (auto& [k, v] : kv) {
      if (k == "url") {
        constexpr std::string_view kScheme = "http://";
        std::string rest = v.rfind(kScheme, 0) == 0 ? v.substr(kScheme.size()) : v;
        while (!rest.empty() && rest.back() == '/') rest.pop_back();
        const auto colon = rest.rfind(':');
        if (colon == std::string::npos) throw std::invalid_argument("--url needs host:port");
        o.host = rest.substr(0, colon);
        o.port = static_cast<uint16_t>(std::stoi(rest.substr(colon + 1)));
      } else if (k == "post-target") {
        o.post_target = v;
      } else if (k == "token") {
        o.token = v;
      } else if (k == "token-file") {
        std::ifstream in(v);
        std::getline(in, o.token);
        if (!in && o.token.empty()) throw std::invalid_argument("cannot read " + v);
      } else if (k == "label") {
        o.label = v;
      } else if (k == "server-pid") {
        o.server_pid = std::stoi(v);
      } else if (k == "subscribers") {
        o.subscribers = std::stoul(v);
      } else if (k == "slow-percent") {
        o.slow_percent = std::stod(v);
      } else if (k == "slow-rcvbuf") {
        o.slow_rcvbuf = std::stoi(v);
      } else if (k == "events") {
        o.events = std::stoi(v);
      } else if (k == "warmup") {
        o.warmup = std::stoi(v);
      } else if (k == "text-bytes") {
        o.text_bytes = std::stoul(v);
      } else if (k == "threads") {
        o.threads = std::clamp(std::stoi(v), 1, 2);
      } else if (k == "connect-inflight") {
        o.connect_inflight = std::max<size_t>(1, std::stoul(v));
      } else if (k == "gap-ms") {
        o.gap_ms = std::stoi(v);
      } else if (k == "event-timeout-ms") {
        o.event_timeout_ms = std::stoi(v);
      } else if (k == "settle-ms") {
        o.settle_ms = std::stoi(v);
      } else if (k == "per-event") {
        o.per_event = v == "1" || v == "true";
      } else {
        throw std::invalid_argument("unknown option --" + k);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return std::nullopt;
  }
  if (o.port == 0 || o.post_target.empty() || o.events < 1 || o.subscribers < 1)
    return std::nullopt;
  return o;
}

// VmRSS of a process in KiB; 0 when unknown.
long ReadRssKib(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// utime + stime of a process in milliseconds; 0 when unknown.
double ReadCpuMs(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = all.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream rest(all.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return 1000.0 * static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void RaiseFileLimit(size_t needed) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) std::perror("setrlimit");
  if (rl.rlim_cur < needed + 64)
    std::cerr << "warning: RLIMIT_NOFILE is " << rl.rlim_cur << ", fewer than the " << needed
              << " sockets asked for; raise the hard limit (ulimit -Hn)\n";
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return NAN;
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// One event in flight: who has it, and when the first and last healthy
// subscriber got it (nanoseconds since the run's epoch).
struct EventSlot {
  std::atomic<size_t> received{0};
  std::atomic<int64_t> first_ns{0};
  std::atomic<int64_t> last_ns{0};
};

// State shared by the subscribers (io threads) and the main thread.
class Tally {
 public:
  Tally(std::string marker, int total_events)
      : marker_(std::move(marker)), slots_(total_events), epoch_(Clock::now()) {}

  const std::string& marker() const { return marker_; }
  int64_t NowNs() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - epoch_).count();
  }

  void OnReady(bool healthy) {
    if (healthy) ++healthy_ready_;
    Bump(ready_);
  }
  void OnConnectFailure(const std::string& what) {
    {
      std::lock_guard lk(mu_);
      if (first_error_.empty()) first_error_ = what;
    }
    Bump(connect_failures_);
  }
  // A healthy subscriber's stream ended (slow ones never read, so never see
  // theirs). `close_code` 0: no close frame (reset, EOF).
  void OnDisconnect(int close_code) {
    {
      std::lock_guard lk(mu_);
      ++close_codes_[close_code];
    }
    Bump(healthy_lost_);
  }
  // A healthy subscriber's message: finds the marker and counts the event.
  void OnMessage(std::string_view text) {
    bytes_.fetch_add(text.size(), std::memory_order_relaxed);
    messages_.fetch_add(1, std::memory_order_relaxed);
    const auto at = text.find(marker_);
    if (at == std::string_view::npos) return;
    size_t i = 0, p = at + marker_.size();
    bool digits = false;
    for (; p < text.size() && text[p] >= '0' && text[p] <= '9'; ++p, digits = true)
      i = i * 10 + (text[p] - '0');
    if (!digits || i >= slots_.size()) return;
    EventSlot& s = slots_[i];
    const int64_t now = NowNs();
    const size_t n = s.received.fetch_add(1) + 1;
    if (n == 1) s.first_ns = now;
    s.last_ns = now;  // racy between two io threads by nanoseconds; the last writer is close enough
    if (n + healthy_lost_.load() >= healthy_ready_.load()) Notify();
  }

  size_t ready() const { return ready_.load(); }
  size_t connect_failures() const { return connect_failures_.load(); }
  size_t healthy_lost() const { return healthy_lost_.load(); }
  uint64_t bytes() const { return bytes_.load(); }
  uint64_t messages() const { return messages_.load(); }
  EventSlot& slot(int i) { return slots_[static_cast<size_t>(i)]; }
  std::string first_error() {
    std::lock_guard lk(mu_);
    return first_error_;
  }
  std::map<int, size_t> close_codes() {
    std::lock_guard lk(mu_);
    return close_codes_;
  }

  // Waits until `done()` holds or the deadline passes; true if it held.
  template <typename Pred>
  bool WaitUntil(Pred done, Clock::time_point deadline) {
    std::unique_lock lk(mu_);
    return cv_.wait_until(lk, deadline, done);
  }
  // Every healthy subscriber that connected and is still there has event i.
  bool EventComplete(int i) {
    return slots_[static_cast<size_t>(i)].received.load() + healthy_lost_.load() >=
           healthy_ready_.load();
  }

 private:
  void Bump(std::atomic<size_t>& c) {
    ++c;
    Notify();
  }
  void Notify() {
    std::lock_guard lk(mu_);  // so a waiter between its check and its sleep cannot miss this
    cv_.notify_all();
  }

  const std::string marker_;
  std::vector<EventSlot> slots_;
  const Clock::time_point epoch_;
  std::atomic<size_t> ready_{0}, healthy_ready_{0}, connect_failures_{0}, healthy_lost_{0};
  std::atomic<uint64_t> bytes_{0}, messages_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::string first_error_;            // GUARDED_BY(mu_)
  std::map<int, size_t> close_codes_;  // GUARDED_BY(mu_)
};

// One WebSocket subscriber on its own strand. A slow one shrinks its receive
// buffer before connecting and stops reading after the hello.
class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  Subscriber(net::any_io_executor ex, Tally& tally, const Options& o, bool slow,
             std::function<void()> next)
      : ws_(ex), tally_(tally), options_(o), slow_(slow), next_(std::move(next)) {}

  // Connects on the subscriber's own strand; callable from any thread.
  void Launch(const tcp::endpoint& ep) {
    net::post(ws_.get_executor(), [self = shared_from_this(), ep] { self->Start(ep); });
  }

 private:
  void Start(const tcp::endpoint& ep) {
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(ws_).socket();
    sock.open(ep.protocol(), ec);
    if (ec) return Fail(ec, "socket");
    if (slow_) sock.set_option(net::socket_base::receive_buffer_size(options_.slow_rcvbuf), ec);
    beast::get_lowest_layer(ws_).expires_after(kHandshakeTimeout);
    beast::get_lowest_layer(ws_).async_connect(
        ep, beast::bind_front_handler(&Subscriber::OnConnect, shared_from_this()));
  }

  void OnConnect(beast::error_code ec) {
    if (ec) return Fail(ec, "connect");
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t =
        websocket::stream_base::timeout::suggested(beast::role_type::client);
    t.handshake_timeout = kHandshakeTimeout;
    ws_.set_option(t);
    ws_.read_message_max(kMaxMessage);
    ws_.async_handshake(options_.host + ":" + std::to_string(options_.port), kStreamTarget,
                        beast::bind_front_handler(&Subscriber::OnHandshake, shared_from_this()));
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) return Fail(ec, "handshake");
    DoRead();
  }

  void DoRead() {
    ws_.async_read(buffer_, beast::bind_front_handler(&Subscriber::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) {
      if (!hello_) return Fail(ec, "first read");
      if (ec != net::error::operation_aborted)
        tally_.OnDisconnect(ws_.is_open() ? 0 : static_cast<int>(ws_.reason().code));
      return;
    }
    if (!hello_) {
      hello_ = true;
      buffer_.consume(buffer_.size());
      tally_.OnReady(!slow_);
      next_();
      if (slow_) return;  // never reads again
      return DoRead();
    }
    const auto data = buffer_.cdata();
    tally_.OnMessage(std::string_view(static_cast<const char*>(data.data()), data.size()));
    buffer_.consume(buffer_.size());
    DoRead();
  }

  void Fail(beast::error_code ec, const char* what) {
    tally_.OnConnectFailure(std::string(what) + ": " + ec.message());
    next_();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  Tally& tally_;
  const Options& options_;
  const bool slow_;
  std::function<void()> next_;
  bool hello_ = false;
};

// A keep-alive HTTP connection for the POSTs, used from the main thread
// only (its own io_context, run per call so the deadlines apply). If the
// server closed the connection while it was idle, it reconnects once.
class Poster {
 public:
  Poster(const Options& o, const tcp::endpoint& ep) : options_(o), endpoint_(ep), stream_(ioc_) {}

  // Opens the connection now (before the subscribers take the server's
  // connection slots). False with `error` set when it cannot.
  bool Connect(std::string* error) {
    beast::error_code ec;
    stream_.expires_after(kHttpTimeout);
    stream_.async_connect(endpoint_, [&](beast::error_code e) { ec = e; });
    RunIo();
    if (ec) {
      *error = "connect: " + ec.message();
      return false;
    }
    stream_.socket().set_option(tcp::no_delay(true), ec);
    connected_ = true;
    return true;
  }

  // Returns the HTTP status, or -1 with `error` set.
  int Post(const std::string& body, std::string* error) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = connected_;
      if (!connected_ && !Connect(error)) return -1;
      http::request<http::string_body> req{http::verb::post, options_.post_target, 11};
      req.set(http::field::host, options_.host + ":" + std::to_string(options_.port));
      req.set(http::field::content_type, "application/json");
      if (!options_.token.empty()) req.set(http::field::authorization, "Bearer " + options_.token);
      req.keep_alive(true);
      req.body() = body;
      req.prepare_payload();
      http::response<http::string_body> res;
      beast::error_code ec;
      stream_.expires_after(kHttpTimeout);
      http::async_write(stream_, req, [&](beast::error_code e, std::size_t) {
        ec = e;
        if (!e)
          http::async_read(stream_, buffer_, res,
                           [&](beast::error_code e2, std::size_t) { ec = e2; });
      });
      RunIo();
      if (ec) {
        *error = "post: " + ec.message();
        Reset();
        if (reused) continue;  // closed while idle: once more on a new connection
        return -1;
      }
      if (!res.keep_alive()) Reset();
      if (res.result_int() >= 300) *error = res.body().substr(0, 300);
      return static_cast<int>(res.result_int());
    }
    return -1;
  }

 private:
  void RunIo() {
    ioc_.restart();
    ioc_.run();
  }
  void Reset() {
    beast::error_code ec;
    stream_.socket().close(ec);
    buffer_.clear();
    connected_ = false;
  }

  const Options& options_;
  tcp::endpoint endpoint_;
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

std::string RandomNonce() {
  std::random_device rd;
  std::ostringstream ss;
  ss << std::hex << rd() << rd();
  return ss.str();
}

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

int Run(const Options& o) {
  const size_t n = o.subscribers;
  const size_t slow =
      static_cast<size_t>(std::llround(static_cast<double>(n) * o.slow_percent / 100.0));
  const size_t healthy = n - slow;
  RaiseFileLimit(n + 16);

  beast::error_code ec;
  const tcp::endpoint ep(net::ip::make_address(o.host, ec), o.port);
  if (ec) {
    std::cerr << "--url: '" << o.host << "' is not an IP address\n";
    return 2;
  }
  const int total_events = o.warmup + o.events;
  Tally tally("nbbench-" + RandomNonce() + "-", total_events);

  std::string error;
  Poster poster(o, ep);
  if (!poster.Connect(&error)) {
    std::cerr << "cannot reach the server: " << error << "\n";
    return 1;
  }
  const long rss_before = ReadRssKib(o.server_pid);

  // Connect N subscribers, at most connect_inflight at a time. The slow ones
  // are spread evenly among them.
  net::io_context ioc(o.threads);
  auto guard = net::make_work_guard(ioc);
  std::vector<std::shared_ptr<Subscriber>> subs;
  subs.reserve(n);
  std::atomic<size_t> next_index{0};
  std::function<void()> start_next = [&] {
    const size_t i = next_index.fetch_add(1);
    if (i >= subs.size()) return;
    subs[i]->Launch(ep);
  };
  const size_t slow_every = slow ? n / slow : 0;
  size_t slow_made = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool is_slow = slow_every && i % slow_every == slow_every / 2 && slow_made < slow;
    slow_made += is_slow;
    subs.push_back(
        std::make_shared<Subscriber>(net::make_strand(ioc), tally, o, is_slow, start_next));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) threads.emplace_back([&ioc] { ioc.run(); });
  const auto connect_start = Clock::now();
  for (size_t i = 0; i < std::min(n, o.connect_inflight); ++i) start_next();
  const auto connect_deadline =
      connect_start + std::chrono::seconds(60) + std::chrono::milliseconds(10 * n);
  tally.WaitUntil([&] { return tally.ready() + tally.connect_failures() >= n; }, connect_deadline);
  const double connect_s = std::chrono::duration<double>(Clock::now() - connect_start).count();
  std::cerr << o.label << ": " << tally.ready() << "/" << n << " subscribers ready in " << connect_s
            << " s (" << slow << " slow)";
  if (tally.connect_failures())
    std::cerr << ", " << tally.connect_failures() << " failed (first: " << tally.first_error()
              << ")";
  std::cerr << "\n";

  std::this_thread::sleep_for(std::chrono::milliseconds(o.settle_ms));
  const long rss_idle = ReadRssKib(o.server_pid);

  // Events, one at a time.
  std::vector<double> last_ms, first_ms, ack_ms;
  int incomplete = 0, post_errors = 0;
  const double cpu_before = ReadCpuMs(o.server_pid);
  const double own_cpu_before = ReadCpuMs(getpid());
  const std::string padding(o.text_bytes > 64 ? o.text_bytes - 64 : 0, 'x');
  for (int i = 0; i < total_events && tally.ready() > 0; ++i) {
    const std::string body =
        nlohmann::json{{"text", tally.marker() + std::to_string(i) + " " + padding}}.dump();
    const int64_t t0 = tally.NowNs();
    const int status = poster.Post(body, &error);
    const int64_t t_ack = tally.NowNs();
    if (status < 200 || status >= 300) {
      ++post_errors;
      std::cerr << o.label << ": POST answered " << status << ": " << error << "\n";
      continue;
    }
    const bool done = tally.WaitUntil([&] { return tally.EventComplete(i); },
                                      Clock::now() + std::chrono::milliseconds(o.event_timeout_ms));
    if (i >= o.warmup) {
      EventSlot& s = tally.slot(i);
      if (!done) ++incomplete;
      last_ms.push_back(done ? Ms(s.last_ns - t0) : o.event_timeout_ms);
      if (s.first_ns) first_ms.push_back(Ms(s.first_ns - t0));
      ack_ms.push_back(Ms(t_ack - t0));
      if (o.per_event)
        std::printf("event %d: POST answered %.2f ms, first %.2f ms, last %.2f ms%s\n",
                    i - o.warmup, ack_ms.back(), s.first_ns ? Ms(s.first_ns - t0) : NAN,
                    last_ms.back(), done ? "" : " (timed out)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(o.gap_ms));
  }
  const double cpu_ms = ReadCpuMs(o.server_pid) - cpu_before;
  const double own_cpu_ms = ReadCpuMs(getpid()) - own_cpu_before;

  std::sort(last_ms.begin(), last_ms.end());
  std::sort(first_ms.begin(), first_ms.end());
  std::sort(ack_ms.begin(), ack_ms.end());
  const double per_sub =
      rss_idle && rss_before && tally.ready()
          ? 1024.0 * static_cast<double>(rss_idle - rss_before) / static_cast<double>(tally.ready())
          : NAN;
  const double avg_bytes =
      tally.messages() ? static_cast<double>(tally.bytes()) / tally.messages() : 0;
  const auto codes = tally.close_codes();
  std::string codes_text;
  for (auto& [code, count] : codes)
    codes_text +=
        (codes_text.empty() ? "" : ",") + std::to_string(code) + ":" + std::to_string(count);

  std::printf(
      "%s: n=%zu healthy=%zu slow=%zu events=%zu  last-subscriber p50=%.2f ms p99=%.2f ms  "
      "first p50=%.2f ms  POST answered p50=%.2f ms  rss %ld -> %ld KiB (%.0f B/subscriber)  "
      "server cpu %.1f ms/event  generator cpu %.1f ms/event\n",
      o.label.c_str(), n, healthy, slow, last_ms.size(), Percentile(last_ms, 0.5),
      Percentile(last_ms, 0.99), Percentile(first_ms, 0.5), Percentile(ack_ms, 0.5), rss_before,
      rss_idle, per_sub, cpu_ms / total_events, own_cpu_ms / total_events);
  std::printf(
      "RESULT label=%s n=%zu slow=%zu ready=%zu connect_failures=%zu connect_s=%.2f events=%zu "
      "incomplete=%d post_errors=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f first_p50_ms=%.3f "
      "ack_p50_ms=%.3f "
      "rss_before_kib=%ld rss_idle_kib=%ld rss_per_sub_b=%.0f cpu_ms_per_event=%.2f "
      "gen_cpu_ms_per_event=%.2f msg_bytes=%.0f "
      "healthy_lost=%zu close_codes=%s\n",
      o.label.c_str(), n, slow, tally.ready(), tally.connect_failures(), connect_s, last_ms.size(),
      incomplete, post_errors, Percentile(last_ms, 0.5), Percentile(last_ms, 0.99),
      last_ms.empty() ? NAN : last_ms.back(), Percentile(first_ms, 0.5), Percentile(ack_ms, 0.5),
      rss_before, rss_idle, per_sub, cpu_ms / total_events, own_cpu_ms / total_events, avg_bytes,
      tally.healthy_lost(), codes_text.empty() ? "-" : codes_text.c_str());
  std::fflush(stdout);

  // The process exit closes the sockets; no orderly close of N connections.
  guard.reset();
  ioc.stop();
  for (auto& t : threads) t.join();
  std::_Exit(incomplete || post_errors || tally.ready() < n ? 3 : 0);
}

}  // namespace

int main(int argc, char** argv) {
  auto options = ParseArgs(argc, argv);
  if (!options) {
    Usage();
    return 2;
  }
  return Run(*options);
}
