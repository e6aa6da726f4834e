// crash_test: SIGKILL normbase-server at random moments under a durable-write
// load, restart it on the same data, and check that it kept its promises.
//
//   crash_test [--rounds 10] [--threads 4] [--min-ms 50] [--max-ms 2000]
//              [--sync true|false] [--power-cut] [--expect-loss] [--seed N]
//              [--graceful]
//
// Each round: start the server (two local workers running the "fault" test
// check plugin, which passes), check the state the last crash left (see
// below), run the write load (tests/faults/fault_support.h: proposals, each
// queuing a check job, and comments), SIGKILL the server after a random
// 50-2000 ms. After the last round one more restart and check.
//
// The check after each restart: every acknowledged proposal and comment is
// there unchanged; every proposal, comment and job has its event and every
// event its record (nothing half-present, acknowledged or not); the event log
// is 1..N with no gap; every queued job ends, exactly once (done, or failed
// with a reason).
//
// --power-cut puts the data directory on a loop-mounted ext4 image and, at
// each kill, also throws away what the kernel had not yet written to the
// image (LoopImage::PowerCut): a power cut, not just a process crash. A
// SIGKILL alone loses nothing that reached the page cache, so only this mode
// can tell fsync from no fsync. --sync false with --power-cut is the negative
// control: the same harness must catch lost acknowledged writes, and with
// --expect-loss the exit code is 0 only if it did.
//
// --graceful stops the server with SIGTERM instead: the same checks without
// a crash, to tell a crash bug from a bug under concurrent load.
//
// Exit codes: 0 pass, 1 a check failed (or, with --expect-loss, nothing was
// caught), 77 skipped (--power-cut without root or loop devices).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "faults/fault_support.h"
#include "support/http_client.h"
#include "support/server_process.h"

namespace {

using normbase::faults::CheckOptions;
using normbase::faults::Ledger;
using normbase::faults::LoopImage;
using normbase::faults::Report;
using normbase::faults::WriteLoad;
using normbase::testing::HttpClient;
using normbase::testing::ServerProcess;
using Clock = std::chrono::steady_clock;

// Older proposals re-read whole after each restart (besides the last round's).
constexpr size_t kDeepSample = 20;
constexpr int kImageMb = 2048;

struct Options {
  int rounds = 10, threads = 4, min_ms = 50, max_ms = 2000;
  std::string sync = "true";
  bool power_cut = false, expect_loss = false;
  bool graceful = false;  // SIGTERM instead of SIGKILL: tells crash bugs from load bugs
  unsigned seed = 0;
};

Options Parse(int argc, char** argv) {
  Options o;
  o.seed = static_cast<unsigned>(std::chrono::system_clock::now().time_since_epoch().count());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--rounds")
      o.rounds = std::stoi(next());
    else if (a == "--threads")
      o.threads = std::stoi(next());
    else if (a == "--min-ms")
      o.min_ms = std::stoi(next());
    else if (a == "--max-ms")
      o.max_ms = std::stoi(next());
    else if (a == "--sync")
      o.sync = next();
    else if (a == "--seed")
      o.seed = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--power-cut")
      o.power_cut = true;
    else if (a == "--expect-loss")
      o.expect_loss = true;
    else if (a == "--graceful")
      o.graceful = true;
    else {
      std::cerr << "unknown argument " << a << " (see the comment at the top of crash_test.cc)\n";
      std::exit(2);
    }
  }
  return o;
}

std::string Tail(const std::string& s, size_t n = 3000) {
  return s.size() > n ? s.substr(s.size() - n) : s;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  const Options o = Parse(argc, argv);
  std::mt19937 rng(o.seed);
  std::string why;
  if (o.power_cut && !LoopImage::Available(&why)) {
    std::printf("SKIP: --power-cut %s\n", why.c_str());
    return 77;
  }

  std::string bus_dir = "/tmp/nb-crash-XXXXXX";
  if (!::mkdtemp(bus_dir.data())) return 1;
  // Removed last, after the image (in it) is unmounted and removed.
  struct RemoveDir {
    std::string path;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove_bus_dir{bus_dir};
  ServerProcess server({"--sync",
                        o.sync,
                        "--workers",
                        "2",
                        "--workers.bin",
                        NORMBASE_WORKER_BIN,
                        "--bus.endpoint",
                        "ipc://" + bus_dir + "/bus.sock",
                        "--bus.heartbeat-ms",
                        "100",
                        "--bus.heartbeat-expiry-ms",
                        "1000",
                        "--jobs.checks",
                        "fault",
                        "--jobs.proposal-analyses",
                        "",
                        "--jobs.dataset-analyses",
                        "",
                        "--plugins.dir",
                        NB_TEST_PLUGIN_DIR});
  // Declared after the server: unmounted before the server's data dir is removed.
  std::unique_ptr<LoopImage> image;
  if (o.power_cut) {
    image = std::make_unique<LoopImage>(bus_dir + "/data.img", kImageMb);
    if (!image->Create(&why) || !image->Mount(server.data_dir(), &why)) {
      std::printf("FAIL: cannot set up the loop image: %s\n", why.c_str());
      return 1;
    }
  }
  std::printf("crash_test: %d rounds, kill after %d-%d ms, %d writers, --sync %s%s, seed %u\n",
              o.rounds, o.min_ms, o.max_ms, o.threads, o.sync.c_str(),
              o.power_cut ? ", power cut at each kill" : "", o.seed);

  // First start: seed the data and make that durable, so that the rounds
  // measure only what happens to the writes they make.
  if (!server.Start()) {
    std::printf("FAIL: the server did not start:\n%s\n", Tail(server.output()).c_str());
    return 1;
  }
  server.Stop();
  if (image && !image->Sync(&why)) {
    std::printf("FAIL: %s\n", why.c_str());
    return 1;
  }

  Ledger all;
  std::set<int64_t> last_round;
  int failed_rounds = 0;
  size_t total_killed_in_flight = 0;
  const auto t0 = Clock::now();
  for (int round = 1; round <= o.rounds + 1; ++round) {
    const auto start = Clock::now();
    if (!server.Start()) {
      std::printf("round %d: FAIL: the server did not restart:\n%s\n", round,
                  Tail(server.output()).c_str());
      return o.expect_loss ? 0 : 1;
    }
    const double restart_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    HttpClient admin(server.base_url());
    admin.set_token(server.admin_token());
    CheckOptions check;
    check.deep = last_round;
    std::vector<int64_t> older;
    for (const auto& [id, c] : all.comments) older.push_back(id);
    std::shuffle(older.begin(), older.end(), rng);
    for (size_t i = 0; i < older.size() && i < kDeepSample; ++i) check.deep.insert(older[i]);
    const Report rep = Verify(admin, all, check);
    std::printf("round %d: restarted in %.0f ms; %s", round, restart_ms, rep.ok() ? "" : "\n");
    std::printf("%s", rep.Summary().c_str());
    if (!rep.ok()) {
      ++failed_rounds;
      if (o.expect_loss) {
        std::printf(
            "PASS (negative control): with --sync %s%s the harness caught %zu lost acknowledged "
            "writes, "
            "%zu half-present changes, %zu event-log gaps after round %d\n",
            o.sync.c_str(), o.power_cut ? " and a power cut" : "", rep.lost.size(),
            rep.partial.size(), rep.gaps.size(), round - 1);
        server.Stop();
        return 0;
      }
    }
    if (round > o.rounds) break;

    WriteLoad load(server.base_url(), server.admin_token(), o.threads,
                   "r" + std::to_string(round) + "x" + std::to_string(o.seed % 100000));
    load.Start();
    const int kill_after = std::uniform_int_distribution<int>(o.min_ms, o.max_ms)(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after));
    const size_t acked_before_kill = load.acknowledged();
    if (o.graceful)
      server.Stop();
    else
      server.Kill();
    if (image && !image->PowerCut(&why)) {
      std::printf("FAIL: power cut: %s\n", why.c_str());
      return 1;
    }
    Ledger got = load.Stop();
    total_killed_in_flight += got.unanswered;
    last_round.clear();
    for (const auto& [id, a] : got.proposals) last_round.insert(id);
    std::printf(
        "         killed after %d ms: %zu acknowledged (%zu proposals), %zu in flight at the "
        "kill\n",
        kill_after, got.acknowledged(), got.proposals.size(), got.unanswered);
    if (got.acknowledged() < acked_before_kill)
      std::printf("         (ledger shorter than the live count?)\n");
    for (const auto& [status, n] : got.statuses)
      if (status != 201 && status != 0)
        std::printf("         %zu answers with status %d\n", n, status);
    all.Merge(got);
    std::fflush(stdout);
  }
  server.Stop();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "%s: %d rounds in %.0f s, %zu acknowledged writes (%zu proposals), %zu requests in flight at "
      "kills, "
      "%d checks failed\n",
      failed_rounds == 0 ? (o.expect_loss ? "FAIL (negative control caught nothing)" : "PASS")
                         : "FAIL",
      o.rounds, secs, all.acknowledged(), all.proposals.size(), total_killed_in_flight,
      failed_rounds);
  if (o.expect_loss) return failed_rounds > 0 ? 0 : 1;
  return failed_rounds == 0 ? 0 : 1;
}
