// Durability and operations: what was acknowledged survives SIGTERM and
// SIGKILL, the bootstrap token file is private and written once, and the
// `normbase-server admin` commands work on a stopped data directory and say
// clearly why they cannot while the server runs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The JSON document in a command's output (which may also hold log lines).
json JsonIn(const std::string& out) {
  const size_t start = out.find_first_of("{[");
  if (start == std::string::npos) return json();
  return json::parse(out.substr(start), nullptr, false);
}

json AllEvents(HttpClient& c) {
  json all = json::array();
  uint64_t since = 0;
  for (int guard = 0; guard < 100; ++guard) {
    auto r = c.Get("/api/v1/events?limit=1000&since=" + std::to_string(since));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.json()["items"].empty()) break;
    for (const json page = r.json(); const auto& e : page["items"]) all.push_back(e);
    since = r.json()["next_since"];
  }
  return all;
}

json CreateRetireProposal(HttpClient& c, const std::string& agreement_id,
                          const std::string& rationale) {
  const json a = c.Get("/api/v1/agreements/" + agreement_id).json();
  auto r = c.Post("/api/v1/proposals", json{{"kind", "retire"},
                                            {"agreement_id", agreement_id},
                                            {"base_revision", a["revision"]},
                                            {"rationale", rationale}});
  EXPECT_TRUE(IsStatus(r, 201));
  return r.json();
}

TEST(RestartTest, SigtermThenRestartKeepsEverything) {
  ServerProcess server;
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin(server.base_url());
  admin.set_token(server.admin_token());
  const TestUser user = CreateUser(admin, "contributor", "academia", "restart");
  HttpClient contributor(server.base_url());
  contributor.set_token(user.token);
  const json proposal = CreateRetireProposal(contributor, kTechAccord, "written before SIGTERM");
  const int64_t id = proposal["id"];
  ASSERT_TRUE(IsStatus(contributor.Post("/api/v1/proposals/" + std::to_string(id) + "/comments",
                                        json{{"text", "and a comment"}}),
                       201));
  const json before_proposal = admin.Get("/api/v1/proposals/" + std::to_string(id)).json();
  const json before_events = AllEvents(admin);
  const json before_health = [&] {
    json h = admin.Get("/healthz").json();
    h.erase("uptime_seconds");
    return h;
  }();

  EXPECT_EQ(server.Stop(), 0) << "a clean shutdown exits 0\n" << server.output();
  EXPECT_FALSE(server.running());
  EXPECT_EQ(HttpClient(server.base_url()).Get("/healthz").status, 0) << "nothing listens any more";

  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin2(server.base_url());
  admin2.set_token(server.admin_token());
  auto r = admin2.Get("/api/v1/proposals/" + std::to_string(id));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json(), before_proposal);
  EXPECT_EQ(r.json()["revisions"][0]["rationale"], "written before SIGTERM");
  EXPECT_EQ(r.json()["comments"][0]["text"], "and a comment");
  EXPECT_EQ(AllEvents(admin2), before_events);
  json health = admin2.Get("/healthz").json();
  health.erase("uptime_seconds");
  EXPECT_EQ(health, before_health);

  // Tokens issued before still work; ids and sequence numbers continue.
  HttpClient contributor2(server.base_url());
  contributor2.set_token(user.token);
  EXPECT_EQ(contributor2.Get("/api/v1/whoami").json()["name"], user.name);
  const uint64_t seq = LastSeq(admin2);
  const json next = CreateRetireProposal(contributor2, "sadc-model-laws", "after the restart");
  EXPECT_EQ(next["id"], id + 1);
  r = admin2.Get("/api/v1/events?since=" + std::to_string(seq));
  ASSERT_EQ(WorkflowEvents(r.json()["items"]).size(), 1u);
  EXPECT_EQ(r.json()["items"][0]["seq"], seq + 1);
  EXPECT_EQ(server.Stop(), 0);
}

TEST(RestartTest, SigkillRightAfter201KeepsTheAcknowledgedWrites) {
  ServerProcess server;
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin(server.base_url());
  admin.set_token(server.admin_token());
  const uint64_t seq = LastSeq(admin);
  std::vector<int64_t> ids;
  for (const char* id : {"un-gge-2010", "un-gge-2013", "un-gge-2021"}) {
    ids.push_back(CreateRetireProposal(admin, id, std::string("acknowledged: ") + id)["id"]);
  }
  // The last 201 has arrived: crash now, with no chance to flush anything.
  server.Kill();
  ASSERT_FALSE(server.running());

  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient again(server.base_url());
  again.set_token(server.admin_token());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto r = again.Get("/api/v1/proposals/" + std::to_string(ids[i]));
    ASSERT_TRUE(IsStatus(r, 200)) << "proposal " << ids[i] << " was lost";
    EXPECT_EQ(r.json()["status"], "open");
    EXPECT_EQ(r.json()["kind"], "retire");
  }
  auto r = again.Get("/api/v1/events?since=" + std::to_string(seq));
  ASSERT_TRUE(IsStatus(r, 200));
  // Every event since, gap-free: each proposal with the checks it queued.
  const json all = r.json()["items"];
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i]["seq"], seq + 1 + i);
  EXPECT_EQ(r.json()["last_seq"], seq + all.size());
  const json events = WorkflowEvents(all);
  ASSERT_EQ(events.size(), ids.size()) << r.body;
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(events[i]["type"], "proposal.created");
    EXPECT_EQ(events[i]["subjects"]["proposal"], std::to_string(ids[i]));
  }
}

TEST(RestartTest, SigkillAfterAMergeKeepsTheNewDatasetRevision) {
  // Approvals policy lowered to 1 from 1 group so that a merge is quick to reach.
  ServerProcess server({"--policy.approvals", "1", "--policy.distinct_groups", "1"});
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin(server.base_url());
  admin.set_token(server.admin_token());
  const TestUser reviewer = CreateUser(admin, "moderator", "government", "merger");
  HttpClient mod(server.base_url());
  mod.set_token(reviewer.token);
  const json a = admin.Get(std::string("/api/v1/agreements/") + kTechAccord).json();
  auto p = admin.Post("/api/v1/proposals", RecodeBody(a, "vulnerability-disclosure"));
  ASSERT_TRUE(IsStatus(p, 201));
  const std::string path = "/api/v1/proposals/" + std::to_string(p.json()["id"].get<int64_t>());
  ASSERT_TRUE(IsStatus(mod.Post(path + "/reviews", json{{"verdict", "approve"}}), 201));
  auto merged = mod.Post(path + "/merge", json::object());
  ASSERT_TRUE(IsStatus(merged, 200));
  const json after = admin.Get(std::string("/api/v1/agreements/") + kTechAccord).json();
  server.Kill();

  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient again(server.base_url());
  EXPECT_EQ(again.Get(std::string("/api/v1/agreements/") + kTechAccord).json(), after);
  EXPECT_EQ(again.Get("/healthz").json()["dataset_revision"], 2);
  EXPECT_EQ(again.Get(path).json()["status"], "merged");
  EXPECT_EQ(again.Get(std::string("/api/v1/agreements/") + kTechAccord + "/history")
                .json()["versions"]
                .size(),
            2u);
}

TEST(RestartTest, BootstrapTokenFileIsPrivateAndWrittenOnce) {
  ServerProcess server;
  ASSERT_TRUE(server.Start()) << server.output();
  const std::string path = server.data_dir() + "/bootstrap-admin.token";
  struct stat first {};
  ASSERT_EQ(::stat(path.c_str(), &first), 0);
  EXPECT_EQ(first.st_mode & 0777, 0600u) << std::oct << (first.st_mode & 0777);
  struct stat dir {};
  ASSERT_EQ(::stat(server.data_dir().c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0077, 0u) << "the data directory is private too";
  const std::string content = ReadFile(path);
  const std::string token = server.admin_token();
  EXPECT_EQ(content, token + "\n");
  EXPECT_EQ(token.rfind("nb_", 0), 0u);
  EXPECT_EQ(token.size(), 3u + 43u);
  EXPECT_TRUE(IsStatus(ClientFor(server, token).Get("/api/v1/whoami"), 200));

  ASSERT_EQ(server.Stop(), 0);
  ASSERT_TRUE(server.Start()) << server.output();
  struct stat second {};
  ASSERT_EQ(::stat(path.c_str(), &second), 0);
  EXPECT_EQ(second.st_ino, first.st_ino) << "the file was replaced";
  EXPECT_EQ(second.st_mtim.tv_sec, first.st_mtim.tv_sec);
  EXPECT_EQ(second.st_mtim.tv_nsec, first.st_mtim.tv_nsec);
  EXPECT_EQ(second.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFile(path), content);
  EXPECT_EQ(server.admin_token(), token);
  auto r = ClientFor(server, token).Get("/api/v1/whoami");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["name"], "admin");
  // Only one admin user and one token exist: the second start bootstrapped nothing.
  HttpClient admin = ClientFor(server, token);
  EXPECT_EQ(admin.Get("/api/v1/users").json()["items"].size(), 1u);
  EXPECT_EQ(admin.Get("/api/v1/users/1/tokens").json()["items"].size(), 1u);
}

TEST(RestartTest, AdminCommandsWorkOnAStoppedDataDirOnly) {
  ServerProcess server;
  ASSERT_TRUE(server.Start()) << server.output();
  const std::string dir = server.data_dir();

  // While the server runs, RocksDB's lock keeps the CLI out, with a clear message.
  auto [code, out] = ServerProcess::RunBinary({"admin", "list-users", "--data", dir});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("in use by another process"), std::string::npos) << out;
  EXPECT_NE(out.find(dir + "/db"), std::string::npos) << out;
  // And a second server on the same data refuses to start, saying why.
  std::tie(code, out) =
      ServerProcess::RunBinary({"--data", dir, "--listen", "127.0.0.1:0", "--log-level", "warn"});
  EXPECT_NE(code, 0) << out;
  EXPECT_NE(out.find("in use by another process"), std::string::npos) << out;
  EXPECT_TRUE(IsStatus(ClientFor(server).Get("/healthz"), 200)) << "the first server is unharmed";

  ASSERT_EQ(server.Stop(), 0);
  std::tie(code, out) = ServerProcess::RunBinary({"admin", "list-users", "--data", dir});
  ASSERT_EQ(code, 0) << out;
  json users = JsonIn(out);
  ASSERT_TRUE(users.is_object()) << out;
  ASSERT_EQ(users["items"].size(), 1u);
  EXPECT_EQ(users["items"][0]["name"], "admin");

  // The operator creates a moderator and a token for them offline ...
  std::tie(code, out) =
      ServerProcess::RunBinary({"admin", "create-user", "--name", "ops", "--role", "moderator",
                                "--group", "technical-community", "--data", dir});
  ASSERT_EQ(code, 0) << out;
  const json created = JsonIn(out);
  ASSERT_TRUE(created.contains("id")) << out;
  std::tie(code, out) = ServerProcess::RunBinary({"admin", "issue-token", "--user",
                                                  std::to_string(created["id"].get<int64_t>()),
                                                  "--label", "offline", "--data", dir});
  ASSERT_EQ(code, 0) << out;
  const std::string token = JsonIn(out).value("token", std::string());
  ASSERT_FALSE(token.empty()) << out;
  // ... refuses nonsense with a message ...
  std::tie(code, out) = ServerProcess::RunBinary(
      {"admin", "create-user", "--name", "ops", "--data", dir, "--group", "academia"});
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("exists already"), std::string::npos) << out;
  // ... and the server sees it all after a restart.
  ASSERT_TRUE(server.Start()) << server.output();
  auto r = ClientFor(server, token).Get("/api/v1/whoami");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["name"], "ops");
  EXPECT_EQ(r.json()["role"], "moderator");
}

TEST(RestartTest, AdminCommandsOnAMissingDataDirFailAndCreateNothing) {
  // A path that does not exist, in a scratch directory of this test (the
  // ServerProcess removes it afterwards; the server is never started).
  ServerProcess scratch;
  ASSERT_FALSE(scratch.data_dir().empty());
  const std::string missing = scratch.data_dir() + "/nonexistent";
  for (const std::string& dir : {missing, missing + "/nested"}) {
    auto [code, out] = ServerProcess::RunBinary({"admin", "list-users", "--data", dir});
    EXPECT_EQ(code, 1) << out;
    EXPECT_NE(out.find("normbase-server admin: " + dir + " holds no Normbase data"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("start the server on it once first"), std::string::npos) << out;
    EXPECT_FALSE(std::filesystem::exists(dir)) << "a typo in --data created " << dir;
  }
  // The other commands refuse the same way and do not create it either.
  auto [code, out] = ServerProcess::RunBinary(
      {"admin", "create-user", "--name", "ops", "--group", "academia", "--data", missing});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("holds no Normbase data"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(missing));
  EXPECT_TRUE(std::filesystem::is_empty(scratch.data_dir()));
}

}  // namespace
}  // namespace normbase::testing
