// job_pipeline: the job bus measured against its limits, in one run.
//
//   job_pipeline throughput [--jobs N] [--capacity K] [--pairs P] [--curve] [--plugin NAME]
//     Normbase: N check jobs are queued with no worker connected, then one
//     normbase-worker (capacity K, the "noop" test plugin, which passes without
//     reading its input; --plugin fault runs one that parses it) drains them:
//     jobs/s from its start to the last result. Each job is a dispatch, a
//     durable lease record, the plugin call, a result and a durable result
//     record. Raw: ZeroMQ DEALER/ROUTER round trips between two processes with
//     the same message sizes (measured from the Normbase run) and K in flight.
//     P interleaved pairs (A B A B ...); prints each and the median ratio.
//     --curve runs the Normbase side over tcp with CurveZMQ against the same
//     pipeline over tcp without it (ratio curve/plain).
//   job_pipeline recovery [--rounds R] [--expiry-ms E]
//     Time from SIGKILL of a busy worker to its job finishing on another,
//     against the heartbeat expiry E (target: <= 1.2 x E).
//   job_pipeline poison [--jobs N] [--pairs P]
//     Healthy jobs/s with one job whose plugin crashes its worker, against the
//     same run without it (local supervised workers; target: >= 0.9).
//
// Needs the build's normbase-server, normbase-worker and test plugins (paths
// compiled in). tests/bench/run_job_bench.sh runs all three.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "bus/curve_keys.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/worker_process.h"

namespace {

using namespace normbase::testing;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace fs = std::filesystem;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::map<std::string, std::string> Flags(int argc, char** argv) {
  std::map<std::string, std::string> f;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) continue;
    if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
      f[a.substr(2)] = argv[++i];
    else
      f[a.substr(2)] = "1";
  }
  return f;
}

int Flag(const std::map<std::string, std::string>& f, const std::string& k, int def) {
  auto it = f.find(k);
  return it == f.end() ? def : std::stoi(it->second);
}

double Metric(HttpClient& c, const std::string& name) {
  auto r = c.Get("/metrics");
  std::smatch m;
  if (std::regex_search(r.body, m, std::regex("\n" + name + " ([0-9.e+]+)")))
    return std::stod(m[1]);
  return -1;
}

bool WaitFor(const std::function<bool()>& probe, int ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return probe();
}

std::string TempDir() {
  std::string t = "/tmp/nb-jobbench-XXXXXX";
  return ::mkdtemp(t.data()) ? t : "";
}

json NewAgreement(const std::string& id) {
  return json{{"id", id},
              {"title", "Bench agreement " + id},
              {"year", 2024},
              {"kind", "bilateral"},
              {"leading_stakeholders", {"government"}},
              {"parties", "Two states"},
              {"source_url", "https://example.org/" + id}};
}

// Creates n proposals (not measured) on `threads` connections.
void Propose(const ServerProcess& s, int n, const std::string& what, int threads = 4) {
  std::vector<std::thread> ts;
  std::atomic<int> next{0};
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      HttpClient c(s.base_url());
      c.set_token(s.admin_token());
      for (int i; (i = next++) < n;) {
        auto r = c.Post("/api/v1/proposals",
                        json{{"kind", "add"},
                             {"agreement", NewAgreement("b" + std::to_string(::getpid()) + "-" +
                                                        std::to_string(i) + what.substr(0, 4))},
                             {"rationale", what}});
        if (r.status != 201) std::cerr << "propose: " << r.status << " " << r.body << "\n";
      }
    });
  for (auto& t : ts) t.join();
}

std::vector<std::string> ServerArgs(const std::string& endpoint, std::vector<std::string> more = {},
                                    const std::string& check = "fault") {
  std::vector<std::string> a = {"--bus.endpoint",
                                endpoint,
                                "--jobs.checks",
                                check,
                                "--jobs.proposal-analyses",
                                "",
                                "--jobs.dataset-analyses",
                                "",
                                "--plugins.dir",
                                NB_TEST_PLUGIN_DIR};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

struct PipelineRun {
  double jobs_per_s = 0;
  double input_bytes = 0, output_bytes = 0;
};

enum class Bus { kIpc, kTcp, kTcpCurve };

// N jobs queued first, then one worker drains them.
PipelineRun Normbase(int jobs, int capacity, Bus bus, const std::string& plugin) {
  const std::string dir = TempDir();
  std::vector<std::string> extra, worker_args;
  std::string endpoint = bus == Bus::kIpc ? "ipc://" + dir + "/bus.sock" : "tcp://127.0.0.1:0";
  if (bus == Bus::kTcpCurve) {
    if (!normbase::bus::WriteKeyPair(dir + "/server", *normbase::bus::GenerateKeyPair()).ok() ||
        !normbase::bus::WriteKeyPair(dir + "/worker", *normbase::bus::GenerateKeyPair()).ok()) {
      std::cerr << "cannot write CurveZMQ keys in " << dir << "\n";
      std::exit(1);
    }
    fs::copy_file(dir + "/worker.pub", dir + "/allowed");
    extra = {"--bus.curve-key", dir + "/server.key", "--bus.allowed-keys", dir + "/allowed"};
    worker_args = {"--key", dir + "/worker.key", "--server-key", dir + "/server.pub"};
  }
  ServerProcess server(ServerArgs(endpoint, extra, plugin));
  if (!server.Start()) {
    std::cerr << server.output();
    std::exit(1);
  }
  if (endpoint.rfind("tcp", 0) == 0) {
    std::smatch m;
    const std::string out = server.output();
    if (std::regex_search(out, m, std::regex(R"(bus on (tcp://\S+))"))) endpoint = m[1];
  }
  Propose(server, jobs, "ok");
  HttpClient c(server.base_url());
  WaitFor([&] { return Metric(c, "normbase_bus_jobs_queued") >= jobs; }, 60000);
  std::vector<std::string> args = {"--connect",        endpoint,     "--plugins",
                                   NB_TEST_PLUGIN_DIR, "--capacity", std::to_string(capacity),
                                   "--log-level",      "error"};
  args.insert(args.end(), worker_args.begin(), worker_args.end());
  WorkerProcess worker(args);
  const auto t0 = Clock::now();
  worker.Start();
  WaitFor([&] { return Metric(c, "normbase_bus_results_total") >= jobs; }, 300000);
  PipelineRun r;
  r.jobs_per_s = jobs / Seconds(Clock::now() - t0);
  r.input_bytes = Metric(c, "normbase_bus_job_bytes_out_total") / jobs;
  r.output_bytes = Metric(c, "normbase_bus_result_bytes_in_total") / jobs;
  worker.Kill();
  server.Stop();
  fs::remove_all(dir);
  return r;
}

// Raw ZeroMQ: ROUTER here, a DEALER echo in a child process; `in_flight`
// requests of `in_bytes` outstanding, answered with `out_bytes`.
double Raw(int messages, int in_flight, size_t in_bytes, size_t out_bytes) {
  const std::string dir = TempDir();
  const std::string endpoint = "ipc://" + dir + "/raw.sock";
  pid_t child = ::fork();
  if (child == 0) {
    // The echo side, in its own process like a worker. A fixed routing id
    // lets the router address it; "ready" tells the router it is connected.
    zmq::context_t cctx;
    zmq::socket_t d(cctx, zmq::socket_type::dealer);
    d.set(zmq::sockopt::routing_id, "echo");
    d.set(zmq::sockopt::linger, 1000);
    d.connect(endpoint);
    d.send(zmq::buffer(std::string("ready")));
    const std::string reply(out_bytes, 'r');
    for (int i = 0; i < messages; ++i) {
      zmq::message_t m;
      if (!d.recv(m)) break;
      d.send(zmq::buffer(reply));
    }
    // Close before _exit: the last replies are still queued in the I/O thread.
    d.close();
    cctx.close();
    ::_exit(0);
  }
  zmq::context_t ctx;
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::rcvtimeo, 60000);  // a lost echo fails the run instead of hanging it
  router.bind(endpoint);
  zmq::message_t who, hello;
  (void)router.recv(who);
  (void)router.recv(hello);
  const std::string request(in_bytes, 'q');
  const auto t0 = Clock::now();
  int sent = 0, done = 0;
  auto send_one = [&] {
    router.send(zmq::buffer(std::string("echo")), zmq::send_flags::sndmore);
    router.send(zmq::buffer(request));
    ++sent;
  };
  while (sent < std::min(in_flight, messages)) send_one();
  while (done < messages) {
    zmq::message_t a, b;
    if (!router.recv(a) || !router.recv(b)) {
      std::cerr << "raw: no answer for 60 s after " << done << " of " << messages
                << " round trips\n";
      std::exit(1);
    }
    ++done;
    if (sent < messages) send_one();
  }
  const double rate = messages / Seconds(Clock::now() - t0);
  ::waitpid(child, nullptr, 0);
  fs::remove_all(dir);
  return rate;
}

int Throughput(const std::map<std::string, std::string>& f) {
  const int jobs = Flag(f, "jobs", 2000), capacity = Flag(f, "capacity", 16),
            pairs = Flag(f, "pairs", 5);
  const bool curve = f.count("curve") > 0;
  const std::string plugin = f.count("plugin") ? f.at("plugin") : "noop";
  std::vector<double> ratios;
  std::printf("%-5s %-14s %-14s %-8s %s\n", "pair", curve ? "curve jobs/s" : "normbase j/s",
              curve ? "plain jobs/s" : "raw zmq rt/s", "ratio", "sizes (in/out bytes)");
  for (int p = 1; p <= pairs; ++p) {
    PipelineRun a = Normbase(jobs, capacity, curve ? Bus::kTcpCurve : Bus::kIpc, plugin);
    double b;
    if (curve)
      b = Normbase(jobs, capacity, Bus::kTcp, plugin).jobs_per_s;  // the same transport, no Curve
    else
      b = Raw(jobs * 5, capacity, static_cast<size_t>(a.input_bytes),
              static_cast<size_t>(a.output_bytes) + 64);
    ratios.push_back(a.jobs_per_s / b);
    std::printf("%-5d %-14.0f %-14.0f %-8.3f %.0f/%.0f\n", p, a.jobs_per_s, b, ratios.back(),
                a.input_bytes, a.output_bytes);
    std::fflush(stdout);
  }
  std::printf("median ratio %s: %.3f (jobs=%d, capacity=%d, pairs=%d, plugin=%s)\n",
              curve ? "curve/plain" : "normbase/raw", Median(ratios), jobs, capacity, pairs,
              plugin.c_str());
  return 0;
}

int Recovery(const std::map<std::string, std::string>& f) {
  const int rounds = Flag(f, "rounds", 5), expiry = Flag(f, "expiry-ms", 1000);
  const std::string hb = std::to_string(std::max(50, expiry / 4));
  std::vector<double> ratios;
  for (int round = 1; round <= rounds; ++round) {
    const std::string dir = TempDir();
    const std::string endpoint = "ipc://" + dir + "/bus.sock";
    ServerProcess server(ServerArgs(
        endpoint, {"--bus.heartbeat-ms", hb, "--bus.heartbeat-expiry-ms", std::to_string(expiry)}));
    if (!server.Start()) return 1;
    auto worker = [&](const std::string& id) {
      return std::make_unique<WorkerProcess>(std::vector<std::string>{
          "--connect", endpoint, "--plugins", NB_TEST_PLUGIN_DIR, "--capacity", "1", "--id", id,
          "--heartbeat-ms", hb, "--heartbeat-expiry-ms", std::to_string(expiry), "--log-level",
          "error"});
    };
    auto a = worker("worker-a"), b = worker("worker-b");
    a->Start();
    b->Start();
    HttpClient c(server.base_url());
    c.set_token(server.admin_token());
    WaitFor([&] { return Metric(c, "normbase_bus_workers") >= 2; }, 10000);
    Propose(server, 1, "sleep-once:600000", 1);
    std::string busy;
    WaitFor(
        [&] {
          auto j = c.Get("/api/v1/jobs?state=running").json();
          if (j.is_object() && !j["items"].empty()) busy = j["items"][0].value("worker", "");
          return !busy.empty();
        },
        20000);
    const auto killed = Clock::now();
    (busy == "worker-a" ? a : b)->Kill();
    WaitFor([&] { return c.Get("/api/v1/jobs?state=done").json()["items"].size() == 1; }, 60000);
    const double ms = Seconds(Clock::now() - killed) * 1000;
    ratios.push_back(ms / expiry);
    std::printf("round %d: killed %s, job done elsewhere after %.0f ms = %.2f x expiry (%d ms)\n",
                round, busy.c_str(), ms, ratios.back(), expiry);
    std::fflush(stdout);
    server.Stop();
    fs::remove_all(dir);
  }
  std::printf("median recovery: %.2f x heartbeat expiry (target <= 1.2)\n", Median(ratios));
  return 0;
}

int Poison(const std::map<std::string, std::string>& f) {
  const int jobs = Flag(f, "jobs", 300), pairs = Flag(f, "pairs", 5);
  auto run = [&](bool poison) {
    const std::string dir = TempDir();
    ServerProcess server(
        ServerArgs("ipc://" + dir + "/bus.sock",
                   {"--workers", "2", "--workers.capacity", "4", "--bus.heartbeat-ms", "100",
                    "--bus.heartbeat-expiry-ms", "500", "--jobs.max-attempts", "2"}));
    if (!server.Start()) std::exit(1);
    HttpClient c(server.base_url());
    WaitFor([&] { return Metric(c, "normbase_bus_workers") >= 2; }, 10000);
    const auto t0 = Clock::now();
    std::thread healthy([&] { Propose(server, jobs, "sleep:5", 2); });
    if (poison) Propose(server, 1, "crash", 1);
    healthy.join();
    const int want = jobs + (poison ? 1 : 0);
    WaitFor(
        [&] {
          return Metric(c, "normbase_bus_results_total") +
                         Metric(c, "normbase_bus_workers_lost_total") >=
                     want + (poison ? 1 : 0) &&
                 Metric(c, "normbase_bus_jobs_queued") == 0 &&
                 Metric(c, "normbase_bus_jobs_in_flight") == 0;
        },
        120000);
    const double rate = jobs / Seconds(Clock::now() - t0);
    const double crashes = Metric(c, "normbase_bus_workers_lost_total");
    server.Stop();
    fs::remove_all(dir);
    return std::make_pair(rate, crashes);
  };
  std::vector<double> ratios;
  for (int p = 1; p <= pairs; ++p) {
    auto [with, crashes] = run(true);
    auto [without, _] = run(false);
    ratios.push_back(with / without);
    std::printf(
        "pair %d: healthy jobs/s with a poison job %.0f (%.0f worker crashes), without %.0f, ratio "
        "%.3f\n",
        p, with, crashes, without, ratios.back());
    std::fflush(stdout);
  }
  std::printf("median ratio with/without poison: %.3f (target >= 0.9; max attempts 2)\n",
              Median(ratios));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  const std::string mode = argc > 1 ? argv[1] : "";
  auto f = Flags(argc, argv);
  if (mode == "throughput") return Throughput(f);
  if (mode == "recovery") return Recovery(f);
  if (mode == "poison") return Poison(f);
  std::cerr
      << "usage: job_pipeline throughput|recovery|poison [flags] (see the comment at the top)\n";
  return 2;
}
