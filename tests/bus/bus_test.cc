// The job bus end to end: the real normbase-server, real normbase-worker
// processes, real ZeroMQ over tcp and ipc, and the "fault" test plugin, whose
// behaviour each proposal picks through its rationale (see fault_plugin.cc).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <thread>
#include <zmq.hpp>

#include "bus/curve_keys.h"
#include "bus/wire.h"
#include "integration/test_helpers.h"
#include "normbase/plugin.h"
#include "support/eventually.h"
#include "support/worker_process.h"

namespace normbase::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerBuild = true;
#else
constexpr bool kSanitizerBuild = false;
#endif

// Fast timings so that losses are noticed within a second.
std::vector<std::string> BusArgs(std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--jobs.checks",      "fault", "--jobs.proposal-analyses", "",
                                   "--jobs.dataset-analyses", "",  "--bus.heartbeat-ms",      "100",
                                   "--bus.heartbeat-expiry-ms", "600", "--plugins.dir", NB_TEST_PLUGIN_DIR};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  char* d = ::mkdtemp(tmpl.data());
  return d ? std::string(d) : std::string();
}

using normbase::testing::Eventually;

// Runs normbase-worker to completion: {exit code, output}.
std::pair<int, std::string> RunWorkerBinary(std::vector<std::string> args, int timeout_ms = 10000) {
  WorkerProcess w(std::move(args));
  if (!w.Start()) return {-1, "cannot start " + WorkerProcess::BinaryPath()};
  const int code = w.Wait(timeout_ms);
  return {code, w.output()};
}

// Proposes a new agreement whose "fault" check does `what`; returns its id.
int64_t Propose(HttpClient& c, const std::string& what) {
  auto r = c.Post("/api/v1/proposals", json{{"kind", "add"},
                                           {"agreement", NewAgreement(UniqueName("bus-agreement"))},
                                           {"rationale", what}});
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json().value("id", int64_t{0});
}

json Check(HttpClient& c, int64_t proposal) {
  auto r = c.Get("/api/v1/proposals/" + std::to_string(proposal));
  if (r.status != 200) return json{{"error", r.body}};
  const json body = r.json();  // the loop must not run over a destroyed temporary
  for (const auto& ch : body["checks"])
    if (ch["plugin"] == "fault") return ch;
  return json{{"error", "no fault check in " + r.body}};
}

bool CheckIs(HttpClient& c, int64_t proposal, const std::string& status) {
  return Check(c, proposal).value("status", "") == status;
}

json Job(HttpClient& admin, int64_t proposal) {
  auto r = admin.Get("/api/v1/jobs/p" + std::to_string(proposal) + ".r1.fault");
  return r.status == 200 ? r.json() : json{{"error", r.body}};
}

json Workers(HttpClient& admin) {
  auto r = admin.Get("/api/v1/workers");
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json();
}

std::string BusEndpointOf(const ServerProcess& s) {
  const std::string out = s.output();
  static const std::regex kBusOn(R"(bus on (\S+))");
  std::string last;
  for (std::sregex_iterator it(out.begin(), out.end(), kBusOn), end; it != end; ++it) last = (*it)[1];
  return last;
}

double Metric(HttpClient& c, const std::string& name) {
  auto r = c.Get("/metrics");
  std::smatch m;
  if (std::regex_search(r.body, m, std::regex("\n" + name + " ([0-9.e+]+)"))) return std::stod(m[1]);
  return -1;
}

// ---- with local, supervised workers ----------------------------------------

class LocalWorkersTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() {
    StartShared(BusArgs({"--workers", "2", "--workers.capacity", "2", "--jobs.max-attempts", "2",
                         "--jobs.timeout-ms", "1500", "--policy.required_checks", "fault"}));
  }
};

TEST_F(LocalWorkersTest, ChecksRunOnEveryProposalAndGateTheMerge) {
  HttpClient admin = ClientFor(*server_, server_->admin_token());
  auto author = CreateUser(admin, "contributor", "civil-society");
  auto gov = CreateUser(admin, "contributor", "government");
  auto ind = CreateUser(admin, "contributor", "private-sector");
  HttpClient a = ClientFor(*server_, author.token);
  const int64_t passing = Propose(a, "sleep:300");
  const int64_t failing = Propose(a, "fail");
  // While the check runs, the policy's required check blocks the merge.
  for (auto* u : {&gov, &ind}) {
    HttpClient v = ClientFor(*server_, u->token);
    for (int64_t p : {passing, failing})
      ASSERT_TRUE(IsStatus(v.Post("/api/v1/proposals/" + std::to_string(p) + "/reviews", json{{"verdict", "approve"}}), 201));
  }
  ASSERT_TRUE(Eventually([&] { return CheckIs(a, passing, "passed"); })) << Check(a, passing).dump();
  ASSERT_TRUE(Eventually([&] { return CheckIs(a, failing, "failed"); })) << Check(a, failing).dump();
  const json failed = Check(a, failing);
  ASSERT_EQ(failed["findings"].size(), 1u);
  EXPECT_EQ(failed["findings"][0]["field"], "rationale");

  EXPECT_TRUE(IsProblem(admin.Post("/api/v1/proposals/" + std::to_string(failing) + "/merge", json::object()), 409,
                        "fault"));
  EXPECT_TRUE(IsStatus(admin.Post("/api/v1/proposals/" + std::to_string(passing) + "/merge", json::object()), 200));
  // The job's states were events on the stream's log.
  auto events = admin.Get("/api/v1/events?since=0&limit=1000").json()["items"];
  std::set<std::string> types;
  for (const auto& e : events)
    if (e["subjects"].value("proposal", "") == std::to_string(passing)) types.insert(e["type"].get<std::string>());
  EXPECT_TRUE(types.count("check.queued") && types.count("check.running") && types.count("check.done"))
      << events.dump();
}

TEST_F(LocalWorkersTest, GarbageFromAPluginIsAnErrorNotACrash) {
  HttpClient admin = ClientFor(*server_, server_->admin_token());
  const int64_t p = Propose(admin, "garbage");
  ASSERT_TRUE(Eventually([&] { return CheckIs(admin, p, "error"); })) << Check(admin, p).dump();
  EXPECT_NE(Check(admin, p).value("summary", "").find("not JSON"), std::string::npos) << Check(admin, p).dump();
  EXPECT_EQ(Job(admin, p).value("failures", -1), 0);  // the plugin's fault: no retry
}

TEST_F(LocalWorkersTest, APoisonJobCostsMaxAttemptsWorkerCrashesAndHealthyJobsGoOn) {
  HttpClient admin = ClientFor(*server_, server_->admin_token());
  const int64_t poison = Propose(admin, "crash");
  std::vector<int64_t> healthy;
  for (int i = 0; i < 6; ++i) healthy.push_back(Propose(admin, "sleep:50"));
  ASSERT_TRUE(Eventually([&] { return Job(admin, poison).value("state", "") == "failed"; }, 30000))
      << Job(admin, poison).dump();
  const json job = Job(admin, poison);
  EXPECT_EQ(job["failures"], 2);
  EXPECT_NE(job["outcome"].get<std::string>().find("gave up after 2 failed attempts"), std::string::npos) << job;
  EXPECT_NE(job["outcome"].get<std::string>().find("worker lost"), std::string::npos) << job;
  // The supervisor saw the crash and the broker released the job at once,
  // not after the heartbeat expiry ("stopped answering for ... ms"). The
  // plugin's segfault kills the worker with SIGSEGV; in a sanitizer build the
  // sanitizer catches the signal, reports and exits with an error code instead.
  const std::string outcome = job["outcome"].get<std::string>();
  EXPECT_TRUE(outcome.find("was killed by signal") != std::string::npos ||
              (kSanitizerBuild && outcome.find("exited with code") != std::string::npos))
      << job;
  EXPECT_EQ(outcome.find("stopped answering"), std::string::npos) << job;
  for (int64_t p : healthy)
    EXPECT_TRUE(Eventually([&] { return CheckIs(admin, p, "passed"); }, 30000)) << Check(admin, p).dump();
  // The supervisor brought the crashed workers back.
  EXPECT_TRUE(Eventually([&] { return Workers(admin)["items"].size() == 2; }, 15000)) << Workers(admin).dump();
}

TEST_F(LocalWorkersTest, AHungPluginTimesOutAndItsWorkerIsReplaced) {
  HttpClient admin = ClientFor(*server_, server_->admin_token());
  const int64_t p = Propose(admin, "hang");
  ASSERT_TRUE(Eventually([&] { return Job(admin, p).value("state", "") == "failed"; }, 40000)) << Job(admin, p).dump();
  EXPECT_NE(Job(admin, p)["outcome"].get<std::string>().find("timed out"), std::string::npos) << Job(admin, p).dump();
  // Never handed again to a worker still stuck in it.
  EXPECT_EQ(Job(admin, p)["dispatches"], 2) << Job(admin, p).dump();
  const int64_t after = Propose(admin, "ok");
  EXPECT_TRUE(Eventually([&] { return CheckIs(admin, after, "passed"); }, 20000)) << Check(admin, after).dump();
}

TEST_F(LocalWorkersTest, WorkersAndJobsAreForModerators) {
  HttpClient admin = ClientFor(*server_, server_->admin_token());
  auto user = CreateUser(admin, "contributor", "government");
  HttpClient c = ClientFor(*server_, user.token);
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/workers"), 403));
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/jobs"), 403));
  EXPECT_TRUE(IsProblem(admin.Get("/api/v1/jobs?state=sleeping"), 400, "state"));
  ASSERT_TRUE(Eventually([&] { return Workers(admin)["items"].size() == 2; }));
  const json w = Workers(admin)["items"][0];
  EXPECT_EQ(w["capacity"], 2);
  EXPECT_EQ(w["plugins"][0]["name"], "fault");
  EXPECT_GE(Metric(admin, "normbase_bus_workers"), 1);
}

// ---- the built-in plugins, through the real worker and server -------------------

TEST(BuiltinPlugins, SeedAnalysesAndAProposalsChecksRunEndToEnd) {
  ServerProcess server({"--workers", "1", "--workers.capacity", "4", "--plugins.dir", NB_BUILTIN_PLUGIN_DIR});
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  // The seed's dataset revision is analysed; results state their coverage.
  json freq;
  ASSERT_TRUE(Eventually([&] {
    freq = admin.Get("/api/v1/analyses/element-frequency").json();
    return freq.value("state", "") == "done";
  }, 30000)) << freq.dump() << server.output();
  EXPECT_EQ(freq["dataset_revision"], 1);
  EXPECT_EQ(freq["result"]["coverage"]["text"], "19 of 33 agreements coded");
  EXPECT_TRUE(IsProblem(admin.Get("/api/v1/analyses/element-frequency?revision=99"), 404, "revision 99"));
  EXPECT_TRUE(IsProblem(admin.Get("/api/v1/analyses/astrology"), 404, "astrology"));
  json list = admin.Get("/api/v1/analyses").json();
  ASSERT_EQ(list["items"].size(), 4u);
  // Every analysis done first, so that the impact jobs below get all of them
  // as their baseline.
  ASSERT_TRUE(Eventually(
      [&] {
        list = admin.Get("/api/v1/analyses").json();
        for (const auto& item : list["items"])
          if (item.value("latest", json::object()).value("state", "") != "done") return false;
        return true;
      },
      30000))
      << list.dump();
  // A proposal gets every check and its impact; a missing locator is found in place.
  json a = NewAgreement(UniqueName("builtin"));
  a["codings"]["human-rights"]["evidence"][0]["locator"] = "";
  auto r = admin.Post("/api/v1/proposals", json{{"kind", "add"}, {"agreement", a}, {"rationale", "end to end"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string path = "/api/v1/proposals/" + std::to_string(r.json()["id"].get<int64_t>());
  json view;
  ASSERT_TRUE(Eventually([&] {
    view = admin.Get(path).json();
    bool all_done = view["checks"].size() == 4;
    for (const auto& c : view["checks"]) all_done &= c["status"] == "passed" || c["status"] == "failed";
    return all_done && view["impact"].value("impact", json::object()).value("status", "") == "done";
  }, 30000)) << view.dump();
  std::map<std::string, std::string> status;
  for (const auto& c : view["checks"]) status[c["plugin"]] = c["status"];
  EXPECT_EQ(status["codebook"], "passed");
  EXPECT_EQ(status["evidence"], "failed");
  bool located = false;
  for (const auto& c : view["checks"])
    for (const auto& f : c["findings"])
      located |= f.value("field", "") == "codings.human-rights.evidence[0].locator";
  EXPECT_TRUE(located) << view["checks"].dump();
  EXPECT_TRUE(view["impact"]["impact"]["result"].is_object());
  // The impact started from the analyses' stored states. A second proposal's
  // impact gets the same baseline (made once, then kept) and starts from it too.
  // A new "add" proposal once its impact is done: its path and view (empty
  // after a failure, which is reported).
  auto proposed_with_impact = [&](const std::string& rationale) -> std::pair<std::string, json> {
    auto r =
        admin.Post("/api/v1/proposals", json{{"kind", "add"},
                                             {"agreement", NewAgreement(UniqueName("builtin"))},
                                             {"rationale", rationale}});
    if (r.status != 201) {
      ADD_FAILURE() << r.body;
      return {};
    }
    const std::string at = "/api/v1/proposals/" + std::to_string(r.json()["id"].get<int64_t>());
    json v;
    if (!Eventually(
            [&] {
              v = admin.Get(at).json();
              return v["impact"].value("impact", json::object()).value("status", "") == "done";
            },
            30000)) {
      ADD_FAILURE() << v.dump();
      return {};
    }
    return {at, v};
  };
  const auto [second_path, second_view] = proposed_with_impact("second");
  ASSERT_FALSE(second_path.empty());
  for (const json* v : std::initializer_list<const json*>{&view, &second_view})
    for (const char* analysis : {"element-frequency", "trend", "co-occurrence"})
      EXPECT_EQ((*v)["impact"]["impact"]["result"]["computation"].value(analysis, ""),
                "baseline state")
          << analysis << ": " << (*v)["impact"].dump();
  // The second proposal merged: the analyses run on the new dataset revision,
  // and the next impact starts from their results, not from the kept ones.
  for (const char* group : {"government", "private-sector"}) {
    HttpClient reviewer = ClientFor(server, CreateUser(admin, "contributor", group).token);
    ASSERT_TRUE(
        IsStatus(reviewer.Post(second_path + "/reviews", json{{"verdict", "approve"}}), 201));
  }
  HttpResult merged;
  ASSERT_TRUE(Eventually(
      [&] {  // 409 until its checks are in
        merged = admin.Post(second_path + "/merge", json::object());
        return merged.status == 200;
      },
      30000))
      << merged.body;
  ASSERT_TRUE(Eventually(
      [&] {
        list = admin.Get("/api/v1/analyses").json();
        for (const auto& item : list["items"]) {
          const json latest = item.value("latest", json::object());
          if (latest.value("state", "") != "done" || latest.value("dataset_revision", 0) != 2)
            return false;
        }
        return true;
      },
      30000))
      << list.dump();
  const auto [third_path, third_view] = proposed_with_impact("third");
  ASSERT_FALSE(third_path.empty());
  const json& before_merge = second_view["impact"]["impact"]["result"]["coverage"]["before"];
  const json& after_merge = third_view["impact"]["impact"]["result"]["coverage"]["before"];
  EXPECT_FALSE(after_merge.is_null()) << third_view["impact"].dump();
  EXPECT_NE(after_merge, before_merge)
      << "the impact after the merge compared against the old baseline";
  EXPECT_EQ(third_view["impact"]["impact"]["result"]["computation"].value("trend", ""),
            "baseline state");
}

// ---- with workers the test starts and kills ------------------------------------

class ExternalWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("nb-bus");
    endpoint_ = "ipc://" + dir_ + "/bus.sock";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<WorkerProcess> Worker(std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--connect", endpoint_, "--plugins", NB_TEST_PLUGIN_DIR, "--capacity", "1",
                                     "--heartbeat-ms", "100", "--heartbeat-expiry-ms", "600"};
    args.insert(args.end(), more.begin(), more.end());
    auto w = std::make_unique<WorkerProcess>(args);
    EXPECT_TRUE(w->Start());
    return w;
  }
  std::string dir_, endpoint_;
};

TEST_F(ExternalWorkersTest, AWorkerKilledMidJobHasItsJobFinishedByAnother) {
  ServerProcess server(BusArgs({"--bus.endpoint", endpoint_}));
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  auto a = Worker();
  ASSERT_TRUE(Eventually([&] { return Workers(admin)["items"].size() == 1; }));
  const int64_t p = Propose(admin, "sleep:2000");
  ASSERT_TRUE(Eventually([&] { return Job(admin, p).value("state", "") == "running"; }));
  auto b = Worker();
  ASSERT_TRUE(Eventually([&] { return Workers(admin)["items"].size() == 2; }));
  const auto killed_at = Clock::now();
  a->Kill();
  ASSERT_TRUE(Eventually([&] { return CheckIs(admin, p, "passed"); }, 20000)) << Job(admin, p).dump();
  const json job = Job(admin, p);
  EXPECT_EQ(job["failures"], 1);
  EXPECT_EQ(job["dispatches"], 2);
  EXPECT_EQ(job["attempts"][0]["outcome"], "worker lost");
  // Noticed within the expiry (600 ms) plus the 2 s the job takes, with slack for CI.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at).count(), 8000);
}

// The workers view is rebuilt at most every 50 ms while jobs move: it still
// shows a running job with its progress, and lets go of it when it ends, even
// with the broker's loop idle between (default heartbeat: 1 s).
TEST_F(ExternalWorkersTest, TheWorkersViewShowsARunningJobAndThenLetsGoOfIt) {
  ServerProcess server({"--jobs.checks", "fault", "--jobs.proposal-analyses", "",
                        "--jobs.dataset-analyses", "", "--plugins.dir", NB_TEST_PLUGIN_DIR,
                        "--bus.endpoint", endpoint_});
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  WorkerProcess w({"--connect", endpoint_, "--plugins", NB_TEST_PLUGIN_DIR, "--capacity", "1"});
  ASSERT_TRUE(w.Start());
  const int64_t p = Propose(admin, "sleep:1500");
  const std::string job_id = "p" + std::to_string(p) + ".r1.fault";
  auto listed = [&] {
    const json items = Workers(admin)["items"];
    return items.size() == 1 && items[0]["in_flight"].size() == 1 &&
           items[0]["in_flight"][0]["job"] == job_id;
  };
  EXPECT_TRUE(Eventually(listed)) << Workers(admin).dump();
  ASSERT_TRUE(Eventually([&] { return CheckIs(admin, p, "passed"); })) << Job(admin, p).dump();
  EXPECT_TRUE(Eventually([&] {
    const json items = Workers(admin)["items"];
    return items.size() == 1 && items[0]["in_flight"].empty();
  })) << Workers(admin).dump();
}

TEST_F(ExternalWorkersTest, QueuedAndInFlightJobsSurviveACoreCrash) {
  ServerProcess server(BusArgs({"--bus.endpoint", endpoint_}));
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  // Queued with no worker at all, then one in flight when the core dies.
  const int64_t queued = Propose(admin, "ok");
  auto w = Worker();
  const int64_t in_flight = Propose(admin, "sleep:1500");
  ASSERT_TRUE(Eventually([&] { return CheckIs(admin, queued, "passed"); }));
  ASSERT_TRUE(Eventually([&] { return Job(admin, in_flight).value("state", "") == "running"; }));
  server.Kill();
  ASSERT_TRUE(server.Start()) << server.output();
  admin = ClientFor(server, server.admin_token());
  // The same worker notices the new core and says hello again; the orphaned
  // job is re-queued without counting against it.
  ASSERT_TRUE(Eventually([&] { return CheckIs(admin, in_flight, "passed"); }, 20000)) << Job(admin, in_flight).dump();
  EXPECT_EQ(Job(admin, in_flight)["failures"], 0) << Job(admin, in_flight).dump();
  EXPECT_TRUE(w->running());
}

TEST_F(ExternalWorkersTest, ADrainingWorkerFinishesItsJobThenLeaves) {
  ServerProcess server(BusArgs({"--bus.endpoint", endpoint_}));
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  auto w = Worker();
  ASSERT_TRUE(Eventually([&] { return Workers(admin)["items"].size() == 1; }));
  const int64_t p = Propose(admin, "sleep:800");
  ASSERT_TRUE(Eventually([&] { return Job(admin, p).value("state", "") == "running"; }));
  EXPECT_EQ(w->Terminate(10000), 0) << w->output();
  // The worker sent its result before it exited; the core may still be
  // committing it when the exit is seen here.
  EXPECT_TRUE(Eventually([&] { return CheckIs(admin, p, "passed"); }, 10000))
      << Job(admin, p).dump();
  EXPECT_TRUE(Eventually([&] { return Workers(admin)["items"].empty(); })) << Workers(admin).dump();
}

TEST_F(ExternalWorkersTest, ARogueClientSendingGarbageDisturbsNobody) {
  ServerProcess server(BusArgs({"--bus.endpoint", endpoint_}));
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  auto w = Worker();
  zmq::context_t ctx;
  zmq::socket_t rogue(ctx, zmq::socket_type::dealer);
  rogue.set(zmq::sockopt::linger, 0);
  rogue.connect(endpoint_);
  std::mt19937 rng(42);
  for (int i = 0; i < 300; ++i) {
    std::string junk(rng() % 300, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    rogue.send(zmq::buffer(junk), i % 7 == 0 ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  rogue.send(zmq::buffer(std::string("end")), zmq::send_flags::none);
  // Well-formed but wrong: another protocol version, a result for a job
  // never leased, a hello that announces nothing usable.
  bus::pb::Envelope old;
  old.mutable_heartbeat();
  std::string bytes = bus::Encode(old);
  bus::pb::Envelope parsed;
  parsed.ParseFromString(bytes);
  parsed.set_protocol(7);
  rogue.send(zmq::buffer(parsed.SerializeAsString()), zmq::send_flags::none);
  bus::pb::Envelope hello;
  hello.mutable_hello()->set_worker_id("rogue");
  hello.mutable_hello()->set_capacity(1);
  rogue.send(zmq::buffer(bus::Encode(hello)), zmq::send_flags::none);
  bus::pb::Envelope result;
  result.mutable_result()->set_job_id("p1.r1.fault");
  result.mutable_result()->set_attempt(1);
  result.mutable_result()->set_status(bus::pb::Result::OK);
  rogue.send(zmq::buffer(bus::Encode(result)), zmq::send_flags::none);

  const int64_t p = Propose(admin, "ok");
  EXPECT_TRUE(Eventually([&] { return CheckIs(admin, p, "passed"); })) << Job(admin, p).dump();
  EXPECT_GT(Metric(admin, "normbase_bus_malformed_total"), 0);
  EXPECT_GE(Metric(admin, "normbase_bus_refused_hellos_total"), 1);
  EXPECT_EQ(Workers(admin)["items"].size(), 1u);
  // The rogue's answer to its version-7 message names the versions.
  zmq::message_t reply;
  bool heard_version = false;
  for (int i = 0; i < 20 && !heard_version; ++i) {
    if (!rogue.recv(reply, zmq::recv_flags::dontwait)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    bus::pb::Envelope env;
    if (env.ParseFromArray(reply.data(), static_cast<int>(reply.size())) && env.has_error() &&
        env.error().code() == bus::pb::Error::PROTOCOL_VERSION)
      heard_version = env.error().message().find("version 7") != std::string::npos;
  }
  EXPECT_TRUE(heard_version);
}

// A worker scripted here, announcing "shared-input": the dataset document and
// the codebook reach it once, later jobs refer to them, and after a refusal
// (a worker that lost them) the core sends them again.
TEST_F(ExternalWorkersTest, SharedInputTextsReachAWorkerOnceAndAgainAfterARefusal) {
  ServerProcess server(BusArgs({"--bus.endpoint", endpoint_}));
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  zmq::context_t ctx;
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::routing_id, "scripted");
  dealer.connect(endpoint_);
  auto send = [&](const bus::pb::Envelope& env) { dealer.send(zmq::buffer(bus::Encode(env))); };
  bus::pb::Envelope hello;
  hello.mutable_hello()->set_worker_id("scripted");
  hello.mutable_hello()->set_capacity(1);
  hello.mutable_hello()->add_features("shared-input");
  auto* plugin = hello.mutable_hello()->add_plugins();
  plugin->set_name("fault");
  plugin->set_kind("check");
  plugin->set_abi_version(NB_PLUGIN_ABI_VERSION);
  send(hello);
  // The next job, heartbeating meanwhile (the core expires silent workers).
  auto next_job = [&]() -> std::optional<bus::pb::Job> {
    for (int i = 0; i < 200; ++i) {
      zmq::pollitem_t item{static_cast<void*>(dealer), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      bus::pb::Envelope hb;
      hb.mutable_heartbeat();
      send(hb);
      zmq::message_t m;
      while (dealer.recv(m, zmq::recv_flags::dontwait)) {
        auto env = bus::Decode(m.data(), m.size());
        if (env.ok() && env->has_job()) return env->job();
      }
    }
    return std::nullopt;
  };
  auto answer = [&](const bus::pb::Job& j, bus::pb::Result::Status status,
                    const std::string& message) {
    bus::pb::Envelope env;
    auto* r = env.mutable_result();
    r->set_job_id(j.job_id());
    r->set_attempt(j.attempt());
    r->set_status(status);
    if (status == bus::pb::Result::OK)
      r->set_output(R"({"status":"passed","summary":"ok","findings":[]})");
    r->set_message(message);
    send(env);
  };
  std::map<std::string, std::string> kept;  // what this worker was sent, by id
  auto assemble = [&](const bus::pb::Job& j) {
    std::string input = j.input();
    for (const auto& m : j.shared()) {
      if (!m.text().empty()) kept[m.id()] = m.text();
      EXPECT_TRUE(kept.count(m.id())) << "never sent: " << m.name() << " " << m.id();
      input.pop_back();
      input += ",\"" + m.name() + "\":" + kept[m.id()] + "}";
    }
    return json::parse(input);
  };

  const int64_t p1 = Propose(admin, "ok");
  auto j1 = next_job();
  ASSERT_TRUE(j1.has_value());
  ASSERT_EQ(j1->shared_size(), 2);
  for (const auto& m : j1->shared())
    EXPECT_FALSE(m.text().empty()) << m.name() << ": sent for the first time";
  const json in1 = assemble(*j1);
  EXPECT_EQ(in1["proposal"]["id"], p1);
  EXPECT_EQ(in1["dataset"]["agreements"].size(), 33u) << "the seed's agreements";
  EXPECT_TRUE(in1["codebook"].is_object() && !in1["codebook"].empty());
  answer(*j1, bus::pb::Result::OK, "");
  EXPECT_TRUE(Eventually([&] { return CheckIs(admin, p1, "passed"); })) << Job(admin, p1).dump();

  const int64_t p2 = Propose(admin, "ok");
  auto j2 = next_job();
  ASSERT_TRUE(j2.has_value());
  ASSERT_EQ(j2->shared_size(), 2);
  for (const auto& m : j2->shared())
    EXPECT_TRUE(m.text().empty()) << m.name() << ": this worker has it";
  const json in2 = assemble(*j2);
  EXPECT_EQ(in2["proposal"]["id"], p2);
  EXPECT_EQ(in2["dataset"], in1["dataset"]);
  EXPECT_EQ(in2["codebook"], in1["codebook"]);
  EXPECT_LT(j2->ByteSizeLong() * 5, j1->ByteSizeLong());

  // A worker that no longer has them refuses: not charged, and sent again whole.
  answer(*j2, bus::pb::Result::REFUSED, "shared input text is not kept here");
  auto j3 = next_job();
  ASSERT_TRUE(j3.has_value());
  EXPECT_EQ(j3->job_id(), j2->job_id());
  EXPECT_EQ(j3->attempt(), j2->attempt() + 1);
  for (const auto& m : j3->shared()) EXPECT_FALSE(m.text().empty()) << m.name() << ": sent again";
  EXPECT_EQ(assemble(*j3)["proposal"]["id"], p2);
  answer(*j3, bus::pb::Result::OK, "");
  EXPECT_TRUE(Eventually([&] { return CheckIs(admin, p2, "passed"); })) << Job(admin, p2).dump();
  EXPECT_EQ(Job(admin, p2).value("failures", -1), 0) << "a refusal is not the job's fault";
}

TEST_F(ExternalWorkersTest, OverTcpCurveZmqLetsAllowedWorkersInAndRefusesOthers) {
  ASSERT_TRUE(bus::WriteKeyPair(dir_ + "/server", *bus::GenerateKeyPair()).ok());
  ASSERT_TRUE(bus::WriteKeyPair(dir_ + "/good", *bus::GenerateKeyPair()).ok());
  ASSERT_TRUE(bus::WriteKeyPair(dir_ + "/bad", *bus::GenerateKeyPair()).ok());
  fs::copy_file(dir_ + "/good.pub", dir_ + "/allowed.txt");
  ServerProcess server(BusArgs({"--bus.endpoint", "tcp://127.0.0.1:0", "--bus.curve-key", dir_ + "/server.key",
                                "--bus.allowed-keys", dir_ + "/allowed.txt"}));
  ASSERT_TRUE(server.Start()) << server.output();
  endpoint_ = BusEndpointOf(server);
  ASSERT_EQ(endpoint_.rfind("tcp://127.0.0.1:", 0), 0u) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  auto bad = Worker({"--key", dir_ + "/bad.key", "--server-key", dir_ + "/server.pub"});
  auto none = Worker();  // no CurveZMQ at all
  auto good = Worker({"--key", dir_ + "/good.key", "--server-key", dir_ + "/server.pub"});
  ASSERT_TRUE(Eventually([&] { return Workers(admin)["items"].size() == 1; })) << server.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_EQ(Workers(admin)["items"].size(), 1u);
  const int64_t p = Propose(admin, "ok");
  EXPECT_TRUE(Eventually([&] { return CheckIs(admin, p, "passed"); }));
  EXPECT_TRUE(Eventually([&] { return server.output().find("not in the allow-list") != std::string::npos; }))
      << server.output();
}

TEST_F(ExternalWorkersTest, APluginThatExceedsTheMemoryLimitFailsItsJobNotTheWorker) {
  if (kSanitizerBuild) GTEST_SKIP() << "the worker ignores its memory limit under the sanitizers (their shadow memory)";
  ServerProcess server(BusArgs({"--bus.endpoint", endpoint_}));
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  auto w = Worker({"--memory-limit-mb", "512"});
  const int64_t greedy = Propose(admin, "alloc:2048");
  ASSERT_TRUE(Eventually([&] { return CheckIs(admin, greedy, "error"); })) << Check(admin, greedy).dump() << w->output();
  EXPECT_NE(Check(admin, greedy).value("summary", "").find("bad_alloc"), std::string::npos) << Check(admin, greedy).dump();
  const int64_t modest = Propose(admin, "alloc:16");
  EXPECT_TRUE(Eventually([&] { return CheckIs(admin, modest, "passed"); })) << Check(admin, modest).dump();
  EXPECT_TRUE(w->running());
}

TEST_F(ExternalWorkersTest, AWorkerWrittenInPythonFromTheSpecRunsChecks) {
  ServerProcess server(BusArgs({"--bus.endpoint", endpoint_, "--jobs.checks", "title-style"}));
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  WorkerProcess py("/usr/bin/python3", {NB_PYTHON_WORKER, "--connect", endpoint_},
                   {std::string("PYTHONPATH=") + NB_PYTHON_PROTO_DIR});
  ASSERT_TRUE(py.Start());
  json shouting = NewAgreement(UniqueName("shouting"));
  shouting["title"] = "A TREATY IN CAPITALS";
  auto r = admin.Post("/api/v1/proposals", json{{"kind", "add"}, {"agreement", shouting}, {"rationale", "test"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t p = r.json()["id"];
  json check;
  ASSERT_TRUE(Eventually([&] {
    const json got = admin.Get("/api/v1/proposals/" + std::to_string(p)).json();
    for (const auto& c : got["checks"])
      if (c["plugin"] == "title-style" && c["status"] == "failed") check = c;
    return !check.is_null();
  })) << py.output() << server.output();
  EXPECT_EQ(check["findings"][0]["field"], "title");
  EXPECT_EQ(Workers(admin)["items"][0]["software"], "python-example 1.0");
}

TEST(BusConfig, ANonLoopbackBusWithoutCurveZmqIsRefusedAtStart) {
  ServerProcess server({"--bus.endpoint", "tcp://0.0.0.0:0"});
  EXPECT_FALSE(server.Start());
  EXPECT_NE(server.output().find("requires CurveZMQ"), std::string::npos) << server.output();
}

// The real worker against a core scripted here: it announces "shared-input",
// runs a job whose input it assembles from texts sent with it or before, and
// refuses (rather than runs) a job naming a text it was never sent or a
// member name that is not [a-z_]+.
TEST(WorkerBinary, SharedInputIsAssembledAndAnUnknownTextIsRefusedNotRun) {
  const std::string dir = TempDir("nb-fake-core");
  const std::string endpoint = "ipc://" + dir + "/core.sock";
  zmq::context_t ctx;
  zmq::socket_t core(ctx, zmq::socket_type::router);
  core.set(zmq::sockopt::linger, 0);
  core.set(zmq::sockopt::rcvtimeo, 10000);
  core.bind(endpoint);
  WorkerProcess worker({"--connect", endpoint, "--plugins", NB_TEST_PLUGIN_DIR, "--plugin", "fault",
                        "--capacity", "1"});
  ASSERT_TRUE(worker.Start());
  zmq::message_t who, msg;
  ASSERT_TRUE(core.recv(who) && core.recv(msg)) << worker.output();
  auto hello = bus::Decode(msg.data(), msg.size());
  ASSERT_TRUE(hello.ok() && hello->has_hello());
  const auto& features = hello->hello().features();
  EXPECT_NE(std::find(features.begin(), features.end(), "shared-input"), features.end());
  const std::string identity = who.to_string();
  auto send = [&](const bus::pb::Envelope& env) {
    core.send(zmq::buffer(identity), zmq::send_flags::sndmore);
    core.send(zmq::buffer(bus::Encode(env)));
  };
  bus::pb::Envelope welcome;
  welcome.mutable_welcome()->set_heartbeat_interval_ms(1000);
  welcome.mutable_welcome()->set_heartbeat_expiry_ms(10000);
  send(welcome);
  auto result_of = [&](const std::string& job_id) -> std::optional<bus::pb::Result> {
    for (int i = 0; i < 50; ++i) {
      zmq::message_t from, m;
      if (!core.recv(from) || !core.recv(m)) return std::nullopt;
      auto env = bus::Decode(m.data(), m.size());
      if (env.ok() && env->has_result() && env->result().job_id() == job_id) return env->result();
    }
    return std::nullopt;
  };
  auto job = [&](const std::string& id, std::vector<std::array<std::string, 3>> shared) {
    bus::pb::Envelope env;
    auto* j = env.mutable_job();
    j->set_job_id(id);
    j->set_plugin("fault");
    j->set_attempt(1);
    j->set_timeout_ms(5000);
    j->set_input(R"({"job":{"id":")" + id + R"("},"proposal":{"rationale":"ok"}})");
    for (const auto& [name, text_id, text] : shared) {
      auto* m = j->add_shared();
      m->set_name(name);
      m->set_id(text_id);
      m->set_text(text);
    }
    send(env);
    return result_of(id);
  };
  const std::string dataset = R"({"revision":1,"agreements":[]})";
  auto r1 = job("j1", {{"dataset", "d1", dataset}, {"codebook", "c1", "{}"}});
  ASSERT_TRUE(r1.has_value()) << worker.output();
  EXPECT_EQ(r1->status(), bus::pb::Result::OK) << r1->message();
  auto r2 = job("j2", {{"dataset", "d1", ""}, {"codebook", "c1", ""}});  // kept from j1
  ASSERT_TRUE(r2.has_value()) << worker.output();
  EXPECT_EQ(r2->status(), bus::pb::Result::OK) << r2->message();
  auto r3 = job("j3", {{"dataset", "never-sent", ""}});
  ASSERT_TRUE(r3.has_value()) << worker.output();
  EXPECT_EQ(r3->status(), bus::pb::Result::REFUSED);
  EXPECT_NE(r3->message().find("not kept here"), std::string::npos) << r3->message();
  // A job that refers to the oldest kept text and brings a new one, with the
  // worker's 8 slots full: the new text must not take the referred one away
  // (a use after free under ASan before the texts were held by shared_ptr).
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(
        job("fill" + std::to_string(i), {{"filler", "x" + std::to_string(i), "{}"}}).has_value());
  auto r5 = job("j5", {{"dataset", "d1", ""}, {"codebook", "c2", "{}"}});
  ASSERT_TRUE(r5.has_value()) << worker.output();
  EXPECT_EQ(r5->status(), bus::pb::Result::OK) << r5->message();
  auto r4 = job("j4", {{"Data\"set", "d1", ""}});
  ASSERT_TRUE(r4.has_value()) << worker.output();
  EXPECT_EQ(r4->status(), bus::pb::Result::REFUSED);
  EXPECT_NE(r4->message().find("is not [a-z_]{1,32}"), std::string::npos) << r4->message();
  worker.Kill();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(WorkerBinary, APluginBuiltForAnotherAbiIsRefusedWithAClearMessage) {
  auto [code, out] = RunWorkerBinary({"plugins", "--plugins", NB_TEST_BAD_PLUGIN_DIR});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("was built for plugin ABI version 99 but this worker loads version 1"), std::string::npos) << out;
  // With nothing else to run, the worker refuses to start.
  auto [code2, out2] = RunWorkerBinary({"--plugins", NB_TEST_BAD_PLUGIN_DIR, "--connect", "ipc:///tmp/nb-nowhere"});
  EXPECT_EQ(code2, 2) << out2;
  EXPECT_NE(out2.find("no usable plugin"), std::string::npos) << out2;
}

TEST(WorkerBinary, KeygenWritesAPrivateKeyPair) {
  const std::string dir = TempDir("nb-keygen");
  auto [code, out] = RunWorkerBinary({"keygen", dir + "/w"});
  ASSERT_EQ(code, 0) << out;
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/w.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(bus::ReadKeyPair(dir + "/w.key").ok());
  auto again = RunWorkerBinary({"keygen", dir + "/w"});
  EXPECT_NE(again.first, 0);  // never overwrites a key
  fs::remove_all(dir);
}

}  // namespace
}  // namespace normbase::testing
