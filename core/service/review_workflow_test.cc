// The review workflow as the services run it: the real store in a temporary
// directory, seeded from data/seed, users created through Accounts, and every
// policy rule seen through Proposals — votes, revisions, per-kind policy,
// merge and its records, conflicts — then many writers at once.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "service/accounts.h"
#include "service/catalog.h"
#include "service/importer.h"
#include "service/proposals.h"
#include "store/records.h"
#include "support/temp_dir.h"

namespace normbase::service {
namespace {

using domain::User;
using Code = Status::Code;

// data/seed, found from this file's place in the repository.
std::filesystem::path SeedDir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "data" /
         "seed";
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << p;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts an asynchronous service call and blocks until its Done runs.
Result<Json> Await(const std::function<void(Done<Json>)>& start) {
  auto promise = std::make_shared<std::promise<Result<Json>>>();
  auto future = promise->get_future();
  start([promise](Result<Json> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
    return Status::Internal("the call did not complete within 30 s");
  return future.get();
}

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// {"element": quote} -> the codings document of a recode.
Json Codings(const std::map<std::string, std::string>& quotes) {
  Json c = Json::object();
  for (const auto& [element, quote] : quotes)
    c[element] = {{"evidence", Json::array({{{"quote", quote}, {"locator", "para 1"}}})},
                  {"note", ""}};
  return c;
}

Json Recode(const std::string& agreement, int64_t base,
            const std::map<std::string, std::string>& quotes,
            const std::string& rationale = "the text says so") {
  return Json{{"kind", "recode"},
              {"agreement_id", agreement},
              {"base_revision", base},
              {"codings", Codings(quotes)},
              {"rationale", rationale}};
}

// The body of a revision: a proposal document without kind and target.
Json RevisionOf(Json proposal) {
  proposal.erase("kind");
  proposal.erase("agreement_id");
  return proposal;
}

// An agreement of the seed without codings, so recodes only add elements.
constexpr char kTarget[] = "un-gge-2010";
constexpr char kOther[] = "un-gge-2013";

class ReviewWorkflowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.path = dir_;
    // These tests check the workflow, not durability (the store test does): no fsync.
    o.sync = false;
    o.clock = [this] { return now_.load(); };
    auto s = store::Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();

    auto seeded = SeedIfEmpty(*store_, codebook_, ReadFile(SeedDir() / "codebook.json"),
                              ReadFile(SeedDir() / "agreements.json"), config_);
    ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
    ASSERT_TRUE(*seeded);
    accounts_ = std::make_unique<Accounts>(*store_, codebook_);
    proposals_ = std::make_unique<Proposals>(*store_, codebook_, config_);
    catalog_ = std::make_unique<Catalog>(*store_, codebook_, config_);

    alice_ = MakeUser("alice", "contributor", "government");  // the author
    bob_ = MakeUser("bob", "contributor", "government");
    gina_ = MakeUser("gina", "contributor", "government");
    carol_ = MakeUser("carol", "contributor", "private-sector");
    dave_ = MakeUser("dave", "contributor", "civil-society");
    mod_ = MakeUser("mod", "moderator", "academia");
  }

  void TearDown() override {
    proposals_.reset();
    store_.reset();
  }

  User MakeUser(const std::string& name, const std::string& role, const std::string& group) {
    auto j = accounts_->CreateUserDirect(
        Json{{"name", name}, {"role", role}, {"stakeholder_group", group}});
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    if (!j.ok()) return User{};
    auto u = domain::UserFromJson(*j);
    EXPECT_TRUE(u.ok());
    return u.ok() ? *u : User{};
  }

  int64_t Propose(const User& actor, const Json& body) {
    auto r = Await([&](Done<Json> d) { proposals_->Create(actor, body, std::move(d)); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)["id"].get<int64_t>() : 0;
  }
  Result<Json> Review(const User& actor, int64_t id, const std::string& verdict,
                      Json extra = Json::object()) {
    extra["verdict"] = verdict;
    return Await([&](Done<Json> d) { proposals_->AddReview(actor, id, extra, std::move(d)); });
  }
  void Approve(const User& actor, int64_t id) {
    auto r = Review(actor, id, "approve");
    ASSERT_TRUE(r.ok()) << actor.name << ": " << r.status().ToString();
  }
  // `body` may be a whole proposal document: a revision keeps the kind and target.
  Result<Json> Revise(const User& actor, int64_t id, const Json& body) {
    return Await(
        [&](Done<Json> d) { proposals_->Revise(actor, id, RevisionOf(body), std::move(d)); });
  }
  Result<Json> Merge(const User& actor, int64_t id, const Json& body = Json::object()) {
    return Await([&](Done<Json> d) { proposals_->Merge(actor, id, body, std::move(d)); });
  }
  Json Get(int64_t id) {
    auto r = proposals_->Get(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Json();
  }
  domain::Agreement Agreement(const std::string& id) {
    auto a = store::LoadAgreement(*store_, id);
    EXPECT_TRUE(a.ok() && a->has_value()) << id;
    return a.ok() && *a ? **a : domain::Agreement{};
  }
  int64_t DatasetRevision() { return *store::DatasetRevision(*store_); }
  std::vector<domain::Event> EventsAfter(uint64_t seq) {
    auto e = store_->ReadEvents(seq, 100000);
    EXPECT_TRUE(e.ok());
    return e.ok() ? *e : std::vector<domain::Event>{};
  }
  // The workflow's own events, without the plugin jobs each change queues.
  std::vector<domain::Event> WorkflowEventsAfter(uint64_t seq) {
    auto all = EventsAfter(seq);
    std::erase_if(all, [](const domain::Event& e) {
      return e.type.rfind("check.", 0) == 0 || e.type.rfind("analysis.", 0) == 0;
    });
    return all;
  }
  static std::string MissingText(const Json& view) {
    std::string out;
    for (const auto& m : view["review"]["missing"]) out += m.get<std::string>() + "\n";
    return out;
  }
  static std::set<std::string> Names(const Json& votes) {
    std::set<std::string> out;
    for (const auto& v : votes) out.insert(v["reviewer_name"].get<std::string>());
    return out;
  }

  std::atomic<int64_t> now_{1'700'000'000'000};
  normbase::testing::TempDir tmp_{"nb-review"};
  const std::string dir_ = tmp_.path();
  ServiceConfig config_;
  CodebookCache codebook_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<Proposals> proposals_;
  std::unique_ptr<Catalog> catalog_;
  User alice_, bob_, gina_, carol_, dave_, mod_;
};

TEST_F(ReviewWorkflowTest, SeedIsDatasetRevisionOne) {
  EXPECT_EQ(DatasetRevision(), 1);
  EXPECT_EQ(Agreement(kTarget).revision, 1);
  EXPECT_TRUE(Agreement(kTarget).codings.empty());
  auto seeded_again = SeedIfEmpty(*store_, codebook_, ReadFile(SeedDir() / "codebook.json"),
                                  ReadFile(SeedDir() / "agreements.json"), config_);
  ASSERT_TRUE(seeded_again.ok());
  EXPECT_FALSE(*seeded_again);
  EXPECT_EQ(DatasetRevision(), 1);
}

TEST_F(ReviewWorkflowTest, AuthorsCannotApproveTheirOwnProposal) {
  const int64_t id = Propose(alice_, Recode(kTarget, 1, {{"general-cooperation", "cooperate"}}));
  auto self = Review(alice_, id, "approve");
  EXPECT_EQ(self.status().code(), Code::kPermissionDenied) << self.status().ToString();
  auto self_block = Review(alice_, id, "request_changes");
  EXPECT_EQ(self_block.status().code(), Code::kPermissionDenied);
  // A remark is not a vote: the author may answer in the thread.
  EXPECT_TRUE(Review(alice_, id, "comment", Json{{"text", "see para 1"}}).ok());
  const Json view = Get(id);
  EXPECT_EQ(view["review"]["approvals"], 0);
  EXPECT_TRUE(view["review"]["votes"].empty());
}

TEST_F(ReviewWorkflowTest, ApprovalsFromOneGroupDoNotSuffice) {
  const int64_t id = Propose(alice_, Recode(kTarget, 1, {{"general-cooperation", "cooperate"}}));
  Approve(bob_, id);
  Approve(gina_, id);
  Json view = Get(id);
  EXPECT_EQ(view["review"]["approvals"], 2);
  EXPECT_EQ(view["review"]["distinct_groups"], 1);
  EXPECT_FALSE(view["review"]["can_merge"]);
  EXPECT_EQ(view["state"], "open");
  EXPECT_TRUE(Contains(MissingText(view), "other than Government")) << MissingText(view);

  auto early = Merge(mod_, id);
  EXPECT_EQ(early.status().code(), Code::kPreconditionFailed);
  EXPECT_TRUE(Contains(early.status().message(), "Government")) << early.status().message();
  EXPECT_EQ(DatasetRevision(), 1);

  Approve(carol_, id);
  view = Get(id);
  EXPECT_EQ(view["review"]["distinct_groups"], 2);
  EXPECT_TRUE(view["review"]["can_merge"]);
  EXPECT_EQ(view["state"], "approved");
  EXPECT_TRUE(view["review"]["missing"].empty());
}

TEST_F(ReviewWorkflowTest, RequestChangesBlocksAndTheLatestVoteCounts) {
  const int64_t id = Propose(alice_, Recode(kTarget, 1, {{"general-cooperation", "cooperate"}}));
  Approve(bob_, id);
  Approve(carol_, id);
  ASSERT_TRUE(Review(dave_, id, "request_changes", Json{{"text", "quote is too short"}}).ok());
  Json view = Get(id);
  EXPECT_FALSE(view["review"]["can_merge"]);
  EXPECT_EQ(view["review"]["request_changes"], 1);
  EXPECT_TRUE(Contains(MissingText(view), "dave")) << MissingText(view);
  EXPECT_TRUE(Contains(MissingText(view), "requests changes")) << MissingText(view);
  EXPECT_EQ(Merge(mod_, id).status().code(), Code::kPreconditionFailed);

  // dave changes his mind: his latest vote is the one that counts...
  Approve(dave_, id);
  view = Get(id);
  EXPECT_EQ(view["review"]["request_changes"], 0);
  EXPECT_EQ(view["review"]["approvals"], 3);
  EXPECT_TRUE(view["review"]["can_merge"]);
  int daves = 0;
  for (const auto& v : view["review"]["votes"]) daves += v["reviewer_name"] == "dave";
  EXPECT_EQ(daves, 1);
  // ...and the history keeps both.
  std::vector<std::string> dave_history;
  for (const auto& r : view["reviews"])
    if (r["reviewer_name"] == "dave") dave_history.push_back(r["verdict"]);
  EXPECT_EQ(dave_history, (std::vector<std::string>{"request_changes", "approve"}));

  // Changing back blocks again.
  ASSERT_TRUE(Review(bob_, id, "request_changes").ok());
  view = Get(id);
  EXPECT_FALSE(view["review"]["can_merge"]);
  EXPECT_TRUE(Contains(MissingText(view), "bob")) << MissingText(view);
}

TEST_F(ReviewWorkflowTest, ANewRevisionMakesEarlierVotesStale) {
  const int64_t id = Propose(alice_, Recode(kTarget, 1, {{"general-cooperation", "cooperate"}}));
  Approve(bob_, id);
  Approve(carol_, id);
  ASSERT_TRUE(Get(id)["review"]["can_merge"]);

  auto rev = Revise(alice_, id, Recode(kTarget, 1, {{"general-cooperation", "cooperate more"}}));
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  Json view = Get(id);
  EXPECT_EQ(view["revision"], 2);
  EXPECT_EQ(view["review"]["approvals"], 0);
  EXPECT_TRUE(view["review"]["votes"].empty());
  EXPECT_EQ(Names(view["review"]["stale_votes"]), (std::set<std::string>{"bob", "carol"}));
  EXPECT_FALSE(view["review"]["can_merge"]);
  EXPECT_EQ(Merge(mod_, id).status().code(), Code::kPreconditionFailed);

  // A vote that names the revision it read is refused once that is outdated.
  auto late = Review(bob_, id, "approve", Json{{"revision", 1}});
  EXPECT_TRUE(late.status().IsConflict()) << late.status().ToString();
  ASSERT_TRUE(Review(bob_, id, "approve", Json{{"revision", 2}}).ok());
  view = Get(id);
  EXPECT_EQ(Names(view["review"]["votes"]), (std::set<std::string>{"bob"}));
  EXPECT_EQ(Names(view["review"]["stale_votes"]), (std::set<std::string>{"carol"}));

  // Only the author may revise.
  auto foreign = Revise(bob_, id, Recode(kTarget, 1, {{"human-rights", "rights"}}));
  EXPECT_EQ(foreign.status().code(), Code::kPermissionDenied);
}

TEST_F(ReviewWorkflowTest, ARationaleOnlyRevisionKeepsVotes) {
  const auto codings = std::map<std::string, std::string>{{"general-cooperation", "cooperate"}};
  const int64_t id = Propose(alice_, Recode(kTarget, 1, codings, "first reason"));
  Approve(bob_, id);
  Approve(carol_, id);

  auto nothing = Revise(alice_, id, Recode(kTarget, 1, codings, "first reason"));
  EXPECT_TRUE(nothing.status().IsInvalidArgument()) << nothing.status().ToString();

  ASSERT_TRUE(Revise(alice_, id, Recode(kTarget, 1, codings, "a better reason")).ok());
  const Json view = Get(id);
  EXPECT_EQ(view["revision"], 2);
  EXPECT_EQ(view["review"]["approvals"], 2);
  EXPECT_TRUE(view["review"]["stale_votes"].empty());
  EXPECT_TRUE(view["review"]["can_merge"]);
}

TEST_F(ReviewWorkflowTest, ARationaleOnlyRevisionResetsVotesWhenThePolicySaysSo) {
  ServiceConfig strict;
  strict.policy.defaults.keep_votes_on_rationale_change = false;
  Proposals proposals(*store_, codebook_, strict);
  const auto codings = std::map<std::string, std::string>{{"general-cooperation", "cooperate"}};
  const int64_t id = Propose(alice_, Recode(kTarget, 1, codings, "first reason"));
  Approve(bob_, id);
  Approve(carol_, id);
  auto rev = Await([&](Done<Json> d) {
    proposals.Revise(alice_, id, RevisionOf(Recode(kTarget, 1, codings, "a better reason")),
                     std::move(d));
  });
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  auto view = proposals.Get(id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ((*view)["review"]["approvals"], 0);
  EXPECT_EQ(Names((*view)["review"]["stale_votes"]), (std::set<std::string>{"bob", "carol"}));
}

TEST_F(ReviewWorkflowTest, RetiringNeedsThreeApprovalsFromThreeGroups) {
  const int64_t id = Propose(alice_, Json{{"kind", "retire"},
                                          {"agreement_id", kOther},
                                          {"base_revision", 1},
                                          {"rationale", "a duplicate of another record"}});
  const int64_t recode = Propose(alice_, Recode(kTarget, 1, {{"human-rights", "rights"}}));
  for (int64_t p : {id, recode}) {
    Approve(bob_, p);
    Approve(gina_, p);
    Approve(carol_, p);
  }
  // Three approvals from two groups: enough for a recode, not for a retirement.
  EXPECT_TRUE(Get(recode)["review"]["can_merge"]);
  Json view = Get(id);
  EXPECT_EQ(view["review"]["approvals"], 3);
  EXPECT_FALSE(view["review"]["can_merge"]);
  EXPECT_TRUE(Contains(MissingText(view), "1 more approval")) << MissingText(view);
  EXPECT_EQ(Merge(mod_, id).status().code(), Code::kPreconditionFailed);

  Approve(dave_, id);
  view = Get(id);
  EXPECT_EQ(view["review"]["distinct_groups"], 3);
  ASSERT_TRUE(view["review"]["can_merge"]) << MissingText(view);
  auto merged = Merge(mod_, id);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  const domain::Agreement a = Agreement(kOther);
  EXPECT_TRUE(a.retired);
  EXPECT_EQ(a.revision, 2);
  auto listed = catalog_->GetAgreement(kOther, DatasetRevision());
  EXPECT_TRUE(listed.status().IsNotFound()) << "a retired agreement is still in the dataset";
  auto before = catalog_->GetAgreement(kOther, 1);
  EXPECT_TRUE(before.ok()) << "the dataset of revision 1 lost it";
}

TEST_F(ReviewWorkflowTest, OnlyModeratorsMerge) {
  const int64_t id = Propose(alice_, Recode(kTarget, 1, {{"general-cooperation", "cooperate"}}));
  Approve(bob_, id);
  Approve(carol_, id);
  auto by_reviewer = Merge(bob_, id);
  EXPECT_EQ(by_reviewer.status().code(), Code::kPermissionDenied)
      << by_reviewer.status().ToString();
  EXPECT_TRUE(Contains(by_reviewer.status().message(), "moderator"));
  EXPECT_EQ(Merge(alice_, id).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Get(id)["state"], "approved");
  EXPECT_EQ(DatasetRevision(), 1);
}

TEST_F(ReviewWorkflowTest, AMergeRecordsRevisionsHistoryAndEvents) {
  const int64_t id = Propose(
      alice_, Recode(kTarget, 1, {{"general-cooperation", "cooperate"}, {"human-rights", "rights"}},
                     "paragraph 3 is about cooperation"));
  Approve(bob_, id);
  Approve(carol_, id);
  const uint64_t seq_before = store_->LastEventSeq();
  now_ += 5'000;
  auto merged = Merge(mod_, id, Json{{"revision", 1}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ((*merged)["state"], "merged");
  EXPECT_EQ((*merged)["merged_dataset_revision"], 2);

  EXPECT_EQ(DatasetRevision(), 2);
  const domain::Agreement a = Agreement(kTarget);
  EXPECT_EQ(a.revision, 2);
  EXPECT_EQ(a.codings.size(), 2u);
  EXPECT_EQ(a.codings.at("human-rights").evidence.at(0).quote, "rights");

  // History: who proposed, who approved, who merged, and why.
  auto history = catalog_->History(kTarget);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  const Json& versions = (*history)["versions"];
  ASSERT_EQ(versions.size(), 2u);
  const Json& latest = versions[0];
  EXPECT_EQ(latest["agreement_revision"], 2);
  EXPECT_EQ(latest["dataset_revision"], 2);
  EXPECT_EQ(latest["proposal"], id);
  EXPECT_EQ(latest["change"], "recoded");
  EXPECT_EQ(latest["author_name"], "alice");
  EXPECT_EQ(latest["actor_name"], "mod");
  EXPECT_EQ(latest["reason"], "paragraph 3 is about cooperation");
  EXPECT_EQ(latest["at"], now_.load());
  std::set<std::string> approvers;
  for (const auto& ap : latest["approvers"]) approvers.insert(ap["name"].get<std::string>());
  EXPECT_EQ(approvers, (std::set<std::string>{"bob", "carol"}));
  EXPECT_EQ((*history)["provenance"]["human-rights"][0]["author_name"], "alice");

  auto ds = store::LoadDatasetRevision(*store_, 2);
  ASSERT_TRUE(ds.ok() && ds->has_value());
  EXPECT_EQ((**ds)["proposal"], id);
  EXPECT_EQ((**ds)["changes"][0]["agreement"], kTarget);
  EXPECT_EQ((**ds)["changes"][0]["agreement_revision"], 2);

  // The dataset as it was stays readable.
  auto then = catalog_->GetAgreement(kTarget, 1);
  ASSERT_TRUE(then.ok());
  EXPECT_TRUE((*then)["codings"].empty());

  int analyses_queued = 0;
  for (const auto& e : EventsAfter(seq_before)) analyses_queued += e.type == "analysis.queued";
  EXPECT_EQ(analyses_queued, 4) << "a merge queues the dataset analyses in its own batch";
  auto events = WorkflowEventsAfter(seq_before);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "proposal.merged");
  EXPECT_EQ(events[0].actor, mod_.id);
  EXPECT_EQ(events[0].subjects.at("proposal"), std::to_string(id));
  EXPECT_EQ(Json::parse(events[0].payload)["dataset_revision"], 2);
  EXPECT_EQ(events[1].type, "agreement.changed");
  const Json changed = Json::parse(events[1].payload);
  EXPECT_EQ(changed["agreement"]["id"], kTarget);
  EXPECT_EQ(changed["agreement"]["revision"], 2);
  EXPECT_EQ(events[1].seq, events[0].seq + 1);
}

TEST_F(ReviewWorkflowTest, ConflictingRecodesAndTheRebase) {
  const int64_t first = Propose(alice_, Recode(kTarget, 1,
                                               {{"general-cooperation", "from the first"},
                                                {"information-sharing", "only the first"}}));
  const int64_t second = Propose(alice_, Recode(kTarget, 1,
                                                {{"general-cooperation", "from the second"},
                                                 {"human-rights", "only the second"}}));
  for (int64_t p : {first, second}) {
    Approve(bob_, p);
    Approve(carol_, p);
  }
  const uint64_t seq_before = store_->LastEventSeq();
  ASSERT_TRUE(Merge(mod_, first).ok());

  Json view = Get(second);
  EXPECT_EQ(view["state"], "conflicted");
  EXPECT_TRUE(view["review"]["conflicted"]);
  EXPECT_FALSE(view["review"]["can_merge"]);
  EXPECT_TRUE(Contains(MissingText(view), "revision 2")) << MissingText(view);
  auto refused = Merge(mod_, second);
  EXPECT_EQ(refused.status().code(), Code::kPreconditionFailed);
  EXPECT_TRUE(Contains(refused.status().message(), "conflicted")) << refused.status().message();

  int conflicted_events = 0;
  for (const auto& e : EventsAfter(seq_before)) {
    if (e.type != "proposal.conflicted") continue;
    ++conflicted_events;
    EXPECT_EQ(e.subjects.at("proposal"), std::to_string(second));
    const Json payload = Json::parse(e.payload);
    EXPECT_EQ(payload["because_of"], first);
    EXPECT_EQ(payload["proposal"]["state"], "conflicted");
  }
  EXPECT_EQ(conflicted_events, 1);

  auto diff = proposals_->Diff(second, std::nullopt);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  EXPECT_TRUE((*diff)["conflicted"]);
  EXPECT_EQ((*diff)["base_revision"], 1);
  EXPECT_EQ((*diff)["current_revision"], 2);
  ASSERT_TRUE(diff->contains("three_way"));
  std::map<std::string, bool> conflict;
  for (const auto& e : (*diff)["three_way"]["elements"])
    conflict[e["element"].get<std::string>()] = e["conflict"].get<bool>();
  EXPECT_EQ(conflict, (std::map<std::string, bool>{{"general-cooperation", true},
                                                   {"information-sharing", false},
                                                   {"human-rights", false}}));

  // A revision on the stale base is refused; on the new base it is taken.
  auto stale = Revise(alice_, second, Recode(kTarget, 1, {{"human-rights", "x"}}));
  EXPECT_TRUE(stale.status().IsConflict()) << stale.status().ToString();
  auto rebased = Revise(alice_, second,
                        Recode(kTarget, 2,
                               {{"general-cooperation", "from the second"},
                                {"information-sharing", "only the first"},
                                {"human-rights", "only the second"}}));
  ASSERT_TRUE(rebased.ok()) << rebased.status().ToString();
  view = Get(second);
  EXPECT_EQ(view["state"], "open");
  EXPECT_FALSE(view["review"]["conflicted"]);
  EXPECT_EQ(view["review"]["approvals"], 0) << "votes for the old base still count";
  auto clean = proposals_->Diff(second, std::nullopt);
  ASSERT_TRUE(clean.ok());
  EXPECT_FALSE((*clean)["conflicted"]);
  EXPECT_FALSE(clean->contains("three_way"));

  Approve(bob_, second);
  Approve(carol_, second);
  auto merged = Merge(mod_, second);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(Agreement(kTarget).revision, 3);
  EXPECT_EQ(Agreement(kTarget).codings.size(), 3u);
  EXPECT_EQ(DatasetRevision(), 3);
}

TEST_F(ReviewWorkflowTest, AnAddWhoseTitleMatchesIsRefusedAtMerge) {
  auto add = [](const std::string& id, const std::string& title) {
    return Json{
        {"kind", "add"},
        {"agreement", {{"id", id}, {"title", title}, {"year", 2018}, {"kind", "multistakeholder"}}},
        {"rationale", "missing from the dataset"}};
  };
  const int64_t dup =
      Propose(alice_, add("paris-call-copy", "PARIS CALL for Trust and Security in  Cyberspace!"));
  const int64_t fresh = Propose(alice_, add("a-new-pledge-2024", "A New Pledge"));
  for (int64_t p : {dup, fresh}) {
    Approve(bob_, p);
    Approve(carol_, p);
  }
  auto refused = Merge(mod_, dup);
  EXPECT_EQ(refused.status().code(), Code::kAlreadyExists) << refused.status().ToString();
  EXPECT_TRUE(Contains(refused.status().message(), "paris-call-2018"))
      << refused.status().message();
  EXPECT_EQ(DatasetRevision(), 1);
  EXPECT_FALSE(store::LoadAgreement(*store_, "paris-call-copy")->has_value());
  EXPECT_EQ(Get(dup)["stored_status"], "open");

  ASSERT_TRUE(Merge(mod_, fresh).ok());
  const domain::Agreement a = Agreement("a-new-pledge-2024");
  EXPECT_EQ(a.revision, 1);
  auto history = store::LoadHistory(*store_, "a-new-pledge-2024");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0]["change"], "added");
  EXPECT_EQ(DatasetRevision(), 2);
}

TEST_F(ReviewWorkflowTest, MergingTwiceOrAStaleRevisionIsAConflict) {
  const auto codings = std::map<std::string, std::string>{{"general-cooperation", "cooperate"}};
  const int64_t id = Propose(alice_, Recode(kTarget, 1, codings, "one"));
  Approve(bob_, id);
  Approve(carol_, id);
  ASSERT_TRUE(Revise(alice_, id, Recode(kTarget, 1, codings, "two")).ok());  // keeps the votes
  auto stale = Merge(mod_, id, Json{{"revision", 1}});
  EXPECT_TRUE(stale.status().IsConflict()) << stale.status().ToString();
  EXPECT_TRUE(Contains(stale.status().message(), "revision 2"));
  EXPECT_EQ(DatasetRevision(), 1);

  ASSERT_TRUE(Merge(mod_, id, Json{{"revision", 2}}).ok());
  auto again = Merge(mod_, id);
  EXPECT_TRUE(again.status().IsConflict()) << again.status().ToString();
  EXPECT_EQ(DatasetRevision(), 2);
  EXPECT_EQ(Agreement(kTarget).revision, 2);
  EXPECT_TRUE(Review(dave_, id, "approve").status().IsConflict());
}

TEST_F(ReviewWorkflowTest, RejectingNeedsAModeratorAndAReason) {
  const int64_t id = Propose(alice_, Recode(kTarget, 1, {{"general-cooperation", "cooperate"}}));
  auto reject = [&](const User& u, const Json& body) {
    return Await([&](Done<Json> d) { proposals_->Reject(u, id, body, std::move(d)); });
  };
  EXPECT_TRUE(reject(mod_, Json::object()).status().IsInvalidArgument());
  EXPECT_TRUE(reject(mod_, Json{{"reason", ""}}).status().IsInvalidArgument());
  EXPECT_EQ(reject(bob_, Json{{"reason", "no"}}).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Get(id)["state"], "open");

  auto ok = reject(mod_, Json{{"reason", "out of scope"}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  const Json view = Get(id);
  EXPECT_EQ(view["state"], "rejected");
  EXPECT_EQ(view["close_reason"], "out of scope");
  EXPECT_TRUE(reject(mod_, Json{{"reason", "again"}}).status().IsConflict());
  EXPECT_TRUE(Merge(mod_, id).status().IsConflict());
}

TEST_F(ReviewWorkflowTest, OnlyTheAuthorWithdraws) {
  const int64_t id = Propose(alice_, Recode(kTarget, 1, {{"general-cooperation", "cooperate"}}));
  auto withdraw = [&](const User& u) {
    return Await([&](Done<Json> d) {
      proposals_->Withdraw(u, id, Json{{"reason", "changed my mind"}}, std::move(d));
    });
  };
  EXPECT_EQ(withdraw(bob_).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(withdraw(mod_).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Get(id)["state"], "open");
  const uint64_t seq_before = store_->LastEventSeq();
  ASSERT_TRUE(withdraw(alice_).ok());
  EXPECT_EQ(Get(id)["state"], "withdrawn");
  auto events = EventsAfter(seq_before);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "proposal.withdrawn");
  EXPECT_TRUE(withdraw(alice_).status().IsConflict());
}

TEST_F(ReviewWorkflowTest, AProposalKeepsAtMost500Comments) {
  // The cap of proposals.cc (kMaxCommentsPerProposal). Most comments are
  // written straight to the store in one commit (500 service calls would be
  // 500 fsynced commits); the last ones go through the service, which must
  // count those as well as its own.
  constexpr size_t kCap = 500;
  constexpr size_t kThroughTheService = 20;
  const int64_t id = Propose(alice_, Recode(kTarget, 1, {{"general-cooperation", "cooperate"}}));
  const Status seeded = store_->Commit([&](store::WriteContext& w) -> Status {
    NB_ASSIGN_OR_RETURN(auto head, store::LoadProposalHead(w, id));
    if (!head) return Status::NotFound("the proposal is gone");
    for (size_t i = 0; i < kCap - kThroughTheService; ++i) {
      domain::Comment c;
      NB_ASSIGN_OR_RETURN(c.id, w.NextId("comment"));
      c.author = bob_.id;
      c.author_name = bob_.name;
      c.text = "remark " + std::to_string(i);
      c.at = w.Now();
      store::AddComment(w, *head, c);
    }
    store::SaveProposalHead(w, *head);
    return Status::Ok();
  });
  ASSERT_TRUE(seeded.ok()) << seeded.ToString();

  auto comment = [&](const User& u, const std::string& text) {
    return Await([&](Done<Json> d) {
      proposals_->AddComment(u, id, Json{{"text", text}}, std::move(d));
    });
  };
  for (size_t i = kCap - kThroughTheService; i < kCap; ++i) {
    auto r = comment(i % 2 ? bob_ : carol_, "remark " + std::to_string(i));
    ASSERT_TRUE(r.ok()) << "comment " << i << ": " << r.status().ToString();
  }
  const uint64_t seq_before = store_->LastEventSeq();
  auto refused = comment(dave_, "one too many");
  EXPECT_EQ(refused.status().code(), Code::kTooLarge) << refused.status().ToString();
  EXPECT_TRUE(Contains(refused.status().message(), "500 comments")) << refused.status().message();
  EXPECT_EQ(store_->LastEventSeq(), seq_before);
  const Json view = Get(id);
  ASSERT_EQ(view["comments"].size(), kCap);
  EXPECT_EQ(view["comments"].back()["text"], "remark 499");
  // The other lists have caps of their own: votes still go in.
  Approve(dave_, id);
}

// ---- many writers at once ----------------------------------------------------

// Counts outstanding asynchronous calls and waits until all have completed.
class WaitGroup {
 public:
  void Add() {
    std::lock_guard lk(mu_);
    ++pending_;
  }
  void Done() {
    std::lock_guard lk(mu_);
    if (--pending_ == 0) cv_.notify_all();
  }
  bool Wait() {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(60), [&] { return pending_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int pending_ = 0;  // GUARDED_BY(mu_)
};

TEST_F(ReviewWorkflowTest, ConcurrentVotesMergesAndRebasesKeepTheInvariants) {
  constexpr int kThreads = 8, kAgreements = 10, kPerAgreement = 2, kMaxRounds = 10;
  const char* const kGroups[] = {"government",          "private-sector", "civil-society",
                                 "technical-community", "academia",       "intergovernmental"};
  std::vector<User> reviewers;
  for (int t = 0; t < kThreads; ++t)
    reviewers.push_back(MakeUser("rev" + std::to_string(t), "moderator", kGroups[t % 6]));

  std::vector<std::string> agreements;
  ASSERT_TRUE(store::ForEachAgreement(*store_, "", [&](domain::Agreement&& a) {
                agreements.push_back(a.id);
                return agreements.size() < kAgreements;
              }).ok());
  std::vector<int64_t> ids;
  std::map<int64_t, std::string> target;
  for (const auto& a : agreements)
    for (int k = 0; k < kPerAgreement; ++k) {
      const int64_t id = Propose(
          alice_, Recode(a, 1, {{"general-cooperation", a + " proposal " + std::to_string(k)}}));
      ASSERT_GT(id, 0);
      ids.push_back(id);
      target[id] = a;
    }

  std::mutex mu;
  std::map<int64_t, int> merges_ok, votes_ok, revisions_ok;  // GUARDED_BY(mu)
  std::vector<std::string> unexpected;                       // GUARDED_BY(mu)
  auto record = [&](const char* what, int64_t id, const Status& s,
                    std::initializer_list<Code> expected, std::map<int64_t, int>& ok_count) {
    std::lock_guard lk(mu);
    if (s.ok()) {
      ++ok_count[id];
    } else if (std::find(expected.begin(), expected.end(), s.code()) == expected.end()) {
      unexpected.push_back(std::string(what) + " " + std::to_string(id) + ": " + s.ToString());
    }
  };
  auto all_merged = [&] {
    for (int64_t id : ids)
      if (Get(id)["state"] != "merged") return false;
    return true;
  };

  // The author follows the live events and rebases a proposal as soon as a
  // merge leaves it conflicted, while the reviewers are still at work. The
  // listener runs on the committer thread, so it only hands the id on.
  struct Inbox {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<int64_t> conflicted;  // GUARDED_BY(mu)
    bool closed = false;             // GUARDED_BY(mu)
  };
  auto inbox = std::make_shared<Inbox>();
  store_->AddCommitListener([inbox](const std::vector<domain::Event>& events) {
    std::lock_guard lk(inbox->mu);
    for (const auto& e : events)
      if (e.type == "proposal.conflicted")
        inbox->conflicted.push_back(std::stoll(e.subjects.at("proposal")));
    inbox->cv.notify_all();
  });

  int rounds = 0;
  for (; rounds < kMaxRounds && !all_merged(); ++rounds) {
    {
      std::lock_guard lk(inbox->mu);
      inbox->closed = false;
    }
    std::thread author([&] {
      WaitGroup wg;
      for (;;) {
        int64_t id = 0;
        {
          std::unique_lock lk(inbox->mu);
          inbox->cv.wait(lk, [&] { return inbox->closed || !inbox->conflicted.empty(); });
          if (inbox->conflicted.empty()) break;
          id = inbox->conflicted.front();
          inbox->conflicted.pop_front();
        }
        // The listener hears a merge once it is durable: the new base is readable.
        const int64_t base = Agreement(target.at(id)).revision;
        const std::string quote = "rebased " + std::to_string(id) + " on " + std::to_string(base);
        wg.Add();
        proposals_->Revise(
            alice_, id, RevisionOf(Recode(target.at(id), base, {{"general-cooperation", quote}})),
            [&, id](Result<Json> r) {
              record("revise", id, r.status(), {}, revisions_ok);
              wg.Done();
            });
      }
      EXPECT_TRUE(wg.Wait()) << "author timed out";
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::vector<int64_t> order = ids;
        std::shuffle(order.begin(), order.end(), std::mt19937(100 * rounds + t));
        WaitGroup wg;
        for (int64_t id : order) {
          wg.Add();
          proposals_->AddReview(reviewers[t], id, Json{{"verdict", "approve"}},
                                [&, id](Result<Json> r) {
                                  record("vote", id, r.status(), {Code::kConflict}, votes_ok);
                                  wg.Done();
                                });
          wg.Add();
          proposals_->Merge(reviewers[t], id, Json::object(), [&, id](Result<Json> r) {
            record("merge", id, r.status(), {Code::kConflict, Code::kPreconditionFailed},
                   merges_ok);
            wg.Done();
          });
        }
        EXPECT_TRUE(wg.Wait()) << "reviewer " << t << " timed out";
      });
    }
    for (auto& th : threads) th.join();
    {
      std::lock_guard lk(inbox->mu);
      inbox->closed = true;
      inbox->cv.notify_all();
    }
    author.join();
  }
  ASSERT_TRUE(unexpected.empty()) << unexpected.front() << " (and " << unexpected.size() - 1
                                  << " more)";
  ASSERT_TRUE(all_merged()) << "not all proposals merged in " << rounds << " rounds";

  // Each proposal merged exactly once; no vote or revision was lost.
  std::map<int64_t, int64_t> ds_of;  // proposal -> dataset revision
  for (int64_t id : ids) {
    EXPECT_EQ(merges_ok[id], 1) << "proposal " << id;
    const Json view = Get(id);
    EXPECT_EQ(view["reviews"].size(), static_cast<size_t>(votes_ok[id])) << "lost vote on " << id;
    EXPECT_EQ(view["revisions"].size(), static_cast<size_t>(1 + revisions_ok[id]))
        << "lost revision on " << id;
    ds_of[id] = view["merged_dataset_revision"].get<int64_t>();
  }

  // Dataset revisions 1..N without a gap, each recorded, one per merge.
  const int64_t n = DatasetRevision();
  EXPECT_EQ(n, 1 + static_cast<int64_t>(ids.size()));
  std::map<int64_t, int64_t> proposal_of_ds;
  for (int64_t ds = 1; ds <= n; ++ds) {
    auto rec = store::LoadDatasetRevision(*store_, ds);
    ASSERT_TRUE(rec.ok() && rec->has_value()) << "dataset revision " << ds << " is not recorded";
    EXPECT_EQ((**rec)["revision"], ds);
    if (ds > 1) proposal_of_ds[ds] = (**rec)["proposal"].get<int64_t>();
  }
  for (const auto& [id, ds] : ds_of) EXPECT_EQ(proposal_of_ds[ds], id) << "dataset revision " << ds;
  EXPECT_FALSE(store::LoadDatasetRevision(*store_, n + 1)->has_value());

  // Each agreement: history 1..current without a gap, one merge per revision.
  for (const auto& a : agreements) {
    const int64_t current = Agreement(a).revision;
    EXPECT_EQ(current, 1 + kPerAgreement) << a;
    auto history = store::LoadHistory(*store_, a);
    ASSERT_TRUE(history.ok());
    ASSERT_EQ(history->size(), static_cast<size_t>(current)) << a;
    std::set<int64_t> merged_here;
    for (int64_t r = 1; r <= current; ++r) {
      const Json& entry = (*history)[r - 1];
      EXPECT_EQ(entry["agreement_revision"], r) << a;
      if (r == 1) continue;
      const int64_t proposal = entry["proposal"].get<int64_t>();
      EXPECT_EQ(target.at(proposal), a);
      EXPECT_TRUE(merged_here.insert(proposal).second)
          << "proposal " << proposal << " merged twice";
      EXPECT_EQ(entry["dataset_revision"], ds_of[proposal]);
      // What was merged is what the proposal's final revision proposed.
      const Json final_rev = Get(proposal)["revisions"].back();
      EXPECT_EQ(final_rev["base_revision"], r - 1) << "merged on a stale base";
      EXPECT_EQ(entry["agreement"]["codings"], final_rev["proposed"]["codings"]);
    }
  }

  // The event log: contiguous seqs, one proposal.merged and one
  // agreement.changed per merge.
  const auto events = EventsAfter(0);
  ASSERT_EQ(events.size(), store_->LastEventSeq());
  std::map<int64_t, int> merged_events;
  int changed_events = 0, conflicted_events = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].seq, i + 1) << "gap in the event log";
    if (events[i].type == "proposal.merged") {
      const int64_t id = std::stoll(events[i].subjects.at("proposal"));
      ++merged_events[id];
      EXPECT_EQ(Json::parse(events[i].payload)["dataset_revision"], ds_of[id]);
    }
    if (events[i].type == "agreement.changed") ++changed_events;
    if (events[i].type == "proposal.conflicted") ++conflicted_events;
  }
  EXPECT_EQ(merged_events.size(), ids.size());
  for (const auto& [id, count] : merged_events) EXPECT_EQ(count, 1) << "proposal " << id;
  EXPECT_EQ(changed_events, static_cast<int>(ids.size()));
  // Each agreement's first merge left its other proposal conflicted, once.
  EXPECT_EQ(conflicted_events, kAgreements * (kPerAgreement - 1));
}

}  // namespace
}  // namespace normbase::service
