// Worker faults: SIGKILL workers at random while they run jobs, start
// replacements, and check that every job ends exactly once — done, or failed
// with a reason — with one terminal event per job in the log and nothing
// left queued or running. The real server, real normbase-worker processes
// and the "fault" test plugin (sleep:N makes a job take N ms).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "faults/fault_support.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/worker_process.h"

namespace normbase::faults {
namespace {

using nlohmann::json;
using testing::HttpClient;
using testing::ServerProcess;
using testing::WorkerProcess;
namespace fs = std::filesystem;

constexpr int kWorkers = 3;
constexpr int kCapacity = 2;
constexpr int kProposals = 60;
constexpr int kHeartbeatMs = 100, kExpiryMs = 600;
constexpr int kMaxAttempts = 4;

TEST(WorkerFaultTest, RandomWorkerKillsEndEveryJobExactlyOnce) {
  std::string dir = "/tmp/nb-workerfault-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string endpoint = "ipc://" + dir + "/bus.sock";
  ServerProcess server({"--bus.endpoint", endpoint, "--workers", "0", "--bus.heartbeat-ms",
                        std::to_string(kHeartbeatMs), "--bus.heartbeat-expiry-ms",
                        std::to_string(kExpiryMs), "--jobs.max-attempts",
                        std::to_string(kMaxAttempts), "--jobs.checks", "fault",
                        "--jobs.proposal-analyses", "", "--jobs.dataset-analyses", ""});
  ASSERT_TRUE(server.Start()) << server.output();
  int next_id = 0;
  auto spawn = [&] {
    auto w = std::make_unique<WorkerProcess>(std::vector<std::string>{
        "--connect", endpoint, "--plugins", NB_TEST_PLUGIN_DIR, "--capacity",
        std::to_string(kCapacity), "--id", "victim-" + std::to_string(next_id++), "--heartbeat-ms",
        std::to_string(kHeartbeatMs), "--heartbeat-expiry-ms", std::to_string(kExpiryMs),
        "--log-level", "error"});
    EXPECT_TRUE(w->Start());
    return w;
  };
  std::vector<std::unique_ptr<WorkerProcess>> workers;
  for (int i = 0; i < kWorkers; ++i) workers.push_back(spawn());

  // Jobs of 100-400 ms, queued while the killing goes on.
  HttpClient admin(server.base_url());
  admin.set_token(server.admin_token());
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  Ledger acked;
  for (int i = 0; i < kProposals; ++i) {
    const std::string id = "wf-" + std::to_string(i);
    auto r = admin.Post("/api/v1/proposals",
                        json{{"kind", "add"},
                             {"rationale", "sleep:" + std::to_string(100 + 100 * (i % 4))},
                             {"agreement",
                              {{"id", id},
                               {"title", "Worker fault " + id},
                               {"year", 2024},
                               {"kind", "bilateral"},
                               {"leading_stakeholders", {"government"}}}}});
    ASSERT_EQ(r.status, 201) << r.body;
    acked.proposals[r.json()["id"].get<int64_t>()] = id;
  }

  // Kill a random worker every 150-600 ms and start a new one, until no job
  // is open (or two minutes pass).
  int kills = 0;
  auto open = [&] {
    for (const char* s : {"queued", "running"})
      if (!admin.Get(std::string("/api/v1/jobs?limit=1&state=") + s).json()["items"].empty())
        return true;
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (open() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 600)(rng)));
    auto& victim = workers[rng() % workers.size()];
    victim->Kill();
    ++kills;
    victim = spawn();
  }
  ASSERT_FALSE(open()) << "jobs still open after two minutes of worker kills";

  CheckOptions check;
  check.jobs_timeout_ms = 10000;
  check.exactly_once = true;
  const Report rep = Verify(admin, acked, check);
  EXPECT_TRUE(rep.ok()) << rep.Summary(10);

  // How they ended: counted for the report; each failure has its reason.
  int done = 0, failed = 0, redispatched = 0;
  std::vector<json> jobs;
  std::string error;
  ASSERT_TRUE(ReadList(admin, "/api/v1/jobs", jobs, &error)) << error;
  for (const auto& j : jobs) {
    if (j.value("dispatches", 0) > 1) ++redispatched;
    if (j.value("state", "") == "done") ++done;
    if (j.value("state", "") == "failed") {
      ++failed;
      EXPECT_FALSE(j.value("outcome", "").empty()) << j.dump();
    }
  }
  EXPECT_EQ(done + failed, kProposals);
  // The kills must have hit running jobs, or this proved nothing.
  EXPECT_GT(redispatched, 0) << "no job was running on a killed worker";
  std::printf(
      "      %d worker kills; %d jobs dispatched more than once; %d done, %d failed after %d "
      "attempts\n",
      kills, redispatched, done, failed, kMaxAttempts);
  RecordProperty("worker_kills", kills);
  RecordProperty("jobs_failed", failed);
  for (auto& w : workers) w->Kill();
  server.Stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace normbase::faults
