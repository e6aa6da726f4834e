// I/O faults under the real normbase-server: failing fsync (libfiu's POSIX
// preload), failing writes to the data files (libfiu with the
// data_write_fault shim) and a full disk (a small loop-mounted ext4 image).
// In each: writes made before the fault are acknowledged; during it writes are
// refused with a problem document that says what went wrong, reads keep
// working and /metrics shows the store refusing writes; once the fault
// clears, the running server takes writes again by itself (no restart);
// then, and again after a restart, everything acknowledged is there, nothing
// is half-present and the event log has no gap (fault_support.h's Verify).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "faults/fault_support.h"
#include "support/http_client.h"
#include "support/server_process.h"

namespace normbase::faults {
namespace {

using nlohmann::json;
using testing::HttpClient;
using testing::HttpResult;
using testing::ServerProcess;
namespace fs = std::filesystem;

constexpr const char* kFiuRunPreload = "/usr/lib/fiu/fiu_run_preload.so";
constexpr const char* kFiuPosixPreload = "/usr/lib/fiu/fiu_posix_preload.so";
// Writes tried while a fault is on; each must be refused.
constexpr int kWritesDuringFault = 10;
// How long the running server may take to take writes again once the fault
// is cleared: the store retries with back-off of at most 5 s
// (StoreOptions::retry_max_ms), plus a reopen.
constexpr int kResumeTimeoutMs = 20000;

std::vector<std::string> ServerArgs(const std::string& bus_dir) {
  // Jobs are queued with every proposal (they are part of its batch) but no
  // worker runs them: these tests are about the store.
  return {"--bus.endpoint",
          "ipc://" + bus_dir + "/bus.sock",
          "--workers",
          "0",
          "--jobs.checks",
          "fault",
          "--jobs.proposal-analyses",
          "",
          "--jobs.dataset-analyses",
          ""};
}

json Proposal(const std::string& id) {
  return json{{"kind", "add"},
              {"rationale", "io fault test"},
              {"agreement",
               {{"id", id},
                {"title", "I/O fault " + id},
                {"year", 2024},
                {"kind", "bilateral"},
                {"leading_stakeholders", {"government"}}}}};
}

class IoFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bus_dir_ = "/tmp/nb-iofault-XXXXXX";
    ASSERT_NE(::mkdtemp(bus_dir_.data()), nullptr);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(bus_dir_, ec);
  }

  static bool FiuAvailable() {
    return ::access(kFiuRunPreload, R_OK) == 0 && ::access(kFiuPosixPreload, R_OK) == 0 &&
           Shell("command -v fiu-ctrl") == 0;
  }

  // Starts `server` with libfiu preloaded and its remote control on a fifo.
  // `match`: the data-write faults hit only paths containing it (all when empty).
  bool StartUnderFiu(ServerProcess& server, const std::string& match = "") {
    // The shim before libfiu's POSIX preload: that one calls libc directly,
    // so whatever comes after it is never reached.
    std::string preload =
        std::string(kFiuRunPreload) + ":" + NB_DATA_WRITE_FAULT_SO + ":" + kFiuPosixPreload;
#ifdef NB_ASAN_RUNTIME
    preload = std::string(NB_ASAN_RUNTIME) + ":" + preload;  // ASan's runtime must come first
#endif
    ::setenv("LD_PRELOAD", preload.c_str(), 1);
    ::setenv("FIU_CTRL_FIFO", (bus_dir_ + "/fiu").c_str(), 1);
    ::setenv("FIU_ENABLE", "", 1);
    ::setenv("NB_DATA_WRITE_FAULT_MATCH", match.c_str(), 1);
    const bool ok = server.Start();
    ::unsetenv("NB_DATA_WRITE_FAULT_MATCH");
    ::unsetenv("LD_PRELOAD");
    ::unsetenv("FIU_CTRL_FIFO");
    ::unsetenv("FIU_ENABLE");
    return ok;
  }

  // fiu-ctrl talks to the server over a fifo; it would wait forever for a
  // dead server, hence the liveness check and the timeout.
  void Fiu(const ServerProcess& server, const std::string& command) {
    ASSERT_TRUE(server.running() && ::kill(server.pid(), 0) == 0) << "the server died:\n"
                                                                  << Tail(server.output());
    std::string out;
    ASSERT_EQ(Shell("timeout 10 fiu-ctrl -f '" + bus_dir_ + "/fiu' -c '" + command + "' " +
                        std::to_string(server.pid()),
                    &out),
              0)
        << out;
  }

  static std::string Tail(const std::string& s) {
    return s.size() > 3000 ? s.substr(s.size() - 3000) : s;
  }

  // Writes acknowledged by a short load (proposals and comments).
  static Ledger Load(const ServerProcess& server, int ms) {
    WriteLoad load(server.base_url(), server.admin_token(), 2,
                   "io" + std::to_string(ms) + "n" + std::to_string(::getpid()));
    load.set_keep_going(true);
    load.Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return load.Stop();
  }

  // While the fault is on: writes are refused with a clear problem, nothing
  // is acknowledged, and reads of what was acknowledged before still work.
  // `refusing_gauge`: whether /metrics must show the store refusing writes
  // afterwards (not when the store's disk probe cannot see the fault: it then
  // reopens, takes writes again and refuses again at the next write).
  static void ExpectWritesRefusedReadsServed(const ServerProcess& server, const Ledger& before,
                                             const std::string& expected_words,
                                             bool refusing_gauge = true) {
    HttpClient c(server.base_url());
    c.set_token(server.admin_token());
    for (int i = 0; i < kWritesDuringFault; ++i) {
      HttpResult r = c.Post("/api/v1/proposals", Proposal("during-fault-" + std::to_string(i)));
      ASSERT_GE(r.status, 500) << "a write during the fault was not refused: " << r.status << " "
                               << r.body.substr(0, 300);
      EXPECT_EQ(r.header("content-type"), "application/problem+json") << r.body;
      const std::string detail = r.json().value("detail", "");
      EXPECT_NE(detail.find(expected_words), std::string::npos) << "unclear refusal: " << r.body;
      if (i == 0) std::printf("      refusal during the fault: %d %s\n", r.status, detail.c_str());
    }
    ASSERT_FALSE(before.proposals.empty());
    const auto& [id, agreement] = *before.proposals.rbegin();
    HttpResult p = c.Get("/api/v1/proposals/" + std::to_string(id));
    EXPECT_EQ(p.status, 200) << p.body.substr(0, 300);
    EXPECT_EQ(p.json().value("agreement_id", ""), agreement);
    EXPECT_EQ(c.Get("/api/v1/agreements?limit=5").status, 200);
    EXPECT_EQ(c.Get("/api/v1/events?since=0&limit=5").status, 200);
    EXPECT_EQ(c.Get("/healthz").status, 200);
    if (refusing_gauge) {
      EXPECT_EQ(Metric(server, "normbase_store_refusing_writes"), 1);
    }
  }

  // A metric without labels from /metrics; -1 when absent.
  static double Metric(const ServerProcess& server, const std::string& name) {
    HttpClient c(server.base_url());
    const std::string body = c.Get("/metrics").body;
    const std::string line = "\n" + name + " ";
    const auto at = body.find(line);
    if (at == std::string::npos) return -1;
    return std::strtod(body.c_str() + at + line.size(), nullptr);
  }

  // After the fault: the running server takes writes again by itself, within
  // kResumeTimeoutMs, without a restart. Each try is a new proposal (a
  // refusal may be "not confirmed", and must not collide with a later try).
  static bool WritesResume(const ServerProcess& server, Ledger& ledger, const std::string& name) {
    HttpClient c(server.base_url());
    c.set_token(server.admin_token());
    const auto start = std::chrono::steady_clock::now();
    int tries = 0;
    HttpResult r;
    std::string agreement;
    const bool resumed = WaitUntil(
        [&] {
          agreement = name + "-" + std::to_string(++tries);
          r = c.Post("/api/v1/proposals", Proposal(agreement));
          if (tries == 1 && r.status != 201)
            std::printf("      first write after the fault cleared: %d %s\n", r.status,
                        r.json().value("detail", r.body.substr(0, 200)).c_str());
          return r.status == 201;
        },
        kResumeTimeoutMs);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    std::printf("      writes resumed without a restart: %s, after %lld ms and %d tries\n",
                resumed ? "yes" : "NO", static_cast<long long>(ms), tries);
    if (!resumed) return false;
    ledger.proposals[r.json()["id"].get<int64_t>()] = agreement;
    EXPECT_EQ(Metric(server, "normbase_store_refusing_writes"), 0);
    EXPECT_GE(Metric(server, "normbase_store_write_recoveries_total"), 1);
    return true;
  }

  // Everything acknowledged is there, whole, with the event log 1..N; `when`
  // says at which point, for the report. Gives the newest event's seq and
  // how many writes refused during the fault are there after all.
  static void VerifyServer(ServerProcess& server, const Ledger& acked, const char* when,
                           uint64_t* last_seq, int* reappeared_out) {
    HttpClient admin(server.base_url());
    admin.set_token(server.admin_token());
    CheckOptions check;
    check.jobs_timeout_ms = 0;  // no workers here
    for (const auto& [p, cs] : acked.comments) check.deep.insert(p);
    const Report rep = Verify(admin, acked, check);
    EXPECT_TRUE(rep.ok()) << when << ": " << rep.Summary(10);
    std::printf("      %s: %zu acknowledged writes checked\n%s", when, acked.acknowledged(),
                rep.Summary().c_str());
    // Writes refused during the fault whose change is there after all (the
    // log write succeeded, its fsync did not): allowed, since the refusal says
    // "not confirmed"; counted for the report.
    std::vector<json> all;
    std::string error;
    ASSERT_TRUE(ReadList(admin, "/api/v1/proposals", all, &error)) << error;
    int reappeared = 0;
    for (const auto& p : all)
      if (p.value("agreement_id", "").rfind("during-fault-", 0) == 0) ++reappeared;
    std::printf("      refused writes present %s: %d of %d\n", when, reappeared,
                kWritesDuringFault);
    *last_seq = rep.last_seq;
    *reappeared_out = reappeared;
  }

  // After the fault cleared and writes resumed: check the running server,
  // then restart it and check again (the reopen inside the server must leave
  // exactly what a restart finds).
  static void VerifyLiveThenRestart(ServerProcess& server, Ledger& acked, bool resumed) {
    ASSERT_TRUE(resumed) << "writes did not resume without a restart:\n" << Tail(server.output());
    uint64_t live_seq = 0, restarted_seq = 0;
    int live_back = 0, restarted_back = 0;
    VerifyServer(server, acked, "without a restart", &live_seq, &live_back);
    (void)server.Stop();
    ASSERT_TRUE(server.Start()) << Tail(server.output());
    VerifyServer(server, acked, "after a restart", &restarted_seq, &restarted_back);
    EXPECT_EQ(restarted_seq, live_seq)
        << "the restart found events the running server did not show";
    EXPECT_EQ(restarted_back, live_back);
    HttpClient admin(server.base_url());
    admin.set_token(server.admin_token());
    HttpResult r = admin.Post("/api/v1/proposals", Proposal("after-restart"));
    EXPECT_EQ(r.status, 201) << r.body.substr(0, 300);
  }

  std::string bus_dir_;
};

TEST_F(IoFaultTest, FailingFsyncRefusesWritesKeepsReadsAndLosesNothing) {
  if (!FiuAvailable()) GTEST_SKIP() << "libfiu (fiu-utils) is not installed";
  ServerProcess server(ServerArgs(bus_dir_));
  ASSERT_TRUE(StartUnderFiu(server)) << server.output();
  Ledger acked = Load(server, 1000);
  ASSERT_GT(acked.acknowledged(), 0u);
  Fiu(server, "enable name=posix/io/sync/fdatasync");
  Fiu(server, "enable name=posix/io/sync/fsync");
  ExpectWritesRefusedReadsServed(server, acked, "could not write to its disk");
  Fiu(server, "disable name=posix/io/sync/fdatasync");
  Fiu(server, "disable name=posix/io/sync/fsync");
  const bool resumed = WritesResume(server, acked, "after-fsync-fault");
  RecordProperty("writes_resume_without_restart", resumed ? "yes" : "no");
  VerifyLiveThenRestart(server, acked, resumed);
}

// Failing write() calls on every file of the data directory (the log, the
// manifest, RocksDB's LOG), as a failing disk would.
TEST_F(IoFaultTest, FailingDataWritesRefuseWritesKeepReadsAndLoseNothing) {
  if (!FiuAvailable()) GTEST_SKIP() << "libfiu (fiu-utils) is not installed";
  ServerProcess server(ServerArgs(bus_dir_));
  ASSERT_TRUE(StartUnderFiu(server)) << server.output();
  Ledger acked = Load(server, 1000);
  ASSERT_GT(acked.acknowledged(), 0u);
  Fiu(server, "enable name=normbase/data/write");  // EIO
  ExpectWritesRefusedReadsServed(server, acked, "could not write to its disk");
  Fiu(server, "disable name=normbase/data/write");
  const bool resumed = WritesResume(server, acked, "after-data-fault");
  RecordProperty("writes_resume_without_restart", resumed ? "yes" : "no");
  VerifyLiveThenRestart(server, acked, resumed);
}

// Failing write() calls on the write-ahead log only (RocksDB's NNNNNN.log).
TEST_F(IoFaultTest, FailingLogWritesRefuseWritesKeepReadsAndLoseNothing) {
  if (!FiuAvailable()) GTEST_SKIP() << "libfiu (fiu-utils) is not installed";
  ServerProcess server(ServerArgs(bus_dir_));
  ASSERT_TRUE(StartUnderFiu(server, ".log")) << server.output();
  Ledger acked = Load(server, 1000);
  ASSERT_GT(acked.acknowledged(), 0u);
  Fiu(server, "enable name=normbase/data/write");  // EIO
  ExpectWritesRefusedReadsServed(server, acked, "could not write to its disk",
                                 /*refusing_gauge=*/false);
  Fiu(server, "disable name=normbase/data/write");
  const bool resumed = WritesResume(server, acked, "after-write-fault");
  RecordProperty("writes_resume_without_restart", resumed ? "yes" : "no");
  VerifyLiveThenRestart(server, acked, resumed);
}

TEST_F(IoFaultTest, FullDiskRefusesWritesKeepsReadsAndLosesNothing) {
  std::string why;
  if (!LoopImage::Available(&why)) GTEST_SKIP() << why;
  ServerProcess server(ServerArgs(bus_dir_));
  LoopImage image(bus_dir_ + "/small.img", 96);
  ASSERT_TRUE(image.Create(&why)) << why;
  ASSERT_TRUE(image.Mount(server.data_dir(), &why)) << why;
  ASSERT_TRUE(server.Start()) << server.output();
  Ledger acked = Load(server, 500);
  ASSERT_GT(acked.acknowledged(), 0u);

  // Fill the disk but for 6 MiB (room for RocksDB to reopen) while the
  // server is stopped: RocksDB preallocates its write-ahead log when it opens
  // one, and a log opened on an empty disk would take every write for minutes
  // before anything fails.
  server.Stop();
  const std::string filler = server.data_dir() + "/filler";
  (void)Shell("dd if=/dev/zero of='" + filler + "' bs=1M status=none; truncate -s -6M '" + filler +
              "'; sync -f '" + filler + "'");
  ASSERT_TRUE(server.Start()) << server.output();
  WriteLoad load(server.base_url(), server.admin_token(), 2, "full" + std::to_string(::getpid()));
  load.set_keep_going(true);
  load.Start();
  HttpClient probe(server.base_url());
  const bool refused = WaitUntil(
      [&] {
        return probe.Get("/metrics")
                   .body.find("normbase_store_commits_total{result=\"failed\"} 0\n") ==
               std::string::npos;
      },
      60000);
  Ledger during = load.Stop();
  acked.Merge(during);
  ASSERT_TRUE(refused) << "the server never refused a write on a full disk";
  ExpectWritesRefusedReadsServed(server, acked, "the disk is full");

  ASSERT_EQ(::unlink(filler.c_str()), 0);
  const bool resumed = WritesResume(server, acked, "after-disk-full");
  RecordProperty("writes_resume_without_restart", resumed ? "yes" : "no");
  VerifyLiveThenRestart(server, acked, resumed);
  server.Stop();
  ASSERT_TRUE(image.Unmount(&why)) << why;
}

}  // namespace
}  // namespace normbase::faults
