// Many reviewers and moderators racing on the same proposals over real HTTP;
// afterwards the invariants the review workflow promises must hold.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

TEST(ReviewConcurrency, RacingVotesAndMergesKeepEveryInvariant) {
  ServerProcess server({"--threads", "4"});
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());

  const std::vector<std::string> groups = {"government", "civil-society", "academia",
                                           "private-sector", "technical-community"};
  std::vector<TestUser> reviewers, moderators;
  for (size_t i = 0; i < groups.size(); ++i) {
    reviewers.push_back(CreateUser(admin, "contributor", groups[i], "rev"));
    moderators.push_back(CreateUser(admin, "moderator", groups[(i + 1) % groups.size()], "mod"));
  }
  TestUser author = CreateUser(admin, "contributor", "government", "author");
  HttpClient a = ClientFor(server, author.token);

  // Three agreements, four competing recodes of each, all on the same base.
  const std::vector<std::string> agreements = {"paris-call-2018", "budapest-convention",
                                               "cybersecurity-tech-accord-2018"};
  std::vector<std::string> proposals;
  std::map<std::string, std::string> agreement_of;
  for (const auto& id : agreements) {
    auto cur = a.Get("/api/v1/agreements/" + id);
    ASSERT_EQ(cur.status, 200) << id << cur.body;
    for (int k = 0; k < 4; ++k) {
      auto r = a.Post("/api/v1/proposals",
                      RecodeBody(cur.json(), k % 2 ? "capacity-building" : "ransomware",
                                 "competing recode " + std::to_string(k)));
      ASSERT_EQ(r.status, 201) << r.body;
      const std::string pid = std::to_string(r.json()["id"].get<int64_t>());
      proposals.push_back(pid);
      agreement_of[pid] = id;
    }
  }
  const uint64_t seq_before = LastSeq(admin);

  std::atomic<int> merged_ok{0}, merge_conflicts{0}, unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      HttpClient rev = ClientFor(server, reviewers[t % reviewers.size()].token);
      HttpClient mod = ClientFor(server, moderators[t % moderators.size()].token);
      for (int i = 0; i < 60; ++i) {
        const std::string& pid = proposals[rng() % proposals.size()];
        if (rng() % 3) {
          auto r = rev.Post("/api/v1/proposals/" + pid + "/reviews", json{{"verdict", "approve"}});
          if (r.status != 201 && r.status != 409) ++unexpected;
        } else {
          auto r = mod.Post("/api/v1/proposals/" + pid + "/merge", json::object());
          if (r.status == 200)
            ++merged_ok;
          else if (r.status == 409)
            ++merge_conflicts;
          else
            ++unexpected;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(merged_ok.load(), 0) << "the race should let some merges through";

  // Each proposal merged at most once; at most one merge per agreement, since
  // the first merge makes its competitors conflicted.
  std::map<std::string, int> merges_per_agreement;
  std::set<int64_t> merged_revisions;
  int merged = 0;
  for (const auto& pid : proposals) {
    const json p = admin.Get("/api/v1/proposals/" + pid).json();
    if (p["status"] == "merged") {
      ++merged;
      ++merges_per_agreement[agreement_of[pid]];
      EXPECT_TRUE(merged_revisions.insert(p["merged_dataset_revision"].get<int64_t>()).second);
    } else {
      EXPECT_TRUE(p["status"] == "open" || p["status"] == "conflicted" || p["status"] == "approved")
          << p["status"];
    }
  }
  EXPECT_EQ(merged, merged_ok.load()) << "every 200 is exactly one merge";
  for (const auto& [id, n] : merges_per_agreement) EXPECT_EQ(n, 1) << id;

  // Dataset revisions are contiguous and each is recorded.
  const int64_t current = admin.Get("/healthz").json()["dataset_revision"].get<int64_t>();
  EXPECT_EQ(current, 1 + merged);
  for (int64_t r = 1; r <= current; ++r)
    EXPECT_EQ(admin.Get("/api/v1/dataset/revisions/" + std::to_string(r)).status, 200) << r;

  // Each agreement's history has every revision from 1 to its current one.
  for (const auto& id : agreements) {
    const json h = admin.Get("/api/v1/agreements/" + id + "/history").json();
    const int64_t rev = admin.Get("/api/v1/agreements/" + id).json()["revision"].get<int64_t>();
    ASSERT_EQ(static_cast<int64_t>(h["versions"].size()), rev) << id;
    for (size_t i = 0; i < h["versions"].size(); ++i)
      EXPECT_EQ(h["versions"][i]["agreement_revision"].get<int64_t>(), rev - static_cast<int64_t>(i));
  }

  // The event log has no gap, and one proposal.merged per merge.
  uint64_t since = 0, expect = 1;
  int merged_events = 0;
  for (;;) {
    const json page = admin.Get("/api/v1/events?limit=1000&since=" + std::to_string(since)).json();
    if (page["items"].empty()) break;
    for (const auto& e : page["items"]) {
      EXPECT_EQ(e["seq"].get<uint64_t>(), expect++) << "gap or reorder in the event log";
      if (e["type"] == "proposal.merged" && e["seq"].get<uint64_t>() > seq_before) ++merged_events;
    }
    since = page["next_since"].get<uint64_t>();
  }
  EXPECT_EQ(merged_events, merged);
}

}  // namespace
}  // namespace normbase::testing
