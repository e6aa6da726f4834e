// Abuse: clients that try to take the server from everyone else — headers
// dribbled byte by byte (slow loris), oversized bodies and frames, floods of
// connections, and one client's flood of requests. Each is bounded by a
// documented limit (docs/operators.md, "Limits"), and each test shows that a
// well-behaved client keeps being served while the abuse goes on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "integration/test_helpers.h"
#include "support/ws_client.h"

namespace normbase::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A raw TCP connection to the server, from a chosen loopback address (the
// per-address rate limit tells 127.0.0.1 from 127.0.0.2), for what
// HttpClient will not do: send a request byte by byte, hold a connection
// without sending anything.
class RawConnection {
 public:
  RawConnection(int port, const char* from = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &local.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  // False once the server has closed (or reset) the connection.
  bool Send(const std::string& bytes) {
    return fd_ >= 0 && ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                           static_cast<ssize_t>(bytes.size());
  }
  // Reads until the server closes or `timeout` passes; returns what arrived.
  std::string ReadUntilClosed(std::chrono::milliseconds timeout) {
    std::string got;
    const auto deadline = Clock::now() + timeout;
    while (fd_ >= 0 && Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  // Whether the server closed the connection (EOF or reset) within `timeout`.
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    ReadUntilClosed(timeout);
    return closed_;
  }

 private:
  int fd_ = -1;
  bool closed_ = false;
};

// One GET on a fresh connection from `from`; the status line's code, 0 when none.
int RawGet(int port, const std::string& target, const char* from = "127.0.0.1",
           std::string* response = nullptr) {
  RawConnection c(port, from);
  if (!c.ok() || !c.Send("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    return 0;
  const std::string got = c.ReadUntilClosed(10s);
  if (response) *response = got;
  if (got.rfind("HTTP/1.1 ", 0) != 0 || got.size() < 12) return 0;
  return std::atoi(got.substr(9, 3).c_str());
}

// A well-behaved client in the background: one request after another on its
// own keep-alive connection, counting answers and the slowest one.
class WellBehavedClient {
 public:
  WellBehavedClient(const std::string& base_url, std::string token = "",
                    std::chrono::milliseconds pause = std::chrono::milliseconds(20))
      : client_(base_url) {
    if (!token.empty()) client_.set_token(std::move(token));
    client_.set_timeout_ms(10000);
    thread_ = std::thread([this, pause] {
      while (!stop_) {
        std::this_thread::sleep_for(pause);  // a person's pace, roughly
        const auto start = Clock::now();
        auto r = client_.Get("/api/v1/agreements?limit=2");
        const auto took =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        if (r.status == 200) {
          ++served_;
          slowest_ms_ = std::max<int64_t>(slowest_ms_, took.count());
        } else {
          ++failed_;
          std::lock_guard lk(mu_);
          if (first_failure_.empty())
            first_failure_ = std::to_string(r.status) + " " + r.body + r.error;
        }
      }
    });
  }
  ~WellBehavedClient() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int served() const { return served_; }
  int failed() const { return failed_; }
  int64_t slowest_ms() const { return slowest_ms_; }
  std::string first_failure() {
    std::lock_guard lk(mu_);
    return first_failure_;
  }

 private:
  HttpClient client_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0}, failed_{0};
  std::atomic<int64_t> slowest_ms_{0};
  std::mutex mu_;
  std::string first_failure_;
};

// The bound on one answer while the server is under abuse: generous for a
// loaded CI machine and a Debug build, far below the abuse's own durations.
constexpr int64_t kServedWithinMs = 3000;
// Answers the well-behaved client must get during a test's seconds of abuse:
// few, since a TSan build on a loaded machine serves about one a second; the
// real check is that none failed and none was slow.
constexpr int kMinServed = 2;

int64_t ResidentKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  return -1;
}

TEST(AbuseTest, SlowLorisConnectionsAreCutAtTheReadTimeoutWhileOthersAreServed) {
  constexpr int kReadTimeoutS = 2;
  constexpr int kLoris = 40;
  ServerProcess server({"--read-timeout", std::to_string(kReadTimeoutS), "--idle-timeout", "30"});
  ASSERT_TRUE(server.Start()) << server.output();
  WellBehavedClient good(server.base_url());

  // Each loris sends a request's headers one byte every 100 ms, never ending
  // them; it would take 10 s to get through the text below.
  const std::string headers =
      "GET /api/v1/agreements HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(60, 's');
  std::atomic<int> cut{0}, outlived{0};
  std::vector<int64_t> cut_after_ms(kLoris, 0);
  std::vector<std::thread> loris;
  for (int i = 0; i < kLoris; ++i) {
    loris.emplace_back([&, i] {
      RawConnection c(server.port());
      if (!c.ok()) return;
      const auto start = Clock::now();
      for (char ch : headers) {
        if (!c.Send(std::string(1, ch)) || c.ClosedWithin(100ms)) {
          cut_after_ms[i] =
              std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
          ++cut;
          return;
        }
      }
      ++outlived;
    });
  }
  for (auto& t : loris) t.join();
  good.Stop();

  EXPECT_EQ(cut.load(), kLoris) << outlived << " slow connections were never cut";
  for (int i = 0; i < kLoris; ++i) {
    if (cut_after_ms[i] == 0) continue;
    // Dribbling does not extend the deadline: the whole request must arrive in time.
    EXPECT_GE(cut_after_ms[i], kReadTimeoutS * 1000 - 200) << "loris " << i;
    EXPECT_LT(cut_after_ms[i], kReadTimeoutS * 1000 + 4000) << "loris " << i;
  }
  EXPECT_GE(good.served(), kMinServed) << "the well-behaved client was starved";
  EXPECT_EQ(good.failed(), 0) << good.first_failure();
  EXPECT_LT(good.slowest_ms(), kServedWithinMs);
}

TEST(AbuseTest, OversizedBodiesAreRefusedUnreadWhileOthersAreServed) {
  constexpr size_t kBodyLimit = 64 * 1024;
  ServerProcess server({"--body-limit", std::to_string(kBodyLimit), "--header-limit", "4096"});
  ASSERT_TRUE(server.Start()) << server.output();
  WellBehavedClient good(server.base_url(), server.admin_token());
  const int64_t rss_before = ResidentKiB(server.pid());

  // A declared length far beyond the limit is refused before any of it is read.
  {
    RawConnection c(server.port());
    ASSERT_TRUE(
        c.Send("POST /api/v1/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: 10000000000\r\n\r\n"));
    const std::string got = c.ReadUntilClosed(5s);
    EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got;
    EXPECT_NE(got.find("larger than the limit of 65536 bytes"), std::string::npos) << got;
  }
  // A chunked body has no declared length: it is cut once it passes the limit.
  {
    RawConnection c(server.port());
    ASSERT_TRUE(
        c.Send("POST /api/v1/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n"));
    std::string chunk = "4000\r\n" + std::string(0x4000, '[') + "\r\n";
    int sent = 0;
    while (sent < 64 && c.Send(chunk))
      ++sent;  // 1 MiB at most; the server stops reading after 64 KiB
    const std::string got = c.ReadUntilClosed(5s);
    EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got;
  }
  // Many at once, from several threads, for a few seconds: each gets its
  // 413, none is buffered.
  std::vector<std::thread> senders;
  std::atomic<int> sent{0}, refused{0};
  const auto until = Clock::now() + 3s;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&] {
      HttpClient c(server.base_url());
      c.set_token(server.admin_token());
      for (int i = 0; i < 10 || Clock::now() < until; ++i) {
        auto r =
            c.Post("/api/v1/import?dry_run=true", std::string(4 << 20, '['), "application/json");
        ++sent;
        refused += r.status == 413 ? 1 : 0;
      }
    });
  }
  for (auto& t : senders) t.join();
  EXPECT_EQ(refused.load(), sent.load());
  // Oversized headers likewise (431).
  std::string got;
  EXPECT_EQ(
      RawGet(server.port(), "/api/v1/agreements?q=" + std::string(8192, 'q'), "127.0.0.1", &got),
      431)
      << got;
  good.Stop();

  // Hundreds of MiB were offered; the server kept none of it. (Not under
  // TSan: its per-thread access history grows with every request served and
  // is counted in the server's resident memory.)
  [[maybe_unused]] const int64_t rss_after = ResidentKiB(server.pid());
  ASSERT_GT(rss_before, 0);
#if !defined(__SANITIZE_THREAD__)
  EXPECT_LT(rss_after - rss_before, 32 * 1024)
      << "resident memory grew from " << rss_before << " to " << rss_after << " KiB";
#endif
  EXPECT_GE(good.served(), kMinServed) << "the well-behaved client was starved";
  EXPECT_EQ(good.failed(), 0) << good.first_failure();
  EXPECT_LT(good.slowest_ms(), kServedWithinMs);
}

TEST(AbuseTest, OversizedStreamMessagesCloseOnlyTheirOwnStream) {
  ServerProcess server({"--stream-message-limit", "1024"});
  ASSERT_TRUE(server.Start()) << server.output();
  WsClient watcher;
  ASSERT_TRUE(watcher.Connect(server.base_url(), "/api/v1/stream?topics=proposals"));
  ASSERT_TRUE(watcher.Next());  // hello
  std::vector<std::unique_ptr<WsClient>> abusers;
  for (int i = 0; i < 10; ++i) {
    auto ws = std::make_unique<WsClient>();
    ASSERT_TRUE(ws->Connect(server.base_url(), "/api/v1/stream"));
    ASSERT_TRUE(ws->Next());
    ws->Send(R"({"op":"subscribe","topics":[")" + std::string(4096, 'x') + R"("]})");
    abusers.push_back(std::move(ws));
  }
  for (auto& ws : abusers) {
    EXPECT_FALSE(ws->Next(5000));
    EXPECT_TRUE(ws->closed());
  }
  // The watcher still gets what happens, and answers its own messages.
  HttpClient admin = ClientFor(server, server.admin_token());
  auto created = admin.Post(
      "/api/v1/proposals",
      json{{"kind", "add"}, {"agreement", NewAgreement("abuse-stream-2024")}, {"rationale", "r"}});
  ASSERT_TRUE(IsStatus(created, 201));
  auto event =
      watcher.NextWhere([](const json& m) { return m.value("kind", "") == "event"; }, 10000);
  ASSERT_TRUE(event) << "the well-behaved stream client stopped getting events";
  EXPECT_EQ(event->value("type", ""), "proposal.created");
  ASSERT_TRUE(watcher.Send(R"({"op":"ping"})"));
  auto pong = watcher.NextWhere([](const json& m) { return m.value("kind", "") == "subscribed"; });
  EXPECT_TRUE(pong);
}

TEST(AbuseTest, ConnectionFloodIsRefusedAndHeldConnectionsAreCut) {
  constexpr int kMax = 16;
  constexpr int kReadTimeoutS = 2;
  ServerProcess server(
      {"--max-connections", std::to_string(kMax), "--read-timeout", std::to_string(kReadTimeoutS)});
  ASSERT_TRUE(server.Start()) << server.output();
  ASSERT_EQ(RawGet(server.port(), "/healthz"), 200);

  // A flood of connections that send nothing: the first kMax hold every
  // slot, the rest are answered 503 at once and closed.
  constexpr int kFlood = 100;
  std::vector<std::unique_ptr<RawConnection>> flood;
  const auto start = Clock::now();
  for (int i = 0; i < kFlood; ++i) flood.push_back(std::make_unique<RawConnection>(server.port()));
  std::this_thread::sleep_for(300ms);  // the refusals are written at accept: let them arrive
  int refused = 0;
  std::string sample;
  for (auto& c : flood) {
    ASSERT_TRUE(c->ok());
    const std::string got = c->ReadUntilClosed(30ms);
    if (got.rfind("HTTP/1.1 503", 0) == 0) {
      ++refused;
      sample = got;
    }
  }
  EXPECT_GE(refused, kFlood - kMax - 2) << "connections beyond --max-connections must be refused";
  EXPECT_LE(refused, kFlood - kMax + 2);
  EXPECT_NE(sample.find("too many connections"), std::string::npos) << sample;

  // Whoever comes while the slots are held is refused too, with a clear answer...
  std::string got;
  const int during = RawGet(server.port(), "/healthz", "127.0.0.1", &got);
  if (Clock::now() - start < std::chrono::seconds(kReadTimeoutS) - 300ms) {
    EXPECT_EQ(during, 503) << got;
  }
  // ...until the held connections reach --read-timeout and are cut: then a
  // well-behaved client is served again, without the flood letting go.
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    served = RawGet(server.port(), "/healthz") == 200;
    if (!served) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(served) << "the server did not recover from the flood";
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(kReadTimeoutS + 8));
  int cut = 0;
  for (auto& c : flood) cut += c->ClosedWithin(10ms) ? 1 : 0;
  EXPECT_EQ(cut, kFlood) << "held connections still open after the read timeout";
  // And it keeps serving normally.
  HttpClient c(server.base_url());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(IsStatus(c.Get("/healthz"), 200));
}

TEST(AbuseTest, PerTokenAndPerAddressRatesAreLimitedWhileOthersAreServed) {
  // Low rates, so that even a slow (sanitizer) build's client exceeds them.
  ServerProcess server({"--rate-limit.token", "5", "--rate-limit.token-burst", "10",
                        "--rate-limit.ip", "5", "--rate-limit.ip-burst", "10"});
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  const TestUser greedy_user = CreateUser(admin, "contributor", "academia", "greedy");
  const TestUser polite_user = CreateUser(admin, "contributor", "civil-society", "polite");
  // About 3 requests a second at most: within its account's limit.
  WellBehavedClient polite(server.base_url(), polite_user.token, 300ms);

  // A greedy account: as fast as it can, from two connections with one token.
  std::atomic<int> ok{0}, limited{0}, other{0};
  std::string sample_429, retry_after;
  std::mutex mu;
  auto hammer = [&](const std::string& token, int n) {
    HttpClient c(server.base_url());
    if (!token.empty()) c.set_token(token);
    for (int i = 0; i < n; ++i) {
      auto r = c.Get(token.empty() ? "/api/v1/codebook" : "/api/v1/whoami");
      if (r.status == 200) {
        ++ok;
      } else if (r.status == 429) {
        ++limited;
        std::lock_guard lk(mu);
        if (sample_429.empty()) {
          EXPECT_TRUE(IsProblem(r, 429, "too many requests"));
          sample_429 = r.body;
          retry_after = r.header("retry-after");
        }
      } else {
        ++other;
      }
    }
  };
  const auto start = Clock::now();
  std::thread g1(hammer, greedy_user.token, 300), g2(hammer, greedy_user.token, 300);
  g1.join();
  g2.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(limited.load(), 0) << "600 requests in " << secs << " s were never limited";
  // The burst plus the rate over the time taken, with a little slack for rounding.
  EXPECT_LE(ok.load(), 10 + static_cast<int>(5 * secs) + 2) << "in " << secs << " s";
  EXPECT_NE(sample_429.find("this account may make 5 per second (bursts of 10)"), std::string::npos)
      << sample_429;
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GE(std::atoi(retry_after.c_str()), 1);
  // Told to wait, it is served again after waiting.
  std::this_thread::sleep_for(std::chrono::seconds(std::max(1, std::atoi(retry_after.c_str()))));
  HttpClient greedy = ClientFor(server, greedy_user.token);
  EXPECT_TRUE(IsStatus(greedy.Get("/api/v1/whoami"), 200));

  // Anonymous clients are limited by address: 127.0.0.1 floods, 127.0.0.2 is
  // served, and so are probes of /healthz from the flooding address.
  ok = limited = other = 0;
  std::thread anon(hammer, std::string(), 200);
  std::string got;
  int polite_anon = 0;
  for (int i = 0; i < 8; ++i) {
    polite_anon += RawGet(server.port(), "/api/v1/codebook", "127.0.0.2", &got) == 200 ? 1 : 0;
    std::this_thread::sleep_for(50ms);
  }
  anon.join();
  EXPECT_GT(limited.load(), 0);
  EXPECT_EQ(polite_anon, 8) << got;
  EXPECT_EQ(RawGet(server.port(), "/healthz", "127.0.0.1"), 200);
  // A made-up token is charged to the address, not given a bucket of its own.
  HttpClient forger(server.base_url());
  forger.set_token("made-up-token");
  HttpResult last;
  for (int i = 0; i < 100 && last.status != 429; ++i) last = forger.Get("/api/v1/codebook");
  EXPECT_TRUE(IsProblem(last, 429, "this address without a valid token"));

  polite.Stop();
  EXPECT_GE(polite.served(), kMinServed);
  EXPECT_EQ(polite.failed(), 0) << polite.first_failure();
  EXPECT_LT(polite.slowest_ms(), kServedWithinMs);
}

}  // namespace
}  // namespace normbase::testing
