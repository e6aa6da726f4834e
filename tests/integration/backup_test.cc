// Backups and restores with the real binary: `normbase-server backup` while
// a server runs on the data directory and a client keeps writing through the
// API (the running server makes it, over its admin socket), and on a stopped
// data directory; `normbase-server restore` into a new folder, a server
// started on it, and the restored state compared with the source: every write
// acknowledged before the backup began is there, the event log is the
// source's up to the backup's seq with no gap, and the dataset and proposals
// are the source's at that seq. And every refusal says why and changes nothing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

namespace fs = std::filesystem;

// A fresh folder under the temp dir, removed at the end of the test.
class TempFolder {
 public:
  TempFolder() {
    std::string tmpl = (fs::temp_directory_path() / "normbase-bk-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempFolder() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

json JsonIn(const std::string& out) {
  const size_t start = out.find('{');
  if (start == std::string::npos) return json();
  return json::parse(out.substr(start), nullptr, false);
}

// The whole event log as a moderator sees it (account events included).
json AllEvents(HttpClient& c) {
  json all = json::array();
  uint64_t since = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    auto r = c.Get("/api/v1/events?limit=1000&since=" + std::to_string(since));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200 || r.json()["items"].empty()) break;
    for (const json page = r.json(); const auto& e : page["items"]) all.push_back(e);
    since = r.json()["next_since"];
  }
  return all;
}

// What the writer got acknowledged, in order.
struct Acked {
  enum Kind { kProposal, kComment, kImport } kind;
  std::string key;  // proposal id, comment text, agreement id
};

class BackupTest : public ::testing::Test {
 protected:
  static std::pair<int, std::string> Backup(const std::string& data, const std::string& out) {
    return ServerProcess::RunBinary({"backup", "--data", data, out}, 120000);
  }
  static std::pair<int, std::string> Restore(const std::string& backup, const std::string& data) {
    return ServerProcess::RunBinary({"restore", backup, "--data", data}, 120000);
  }
};

TEST_F(BackupTest, OnlineBackupUnderWriteLoadRestoresEveryAcknowledgedWrite) {
  ServerProcess source;
  ASSERT_TRUE(source.Start()) << source.output();
  HttpClient admin = ClientFor(source, source.admin_token());
  const TestUser writer = CreateUser(admin, "contributor", "academia", "bk-writer");
  HttpClient w0 = ClientFor(source, writer.token);
  auto first = w0.Post("/api/v1/proposals", json{{"kind", "add"},
                                                 {"agreement", NewAgreement("bk-commented")},
                                                 {"rationale", "commented on"}});
  ASSERT_TRUE(IsStatus(first, 201));
  const std::string commented = std::to_string(first.json()["id"].get<int64_t>());

  // The load: proposals, comments and imports (each import is a dataset revision).
  std::mutex mu;
  std::vector<Acked> acked;  // GUARDED_BY(mu)
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread load([&] {
    HttpClient w = ClientFor(source, writer.token);
    HttpClient a = ClientFor(source, source.admin_token());
    for (int i = 0; !stop; ++i) {
      Acked done{Acked::kComment, ""};
      HttpResult r;
      if (i % 7 == 3) {
        done = {Acked::kImport, "bk-import-" + std::to_string(i)};
        r = a.Post("/api/v1/import", json{{"agreements", {NewAgreement(done.key, 2020)}}});
      } else if (i % 2 == 0) {
        r = w.Post("/api/v1/proposals",
                   json{{"kind", "add"},
                        {"agreement", NewAgreement("bk-load-" + std::to_string(i))},
                        {"rationale", "load " + std::to_string(i)}});
        if (r.status == 201)
          done = {Acked::kProposal, std::to_string(r.json()["id"].get<int64_t>())};
      } else {
        done = {Acked::kComment, "comment under load " + std::to_string(i)};
        r = w.Post("/api/v1/proposals/" + commented + "/comments", json{{"text", done.key}});
      }
      if (r.status != 200 && r.status != 201) {
        ++failures;
        continue;
      }
      std::lock_guard lk(mu);
      acked.push_back(done);
    }
  });
  auto acked_count = [&] {
    std::lock_guard lk(mu);
    return acked.size();
  };
  while (acked_count() < 40) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  TempFolder where;
  const std::string out = where.path() + "/backup-1";
  const size_t before = acked_count();  // acknowledged before the backup began
  auto [code, output] = Backup(source.data_dir(), out);
  const size_t after = acked_count();
  // Keep writing a little after the backup: those writes must not be in it.
  while (acked_count() < after + 10) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  load.join();
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(failures, 0);
  const json made = JsonIn(output);
  EXPECT_EQ(made["made_by"], "the running server") << output;
  const uint64_t seq = made["event_seq"].get<uint64_t>();
  EXPECT_GT(seq, 0u);
  std::cout << "[ backup ] " << before << " writes acknowledged before, " << after - before
            << " during the backup; backup at event " << seq << "\n";

  // The folder is complete and alone: no partial sibling is left.
  EXPECT_TRUE(fs::exists(out + "/normbase-backup.json"));
  EXPECT_TRUE(fs::exists(out + "/db/CURRENT"));
  for (const auto& e : fs::directory_iterator(where.path()))
    EXPECT_EQ(e.path().filename(), "backup-1") << "left over: " << e.path();

  ServerProcess restored;
  auto [rcode, rout] = Restore(out, restored.data_dir());
  ASSERT_EQ(rcode, 0) << rout;
  ASSERT_TRUE(restored.Start()) << restored.output();
  // Tokens are stored hashed in the data: the source's admin token works here too.
  HttpClient radmin = ClientFor(restored, source.admin_token());

  // 1. Every write acknowledged before the backup began is there.
  std::vector<Acked> snapshot;
  {
    std::lock_guard lk(mu);
    snapshot = acked;
  }
  const json rcomments = radmin.Get("/api/v1/proposals/" + commented).json()["comments"];
  std::set<std::string> comment_texts;
  for (const auto& c : rcomments) comment_texts.insert(c["text"].get<std::string>());
  for (size_t i = 0; i < before; ++i) {
    const Acked& a = snapshot[i];
    if (a.kind == Acked::kProposal)
      EXPECT_TRUE(IsStatus(radmin.Get("/api/v1/proposals/" + a.key), 200)) << "proposal " << a.key;
    else if (a.kind == Acked::kImport)
      EXPECT_TRUE(IsStatus(radmin.Get("/api/v1/agreements/" + a.key), 200)) << "import " << a.key;
    else
      EXPECT_TRUE(comment_texts.count(a.key)) << "comment '" << a.key << "' is missing";
  }

  // 2. The event log is the source's, exactly, up to the backup's seq, gap-free.
  const json revents = AllEvents(radmin);
  const json sevents = AllEvents(admin);
  ASSERT_EQ(revents.size(), seq);
  ASSERT_GT(sevents.size(), seq) << "the writes after the backup are in the source";
  for (size_t i = 0; i < revents.size(); ++i) {
    ASSERT_EQ(revents[i]["seq"].get<uint64_t>(), i + 1) << "gap or disorder at " << i;
    ASSERT_EQ(revents[i], sevents[i]) << "event " << i + 1 << " differs";
  }
  EXPECT_EQ(LastSeq(radmin), seq);

  // 3. The dataset is the source's at the restored dataset revision.
  const json rhealth = radmin.Get("/healthz").json();
  const int64_t rev = rhealth["dataset_revision"].get<int64_t>();
  EXPECT_GT(rev, 1) << "imports before the backup made dataset revisions";
  EXPECT_EQ(AllAgreements(radmin), AllAgreements(admin, "&revision=" + std::to_string(rev)));
  EXPECT_LT(rev, admin.Get("/healthz").json()["dataset_revision"].get<int64_t>())
      << "imports after the backup are not in it";

  // 4. Proposals: exactly those created up to the seq; each unchanged since is
  // identical, and the commented one has exactly the comments up to the seq.
  std::set<std::string> created_before;
  size_t comments_before = 0;
  for (size_t i = 0; i < seq; ++i) {
    if (sevents[i]["type"] == "proposal.created")
      created_before.insert(sevents[i]["subjects"]["proposal"].get<std::string>());
    if (sevents[i]["type"] == "comment.added") ++comments_before;
  }
  std::set<std::string> restored_ids;
  auto list = radmin.Get("/api/v1/proposals?limit=500");
  ASSERT_EQ(list.status, 200);
  for (const json page = list.json(); const auto& p : page["items"])
    restored_ids.insert(std::to_string(p["id"].get<int64_t>()));
  EXPECT_EQ(restored_ids, created_before);
  EXPECT_EQ(rcomments.size(), comments_before);
  for (const auto& id : restored_ids) {
    if (id == commented) continue;
    EXPECT_EQ(radmin.Get("/api/v1/proposals/" + id).json(),
              admin.Get("/api/v1/proposals/" + id).json())
        << "proposal " << id;
  }

  // The restored server takes writes, continuing the log without a gap.
  HttpClient rw = ClientFor(restored, writer.token);
  EXPECT_TRUE(IsStatus(
      rw.Post("/api/v1/proposals/" + commented + "/comments", json{{"text", "after restore"}}),
      201));
  EXPECT_EQ(LastSeq(radmin), seq + 1);
}

TEST_F(BackupTest, StoppedDataDirIsBackedUpByTheCommandItself) {
  ServerProcess source;
  ASSERT_TRUE(source.Start()) << source.output();
  HttpClient admin = ClientFor(source, source.admin_token());
  CreateUser(admin, "moderator", "government", "bk-offline");
  const json events = AllEvents(admin);
  ASSERT_EQ(source.Stop(), 0);
  EXPECT_FALSE(fs::exists(source.data_dir() + "/admin.sock")) << "a clean stop removes the socket";

  TempFolder where;
  const std::string out = where.path() + "/offline";
  auto [code, output] = Backup(source.data_dir(), out);
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(JsonIn(output)["event_seq"], events.size()) << output;
  EXPECT_NE(output.find("no server was running"), std::string::npos) << output;

  ServerProcess restored;
  auto [rcode, rout] = Restore(out, restored.data_dir());
  ASSERT_EQ(rcode, 0) << rout;
  ASSERT_TRUE(restored.Start()) << restored.output();
  HttpClient radmin = ClientFor(restored, source.admin_token());
  EXPECT_EQ(AllEvents(radmin), events);
  // The restored directory is private, like any data directory.
  EXPECT_EQ(fs::status(restored.data_dir()).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(BackupTest, RefusalsSayWhyAndChangeNothing) {
  ServerProcess source;
  ASSERT_TRUE(source.Start()) << source.output();
  TempFolder where;
  const std::string data = source.data_dir();

  // An OUT that holds something is never overwritten.
  const std::string full = where.path() + "/full";
  fs::create_directory(full);
  std::ofstream(full + "/precious.txt") << "keep me";
  auto [c1, o1] = Backup(data, full);
  EXPECT_EQ(c1, 1) << o1;
  EXPECT_NE(o1.find("not an empty folder"), std::string::npos) << o1;
  EXPECT_TRUE(fs::exists(full + "/precious.txt"));
  EXPECT_EQ(std::distance(fs::directory_iterator(full), fs::directory_iterator()), 1);

  // A data dir that holds no Normbase data, and an OUT whose parent is missing.
  auto [c2, o2] = Backup(where.path() + "/no-such-data", where.path() + "/b2");
  EXPECT_EQ(c2, 1);
  EXPECT_NE(o2.find("holds no Normbase data"), std::string::npos) << o2;
  auto [c3, o3] = Backup(data, where.path() + "/missing/parent/b3");
  EXPECT_EQ(c3, 1);
  EXPECT_NE(o3.find("does not exist"), std::string::npos) << o3;

  // A good backup, for the restore refusals.
  const std::string good = where.path() + "/good";
  auto [c4, o4] = Backup(data, good);
  ASSERT_EQ(c4, 0) << o4;

  // Restoring over the running server's data dir, or any non-empty folder.
  auto [c5, o5] = Restore(good, data);
  EXPECT_EQ(c5, 1);
  EXPECT_NE(o5.find("a server is running"), std::string::npos) << o5;
  auto [c6, o6] = Restore(good, full);
  EXPECT_EQ(c6, 1);
  EXPECT_NE(o6.find("is not empty"), std::string::npos) << o6;
  EXPECT_TRUE(fs::exists(full + "/precious.txt"));

  // Restoring something that is not a backup, or without --data.
  auto [c7, o7] = Restore(full, where.path() + "/r7");
  EXPECT_EQ(c7, 1);
  EXPECT_NE(o7.find("not a Normbase backup"), std::string::npos) << o7;
  EXPECT_FALSE(fs::exists(where.path() + "/r7"));
  auto [c8, o8] = ServerProcess::RunBinary({"restore", good});
  EXPECT_EQ(c8, 1);
  EXPECT_NE(o8.find("--data NEW_DIR is required"), std::string::npos) << o8;

  // A backup of another on-disk format version is refused, never misread.
  json manifest;
  std::ifstream(good + "/normbase-backup.json") >> manifest;
  manifest["format_version"] = manifest["format_version"].get<int>() + 1;
  std::ofstream(good + "/normbase-backup.json", std::ios::trunc) << manifest.dump();
  auto [c9, o9] = Restore(good, where.path() + "/r9");
  EXPECT_EQ(c9, 1);
  EXPECT_NE(o9.find("format version " + std::to_string(manifest["format_version"].get<int>())),
            std::string::npos)
      << o9;
  EXPECT_NE(o9.find("matching release"), std::string::npos) << o9;
  EXPECT_FALSE(fs::exists(where.path() + "/r9"));
  // Older than the oldest version this release upgrades: refused as well.
  manifest["format_version"] = 0;
  std::ofstream(good + "/normbase-backup.json", std::ios::trunc) << manifest.dump();
  auto [c10, o10] = Restore(good, where.path() + "/r10");
  EXPECT_EQ(c10, 1);
  EXPECT_NE(o10.find("format version 0"), std::string::npos) << o10;
  EXPECT_NE(o10.find("reads versions 1 to "), std::string::npos) << o10;
  EXPECT_FALSE(fs::exists(where.path() + "/r10"));
  // No half-restored folders are left behind.
  for (const auto& e : fs::directory_iterator(where.path()))
    EXPECT_EQ(e.path().filename().string().find(".restoring"), std::string::npos) << e.path();
}

}  // namespace
}  // namespace normbase::testing
