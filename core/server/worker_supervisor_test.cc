// WorkerSupervisor against a stand-in worker: a shell script that notes when
// it starts and then crashes or waits, as a control file says. The real
// worker's crash-and-restart is covered with the real binary in
// tests/bus (LocalWorkersTest.APoisonJob...); here the restart policy itself.
#include "server/worker_supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/eventually.h"
#include "support/temp_dir.h"

namespace normbase::server {
namespace {

using normbase::testing::Eventually;

class StandInWorker {
 public:
  StandInWorker() : dir_("nb-supervisor") {
    script_ = dir_.path() + "/worker.sh";
    std::ofstream(script_) << "#!/bin/sh\n"
                           << "date +%s%N >> '" << dir_.path() << "/starts'\n"
                           << "if [ \"$(cat '" << dir_.path()
                           << "/mode')\" = crash ]; then kill -SEGV $$; fi\n"
                           << "exec sleep 600\n";
    ::chmod(script_.c_str(), 0755);
    SetMode("stay");
  }
  void SetMode(const std::string& mode) { std::ofstream(dir_.path() + "/mode") << mode; }
  const std::string& script() const { return script_; }
  // Start times in ms (the script's wall clock), in order.
  std::vector<double> Starts() const {
    std::ifstream in(dir_.path() + "/starts");
    std::vector<double> out;
    for (long long ns; in >> ns;) out.push_back(ns / 1e6);
    return out;
  }

 private:
  testing::TempDir dir_;
  std::string script_;
};

struct Exits {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> seen;  // id, how
  size_t size() {
    std::lock_guard lk(mu);
    return seen.size();
  }
};

SupervisorOptions Options(const StandInWorker& w, Exits& exits) {
  SupervisorOptions o;
  o.count = 1;
  o.binary = w.script();
  o.endpoint = "ipc:///nonexistent";
  o.stop_timeout_ms = 2000;
  o.on_exit = [&exits](const std::string& id, const std::string& how) {
    std::lock_guard lk(exits.mu);
    exits.seen.emplace_back(id, how);
  };
  return o;
}

TEST(WorkerSupervisorTest, AWorkerThatDiesIsReportedAndStartedAgainWithoutWaiting) {
  StandInWorker w;
  Exits exits;
  auto s = WorkerSupervisor::Start(Options(w, exits));
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_TRUE(Eventually([&] { return w.Starts().size() == 1; }));
  const pid_t first = (*s)->pids().at(0);
  ASSERT_GT(first, 0);
  const double killed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  ::kill(first, SIGKILL);
  ASSERT_TRUE(Eventually([&] { return exits.size() == 1 && w.Starts().size() == 2; }));
  {
    std::lock_guard lk(exits.mu);
    EXPECT_EQ(exits.seen[0].second, "was killed by signal 9");
    EXPECT_TRUE(exits.seen[0].first.starts_with("local-")) << exits.seen[0].first;
  }
  EXPECT_EQ((*s)->restarts(), 1);
  const pid_t second = (*s)->pids().at(0);
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);
  // Seen and started again at once: a delayed restart would wait 500 ms
  // (the script's clock is the wall clock too).
  EXPECT_LT(w.Starts().at(1) - killed_ms, 400);
}

TEST(WorkerSupervisorTest, AWorkerThatKeepsDyingIsRestartedAtOnceOnlyUpToTheBurstThenBacksOff) {
  StandInWorker w;
  w.SetMode("crash");
  Exits exits;
  SupervisorOptions o = Options(w, exits);
  o.restart_burst = 2;
  auto s = WorkerSupervisor::Start(o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  // Start 1; exits 1 and 2 are within the burst: starts 2 and 3 follow at
  // once. Exit 3 is beyond it: start 4 waits 500 ms, start 5 then 1000 ms.
  ASSERT_TRUE(Eventually([&] { return w.Starts().size() >= 5; }, 20000)) << w.Starts().size();
  const auto t = w.Starts();
  EXPECT_GE(t[3] - t[2], 450) << "the restart after the burst did not wait";
  EXPECT_GE(t[4] - t[3], 950) << "the back-off did not double";
  // The immediate ones are far below the first back-off (a loaded machine
  // still starts a shell within 400 ms).
  EXPECT_LT(t[1] - t[0], 400);
  EXPECT_LT(t[2] - t[1], 400);
  ASSERT_GE(exits.size(), 4u);
  std::lock_guard lk(exits.mu);
  for (const auto& [id, how] : exits.seen) EXPECT_EQ(how, "was killed by signal 11") << id;
}

TEST(WorkerSupervisorTest, StoppingTheSupervisorStopsItsWorkers) {
  StandInWorker w;
  Exits exits;
  SupervisorOptions o = Options(w, exits);
  o.count = 2;
  std::vector<pid_t> pids;
  {
    auto s = WorkerSupervisor::Start(o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    ASSERT_TRUE(Eventually([&] { return w.Starts().size() == 2; }));
    pids = (*s)->pids();
  }
  for (pid_t p : pids) EXPECT_NE(::kill(p, 0), 0) << "worker " << p << " outlived its supervisor";
  EXPECT_EQ(exits.size(), 0u) << "a stop is not an exit to report";
}

TEST(WorkerSupervisorTest, AMissingBinaryIsRefusedAtStart) {
  SupervisorOptions o;
  o.binary = "/nonexistent/normbase-worker";
  auto s = WorkerSupervisor::Start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("no executable"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace normbase::server
