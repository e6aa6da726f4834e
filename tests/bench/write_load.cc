// write_load: a load generator for durable writes over HTTP.
//
// Against a running normbase-server it keeps C keep-alive connections busy,
// each with exactly one request in flight, for a fixed duration or a fixed
// number of requests, and prints one JSON line: requests per second, p50/p99
// latency in microseconds (write of the request to the last byte of the
// answer), errors, and what the server did meanwhile (CPU per request, mean
// commit-group size from /metrics, WAL bytes per write from the data dir).
//
// Kinds of write (--kind):
//   comment   POST /api/v1/proposals/{id}/comments {"text": <value-bytes>}
//   vote      POST /api/v1/proposals/{id}/reviews  {"verdict":"approve","text": <value-bytes>}
//             (by a voter user with a stakeholder group, created in set-up)
//   proposal  POST /api/v1/proposals {"kind":"add","rationale": <value-bytes>, "agreement": {...}}
//
// A proposal is one stored record holding its comments and reviews, rewritten
// on every one of them. So that records keep a realistic size, comments and
// votes fill pre-created proposals one after the other, --per-proposal each
// (default 100): the record a write rewrites then holds 0..99 comments, about
// 50 on average. Set-up (not measured) reads the admin token from
// <data>/bootstrap-admin.token and creates the proposals over HTTP.
//
// Everything runs on one io_context thread; the connections never share a
// request. tests/bench/run_write_bench.sh runs this against db_bench.
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr auto kRequestTimeout = std::chrono::seconds(30);
constexpr int kMaxReconnects = 3;           // per connection, then it gives up
constexpr size_t kResponseLimit = 16 << 20;  // a proposal with 500 comments fits
constexpr size_t kSetupConnections = 16;
constexpr size_t kMaxStatusErrorsShown = 3;

enum class Kind { kComment, kVote, kProposal };

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string data_dir;  // token and WAL sizes; optional when --token-file is given
  std::string token_file;
  std::string label = "normbase";
  Kind kind = Kind::kComment;
  size_t connections = 1;
  double duration_s = 5;  // used when requests == 0
  size_t requests = 0;    // measured requests, when > 0
  double warmup_s = 1;
  size_t value_bytes = 512;
  size_t per_proposal = 100;
  size_t proposals = 0;      // 0: enough for max_rate over the whole run
  double max_rate = 20000;   // writes/s assumed when sizing the pool
  int server_pid = 0;        // 0: no server CPU figure
};

void Usage() {
  std::cerr << "usage: write_load --url http://HOST:PORT (--data DIR | --token-file F)\n"
               "         [--kind comment|vote|proposal] [--connections C]\n"
               "         [--duration S | --requests N] [--warmup S] [--value-bytes B]\n"
               "         [--per-proposal K] [--proposals P] [--max-rate R]\n"
               "         [--server-pid PID] [--label NAME]\n";
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
      } else if (k == "data") {
        o.data_dir = v;
      } else if (k == "token-file") {
        o.token_file = v;
      } else if (k == "label") {
        o.label = v;
      } else if (k == "kind") {
        if (v == "comment") o.kind = Kind::kComment;
        else if (v == "vote") o.kind = Kind::kVote;
        else if (v == "proposal") o.kind = Kind::kProposal;
        else throw std::invalid_argument("--kind: one of comment, vote, proposal");
      } else if (k == "connections") {
        o.connections = std::stoul(v);
      } else if (k == "duration") {
        o.duration_s = std::stod(v);
      } else if (k == "requests") {
        o.requests = std::stoul(v);
      } else if (k == "warmup") {
        o.warmup_s = std::stod(v);
      } else if (k == "value-bytes") {
        o.value_bytes = std::stoul(v);
      } else if (k == "per-proposal") {
        o.per_proposal = std::stoul(v);
      } else if (k == "proposals") {
        o.proposals = std::stoul(v);
      } else if (k == "max-rate") {
        o.max_rate = std::stod(v);
      } else if (k == "server-pid") {
        o.server_pid = std::stoi(v);
      } else {
        throw std::invalid_argument("unknown option --" + k);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return std::nullopt;
  }
  if (o.port == 0 || (o.data_dir.empty() && o.token_file.empty()) || o.connections < 1 ||
      o.per_proposal < 1 || o.value_bytes < 16 || (o.requests == 0 && o.duration_s <= 0))
    return std::nullopt;
  if (o.token_file.empty()) o.token_file = o.data_dir + "/bootstrap-admin.token";
  return o;
}

// utime + stime of a process in microseconds; 0 when unknown.
double ReadCpuUs(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = all.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream rest(all.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // utime is field 14, stime 15
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return 1e6 * static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Bytes in RocksDB's write-ahead logs (NNNNNN.log) under `dir` (the server
// keeps its database in a folder of the data dir); -1 when unknown. Every
// acknowledged write has been fsynced into them, so the growth between two
// quiet moments is exactly what those writes logged.
int64_t WalBytes(const std::string& dir) {
  if (dir.empty()) return -1;
  std::error_code ec;
  int64_t total = 0;
  bool found = false;
  namespace fs = std::filesystem;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it.depth() >= 1) it.disable_recursion_pending();
    const std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0 &&
        std::all_of(name.begin(), name.end() - 4, [](char c) { return c >= '0' && c <= '9'; })) {
      total += static_cast<int64_t>(it->file_size(ec));
      found = true;
    }
  }
  return ec || !found ? -1 : total;
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return NAN;
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

std::string RandomNonce() {
  std::random_device rd;
  std::ostringstream ss;
  ss << std::hex << rd();
  return ss.str();
}

// `n` bytes of plain words (nothing JSON needs to escape), different per call site.
std::string Filler(size_t n, uint32_t seed) {
  static constexpr const char* kWords[] = {"the", "agreement", "coding", "of", "element",
                                           "should", "read", "party", "source", "article",
                                           "commitment", "and", "review", "text", "scope"};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) {
    s += kWords[rng() % std::size(kWords)];
    s += ' ';
  }
  s.resize(n);
  return s;
}

// One request to send and what it is for.
struct Job {
  uint64_t index = 0;
  std::string target;
  std::string body;
  const std::string* token = nullptr;
};

// What a phase sends and how it counts the answers. Called on the io thread only.
class Workload {
 public:
  virtual ~Workload() = default;
  // The next request, or nothing when the phase is over for this connection.
  virtual std::optional<Job> Next() = 0;
  virtual void OnAnswer(const Job& job, int status, std::string_view body, Clock::time_point sent,
                        Clock::time_point answered) = 0;
  virtual void OnTransportError(const Job* job, const std::string& what) = 0;
};

// A keep-alive HTTP/1.1 connection with one request in flight.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, const Options& o, const tcp::endpoint& ep, Workload& w)
      : stream_(ioc), endpoint_(ep), workload_(w), host_(o.host + ":" + std::to_string(o.port)) {}

  void Start() { DoConnect(); }

 private:
  void DoConnect() {
    stream_.expires_after(kRequestTimeout);
    stream_.async_connect(endpoint_, beast::bind_front_handler(&Connection::OnConnect, shared_from_this()));
  }

  void OnConnect(beast::error_code ec) {
    if (ec) return Fail(ec, "connect", nullptr);
    stream_.socket().set_option(tcp::no_delay(true), ec);
    DoWrite();
  }

  void DoWrite() {
    auto job = workload_.Next();
    if (!job) return Close();
    job_ = std::move(*job);
    req_ = {};
    req_.method(http::verb::post);
    req_.target(job_.target);
    req_.version(11);
    req_.set(http::field::host, host_);
    req_.set(http::field::content_type, "application/json");
    if (job_.token) req_.set(http::field::authorization, "Bearer " + *job_.token);
    req_.keep_alive(true);
    req_.body() = std::move(job_.body);  // only the target and index are needed afterwards
    req_.prepare_payload();
    sent_ = Clock::now();
    stream_.expires_after(kRequestTimeout);
    http::async_write(stream_, req_, beast::bind_front_handler(&Connection::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    if (ec) return Fail(ec, "write", &job_);
    parser_.emplace();
    parser_->body_limit(kResponseLimit);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Connection::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return Fail(ec, "read", &job_);
    const auto answered = Clock::now();
    auto& res = parser_->get();
    workload_.OnAnswer(job_, res.result_int(), res.body(), sent_, answered);
    if (!res.keep_alive()) {
      Close();
      return DoConnect();
    }
    DoWrite();
  }

  void Fail(beast::error_code ec, const char* what, const Job* job) {
    workload_.OnTransportError(job, std::string(what) + ": " + ec.message());
    Close();
    if (++reconnects_ <= kMaxReconnects) DoConnect();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    buffer_.clear();
  }

  beast::tcp_stream stream_;
  const tcp::endpoint endpoint_;
  Workload& workload_;
  const std::string host_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  Job job_;
  Clock::time_point sent_;
  int reconnects_ = 0;
};

// Runs `workload` over `connections` connections until every one is done.
void RunPhase(net::io_context& ioc, const Options& o, const tcp::endpoint& ep, Workload& w,
              size_t connections) {
  for (size_t i = 0; i < connections; ++i) std::make_shared<Connection>(ioc, o, ep, w)->Start();
  ioc.restart();
  ioc.run();
}

// One request on a fresh connection, for set-up and /metrics.
struct Answer {
  int status = -1;
  std::string body;
  std::string error;
};
class OneShot final : public Workload {
 public:
  explicit OneShot(Job job) : job_(std::move(job)) {}
  std::optional<Job> Next() override {
    if (sent_) return std::nullopt;
    sent_ = true;
    return job_;
  }
  void OnAnswer(const Job&, int status, std::string_view body, Clock::time_point,
                Clock::time_point) override {
    answer_.status = status;
    answer_.body = body;
  }
  void OnTransportError(const Job*, const std::string& what) override {
    answer_.error = what;
    sent_ = true;  // do not retry after a reconnect
  }
  const Answer& answer() const { return answer_; }

 private:
  Job job_;
  bool sent_ = false;
  Answer answer_;
};

Answer Call(net::io_context& ioc, const Options& o, const tcp::endpoint& ep, std::string method,
            std::string target, std::string body, const std::string* token) {
  if (method == "GET") {
    // Connection posts only; a GET is a plain synchronous exchange with a deadline.
    Answer a;
    beast::tcp_stream s(ioc);
    beast::error_code ec;
    s.expires_after(kRequestTimeout);
    s.async_connect(ep, [&](beast::error_code e) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec) return Answer{-1, "", "connect: " + ec.message()};
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, o.host + ":" + std::to_string(o.port));
    http::response<http::string_body> res;
    beast::flat_buffer buf;
    s.expires_after(kRequestTimeout);
    http::async_write(s, req, [&](beast::error_code e, std::size_t) {
      ec = e;
      if (!e) http::async_read(s, buf, res, [&](beast::error_code e2, std::size_t) { ec = e2; });
    });
    ioc.restart();
    ioc.run();
    if (ec) return Answer{-1, "", "get: " + ec.message()};
    return Answer{static_cast<int>(res.result_int()), std::move(res.body()), ""};
  }
  OneShot w(Job{0, std::move(target), std::move(body), token});
  RunPhase(ioc, o, ep, w, 1);
  return w.answer();
}

// Creates `count` add proposals, kSetupConnections at a time.
class CreateProposals final : public Workload {
 public:
  CreateProposals(size_t count, const std::string& token, std::string nonce)
      : ids_(count, 0), token_(token), nonce_(std::move(nonce)) {}
  std::optional<Job> Next() override {
    if (next_ >= ids_.size() || !error_.empty()) return std::nullopt;
    const uint64_t i = next_++;
    Json body{{"kind", "add"},
              {"rationale", "write_load set-up"},
              {"agreement",
               {{"id", "wl-" + nonce_ + "-" + std::to_string(i)},
                {"title", "Write load " + nonce_ + " " + std::to_string(i)},
                {"year", 2024},
                {"kind", "bilateral"}}}};
    return Job{i, "/api/v1/proposals", body.dump(), &token_};
  }
  void OnAnswer(const Job& job, int status, std::string_view body, Clock::time_point,
                Clock::time_point) override {
    if (status != 201) {
      error_ = "creating a proposal answered " + std::to_string(status) + ": " +
               std::string(body.substr(0, 300));
      return;
    }
    auto j = Json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.contains("id") || !j["id"].is_number_integer()) {
      error_ = "creating a proposal: no id in the answer";
      return;
    }
    ids_[job.index] = j["id"].get<int64_t>();
  }
  void OnTransportError(const Job*, const std::string& what) override {
    if (error_.empty()) error_ = what;
  }
  const std::vector<int64_t>& ids() const { return ids_; }
  const std::string& error() const { return error_; }

 private:
  std::vector<int64_t> ids_;
  const std::string& token_;
  const std::string nonce_;
  size_t next_ = 0;
  std::string error_;
};

// The measured load. Requests answered during the warm-up are not counted;
// after it, either every answer until the deadline (duration mode) or the
// answers to the first N requests sent (count mode).
class WriteLoad final : public Workload {
 public:
  WriteLoad(const Options& o, std::vector<int64_t> proposals, const std::string& token, std::string nonce)
      : o_(o), proposals_(std::move(proposals)), token_(token), nonce_(std::move(nonce)),
        filler_(Filler(o.value_bytes, 7)) {}

  void Begin() {
    start_ = Clock::now();
    warm_end_ = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.warmup_s));
    end_ = warm_end_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.duration_s));
    if (o_.warmup_s <= 0) MarkWindowStart(start_);
  }

  std::optional<Job> Next() override {
    const auto now = Clock::now();
    if (!window_started_ && now >= warm_end_) MarkWindowStart(now);
    if (o_.requests > 0) {
      if (window_started_ && measured_sent_ >= o_.requests) return std::nullopt;
    } else if (now >= end_) {
      if (!window_ended_) MarkWindowEnd(end_);
      return std::nullopt;
    }
    const uint64_t k = issued_++;
    if (window_started_) ++measured_sent_;
    Job job;
    job.index = k;
    job.token = &token_;
    // The text starts with the index so no two writes are alike; the rest is filler.
    std::string text = "wl " + std::to_string(k) + " ";
    text += std::string_view(filler_).substr(0, o_.value_bytes > text.size() ? o_.value_bytes - text.size() : 0);
    switch (o_.kind) {
      case Kind::kProposal:
        job.target = "/api/v1/proposals";
        job.body = R"({"kind":"add","rationale":")" + text +
                   R"(","agreement":{"id":"wl-)" + nonce_ + "-p" + std::to_string(k) +
                   R"(","title":"Write load )" + nonce_ + " p" + std::to_string(k) +
                   R"(","year":2024,"kind":"bilateral"}})";
        break;
      case Kind::kComment:
      case Kind::kVote: {
        const size_t block = k / o_.per_proposal;
        if (block >= proposals_.size()) ++wrapped_;
        const int64_t id = proposals_[block % proposals_.size()];
        const bool vote = o_.kind == Kind::kVote;
        job.target = "/api/v1/proposals/" + std::to_string(id) + (vote ? "/reviews" : "/comments");
        job.body = (vote ? R"({"verdict":"approve","text":")" : R"({"text":")") + text + "\"}";
        break;
      }
    }
    if (window_started_ && o_.requests > 0) measured_.insert(k);
    return job;
  }

  void OnAnswer(const Job& job, int status, std::string_view body, Clock::time_point sent,
                Clock::time_point answered) override {
    const bool ok = status >= 200 && status < 300;
    if (ok) ++ok_total_;
    if (!Counted(job, answered)) return;
    if (!ok) {
      ++status_errors_[status];
      if (shown_++ < kMaxStatusErrorsShown)
        std::cerr << o_.label << ": " << job.target << " answered " << status << ": "
                  << body.substr(0, 300) << "\n";
      return;
    }
    ++measured_ok_;
    last_answer_ = answered;
    response_bytes_ += body.size();
    latencies_us_.push_back(std::chrono::duration<double, std::micro>(answered - sent).count());
  }

  void OnTransportError(const Job* job, const std::string& what) override {
    if (job && !Counted(*job, Clock::now())) return;
    ++transport_errors_;
    if (shown_++ < kMaxStatusErrorsShown) std::cerr << o_.label << ": " << what << "\n";
  }

  // Called once the io_context has run dry.
  Json Report(double wal_bytes_per_write, double group_size) {
    if (!window_ended_) MarkWindowEnd(o_.requests > 0 ? last_answer_ : end_);
    std::sort(latencies_us_.begin(), latencies_us_.end());
    const double seconds = std::chrono::duration<double>(window_end_ - window_start_).count();
    size_t errors = transport_errors_;
    Json by_status = Json::object();
    for (auto& [s, n] : status_errors_) {
      by_status[std::to_string(s)] = n;
      errors += n;
    }
    const double n = static_cast<double>(measured_ok_);
    auto round1 = [](double v) { return std::isfinite(v) ? std::round(v * 10) / 10 : v; };
    return Json{
        {"label", o_.label},
        {"kind", o_.kind == Kind::kComment ? "comment" : o_.kind == Kind::kVote ? "vote" : "proposal"},
        {"connections", o_.connections},
        {"value_bytes", o_.value_bytes},
        {"requests", measured_ok_},
        {"errors", errors},
        {"errors_by_status", by_status},
        {"seconds", std::round(seconds * 1000) / 1000},
        {"rps", seconds > 0 ? round1(n / seconds) : 0.0},
        {"p50_us", round1(Percentile(latencies_us_, 0.50))},
        {"p90_us", round1(Percentile(latencies_us_, 0.90))},
        {"p99_us", round1(Percentile(latencies_us_, 0.99))},
        {"max_us", latencies_us_.empty() ? 0.0 : round1(latencies_us_.back())},
        {"response_bytes", n > 0 ? std::round(static_cast<double>(response_bytes_) / n) : 0.0},
        {"server_cpu_us_per_req", n > 0 && server_cpu_us_ > 0 ? round1(server_cpu_us_ / n) : 0.0},
        {"generator_cpu_us_per_req", n > 0 ? round1(own_cpu_us_ / n) : 0.0},
        {"wal_bytes_per_write", std::round(wal_bytes_per_write)},
        {"mean_group", round1(group_size)},
        {"proposals", proposals_.size()},
        {"per_proposal", o_.per_proposal},
        {"wrapped", wrapped_},
        {"writes_ok_total", ok_total_},
    };
  }

  size_t ok_total() const { return ok_total_; }

 private:
  bool Counted(const Job& job, Clock::time_point answered) const {
    if (o_.requests > 0) return measured_.count(job.index) > 0;
    return answered >= warm_end_ && answered < end_;
  }
  void MarkWindowStart(Clock::time_point t) {
    window_started_ = true;
    window_start_ = t;
    server_cpu_us_ = -ReadCpuUs(o_.server_pid);
    own_cpu_us_ = -ReadCpuUs(getpid());
  }
  void MarkWindowEnd(Clock::time_point t) {
    window_ended_ = true;
    window_end_ = t;
    server_cpu_us_ += ReadCpuUs(o_.server_pid);
    own_cpu_us_ += ReadCpuUs(getpid());
  }

  const Options& o_;
  const std::vector<int64_t> proposals_;
  const std::string& token_;
  const std::string nonce_;
  const std::string filler_;
  Clock::time_point start_, warm_end_, end_, window_start_, window_end_, last_answer_;
  bool window_started_ = false, window_ended_ = false;
  uint64_t issued_ = 0;
  size_t measured_sent_ = 0, measured_ok_ = 0, ok_total_ = 0, transport_errors_ = 0, wrapped_ = 0;
  size_t shown_ = 0;
  uint64_t response_bytes_ = 0;
  std::set<uint64_t> measured_;  // count mode: the indices sent after the warm-up
  std::map<int, size_t> status_errors_;
  std::vector<double> latencies_us_;
  double server_cpu_us_ = 0, own_cpu_us_ = 0;
};

// commits_ok and commit groups from /metrics; nothing when unreadable.
std::optional<std::pair<double, double>> CommitCounters(net::io_context& ioc, const Options& o,
                                                        const tcp::endpoint& ep) {
  Answer a = Call(ioc, o, ep, "GET", "/metrics", "", nullptr);
  if (a.status != 200) return std::nullopt;
  double commits = -1, groups = -1;
  std::istringstream in(a.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("normbase_store_commits_total{result=\"ok\"} ", 0) == 0)
      commits = std::stod(line.substr(line.rfind(' ') + 1));
    else if (line.rfind("normbase_store_commit_groups_total ", 0) == 0)
      groups = std::stod(line.substr(line.rfind(' ') + 1));
  }
  if (commits < 0 || groups < 0) return std::nullopt;
  return std::make_pair(commits, groups);
}

int Run(const Options& o) {
  beast::error_code ec;
  const tcp::endpoint ep(net::ip::make_address(o.host, ec), o.port);
  if (ec) {
    std::cerr << "--url: '" << o.host << "' is not an IP address\n";
    return 2;
  }
  std::string admin_token;
  {
    std::ifstream in(o.token_file);
    std::getline(in, admin_token);
    if (admin_token.empty()) {
      std::cerr << "cannot read a token from " << o.token_file << "\n";
      return 2;
    }
  }
  net::io_context ioc(1);
  const std::string nonce = RandomNonce();

  // Set-up: a voter (votes must come from someone with a stakeholder group who
  // did not write the proposal), then the proposals to comment or vote on.
  std::string write_token = admin_token;
  if (o.kind == Kind::kVote) {
    Answer u = Call(ioc, o, ep, "POST", "/api/v1/users",
                    Json{{"name", "wl-voter-" + nonce}, {"role", "contributor"},
                         {"stakeholder_group", "government"}}.dump(),
                    &admin_token);
    auto uj = Json::parse(u.body, nullptr, false);
    if (u.status != 201 || uj.is_discarded() || !uj.contains("id")) {
      std::cerr << "creating the voter answered " << u.status << ": " << u.error << u.body << "\n";
      return 1;
    }
    Answer t = Call(ioc, o, ep, "POST", "/api/v1/users/" + uj["id"].dump() + "/tokens",
                    R"({"label":"write_load"})", &admin_token);
    auto tj = Json::parse(t.body, nullptr, false);
    if (t.status != 201 || tj.is_discarded() || !tj.contains("token")) {
      std::cerr << "issuing the voter's token answered " << t.status << ": " << t.error << t.body << "\n";
      return 1;
    }
    write_token = tj["token"].get<std::string>();
  }
  std::vector<int64_t> proposals;
  if (o.kind != Kind::kProposal) {
    size_t count = o.proposals;
    if (count == 0) {
      const double writes = o.max_rate * o.warmup_s + (o.requests > 0 ? double(o.requests) : o.max_rate * o.duration_s);
      count = static_cast<size_t>(std::ceil(writes / static_cast<double>(o.per_proposal)));
    }
    count = std::max<size_t>(count, 1);
    CreateProposals create(count, admin_token, nonce);
    RunPhase(ioc, o, ep, create, std::min(kSetupConnections, count));
    if (!create.error().empty()) {
      std::cerr << "set-up failed: " << create.error() << "\n";
      return 1;
    }
    proposals = create.ids();
  }

  // The load, between two quiet moments for the WAL and commit counters.
  const auto counters_before = CommitCounters(ioc, o, ep);
  const int64_t wal_before = WalBytes(o.data_dir);
  WriteLoad load(o, std::move(proposals), write_token, nonce);
  load.Begin();
  RunPhase(ioc, o, ep, load, o.connections);
  const int64_t wal_after = WalBytes(o.data_dir);
  const auto counters_after = CommitCounters(ioc, o, ep);

  double wal_per_write = -1;
  if (wal_before >= 0 && wal_after >= wal_before && load.ok_total() > 0)
    wal_per_write = static_cast<double>(wal_after - wal_before) / static_cast<double>(load.ok_total());
  double group = -1;
  if (counters_before && counters_after && counters_after->second > counters_before->second)
    group = (counters_after->first - counters_before->first) /
            (counters_after->second - counters_before->second);
  Json report = load.Report(wal_per_write, group);
  std::cout << report.dump() << std::endl;
  return report["requests"].get<size_t>() > 0 && report["errors"].get<size_t>() == 0 ? 0 : 3;
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
