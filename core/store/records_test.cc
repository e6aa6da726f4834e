// Typed records over a real store: versions and time travel, ids that share
// a prefix, paging, and the user/token indexes.
#include "store/records.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "domain/job.h"
#include "store/job_records.h"
#include "support/temp_dir.h"

namespace normbase::store {
namespace {

using domain::Agreement;
using domain::Json;

class RecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.path = dir_;
    o.sync = false;  // durability is the store test's business, not this one's
    o.clock = [] { return int64_t{1'000}; };
    auto s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
  }

  void Write(const std::function<Status(WriteContext&)>& fn) {
    Status s = store_->Commit(fn);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

 public:
  static Agreement Make(const std::string& id, int64_t revision, const std::string& title) {
    Agreement a;
    a.id = id;
    a.title = title;
    a.year = 2015;
    a.kind = "multilateral";
    a.revision = revision;
    return a;
  }

  std::optional<Agreement> At(const std::string& id, int64_t ds) {
    auto a = LoadAgreementAt(*store_, id, ds);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : std::nullopt;
  }

  normbase::testing::TempDir tmp_{"nb-records"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<Store> store_;
};

TEST_F(RecordsTest, AgreementVersionsAndTimeTravel) {
  Write([](WriteContext& w) {
    WriteAgreementVersion(w, Make("un-gge-2015", 1, "First"), 1, Json{{"change", "seeded"}});
    return Status::Ok();
  });
  Write([](WriteContext& w) {
    WriteAgreementVersion(w, Make("un-gge-2015", 2, "Second"), 3, Json{{"change", "amended"}});
    return Status::Ok();
  });
  Write([](WriteContext& w) {
    Agreement gone = Make("un-gge-2015", 3, "Second");
    gone.retired = true;
    WriteAgreementVersion(w, gone, 5, Json{{"change", "retired"}});
    return Status::Ok();
  });

  EXPECT_FALSE(At("un-gge-2015", 0).has_value()) << "existed before its first version";
  EXPECT_EQ(At("un-gge-2015", 1)->title, "First");
  EXPECT_EQ(At("un-gge-2015", 2)->title, "First");
  EXPECT_EQ(At("un-gge-2015", 3)->title, "Second");
  EXPECT_EQ(At("un-gge-2015", 4)->revision, 2);
  EXPECT_FALSE(At("un-gge-2015", 5).has_value()) << "a retired agreement is not in the dataset";
  EXPECT_FALSE(At("un-gge-2015", 99).has_value());

  auto current = LoadAgreement(*store_, "un-gge-2015");
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_TRUE((*current)->retired);
  EXPECT_EQ((*current)->revision, 3);
  // The index says the same without decoding the agreement; ids that only
  // share a prefix are not confused with it.
  EXPECT_EQ(*CurrentAgreementRevision(*store_, "un-gge-2015"), 3);
  EXPECT_EQ(*CurrentAgreementRevision(*store_, "un-gge"), 0);
  EXPECT_EQ(*CurrentAgreementRevision(*store_, "un-gge-2015-bis"), 0);

  auto r1 = LoadAgreementRevision(*store_, "un-gge-2015", 1);
  ASSERT_TRUE(r1.ok() && r1->has_value());
  EXPECT_EQ((*r1)->title, "First");
  auto r9 = LoadAgreementRevision(*store_, "un-gge-2015", 9);
  ASSERT_TRUE(r9.ok());
  EXPECT_FALSE(r9->has_value());

  auto history = LoadHistory(*store_, "un-gge-2015");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*history)[i]["agreement_revision"], i + 1);
    EXPECT_EQ((*history)[i]["at"], 1'000);
  }
  EXPECT_EQ((*history)[0]["change"], "seeded");
  EXPECT_EQ((*history)[1]["dataset_revision"], 3);
  EXPECT_EQ((*history)[2]["agreement"]["retired"], true);
}

TEST_F(RecordsTest, IdsThatShareAPrefixStayApart) {
  Write([](WriteContext& w) {
    WriteAgreementVersion(w, Make("un-gge", 1, "Short id"), 1, Json::object());
    return Status::Ok();
  });
  Write([](WriteContext& w) {
    WriteAgreementVersion(w, Make("un-gge-2015", 1, "Long id"), 2, Json::object());
    domain::Proposal p;
    p.kind = domain::ProposalKind::kRecode;
    p.agreement_id = "un-gge-2015";
    p.revisions.emplace_back();
    for (int64_t id : {1, 2}) {
      p.id = id;
      SaveProposal(w, p);
    }
    p.id = 3;
    p.agreement_id = "un-gge";
    SaveProposal(w, p);
    return Status::Ok();
  });
  EXPECT_FALSE(At("un-gge-2015", 1).has_value());
  EXPECT_EQ(At("un-gge", 2)->title, "Short id");
  EXPECT_EQ(LoadHistory(*store_, "un-gge")->size(), 1u);
  EXPECT_EQ(LoadHistory(*store_, "un-gge-2015")->size(), 1u);
  EXPECT_TRUE(LoadHistory(*store_, "un")->empty());
  EXPECT_EQ(*ProposalIdsForAgreement(*store_, "un-gge"), (std::vector<int64_t>{3}));
  EXPECT_EQ(*ProposalIdsForAgreement(*store_, "un-gge-2015"), (std::vector<int64_t>{1, 2}));
}

TEST_F(RecordsTest, ForEachPagesAfterAnId) {
  Write([](WriteContext& w) {
    for (const char* id : {"bb", "aa", "cc", "aa-2"})
      WriteAgreementVersion(w, Make(id, 1, id), 1, Json::object());
    domain::Proposal p;
    p.agreement_id = "aa";
    p.revisions.emplace_back();
    for (int64_t id = 1; id <= 300; ++id) {  // past one byte of the big-endian key
      p.id = id;
      SaveProposal(w, p);
    }
    return Status::Ok();
  });
  std::vector<std::string> ids;
  ASSERT_TRUE(ForEachAgreement(*store_, "aa", [&](Agreement&& a) {
                ids.push_back(a.id);
                return true;
              }).ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"aa-2", "bb", "cc"}));

  std::vector<int64_t> pids;
  ASSERT_TRUE(ForEachProposalHead(*store_, 254, [&](ProposalHead&& h) {
                pids.push_back(h.proposal.id);
                return pids.size() < 3;
              }).ok());
  EXPECT_EQ(pids, (std::vector<int64_t>{255, 256, 257}));
}

domain::Review Vote(int64_t id, int64_t reviewer, domain::Verdict v, const std::string& text) {
  domain::Review r;
  r.id = id;
  r.reviewer = reviewer;
  r.reviewer_name = "r" + std::to_string(reviewer);
  r.group = "government";
  r.verdict = v;
  r.text = text;
  return r;
}

domain::Comment Remark(int64_t id, const std::string& text) {
  domain::Comment c;
  c.id = id;
  c.author = 9;
  c.text = text;
  return c;
}

// A head of a new recode proposal with its first revision (proposing a
// record titled "Proposed <agreement>").
ProposalHead NewHead(WriteContext& w, int64_t id, const std::string& agreement) {
  ProposalHead head;
  head.proposal.id = id;
  head.proposal.kind = domain::ProposalKind::kRecode;
  head.proposal.agreement_id = agreement;
  head.proposal.author = 1;
  domain::ProposalRevision rev;
  rev.proposed = RecordsTest::Make(agreement, 2, "Proposed " + agreement);
  rev.rationale = "why";
  AddRevision(w, head, std::move(rev));
  return head;
}

// Revisions, comments and reviews are records of their own: a proposal's head
// holds its revisions without their agreements, the current title, each
// reviewer's latest vote and the counts; LoadProposal puts the whole back together.
TEST_F(RecordsTest, AProposalIsAHeadWithRevisionCommentAndReviewRecords) {
  using domain::Verdict;
  Write([](WriteContext& w) {
    ProposalHead head = NewHead(w, 7, "aa");
    AddReview(w, head, Vote(1, 5, Verdict::kRequestChanges, "too short"));
    AddComment(w, head, Remark(1, "which paragraph?"));
    AddReview(w, head, Vote(2, 6, Verdict::kApprove, "fine"));
    AddReview(w, head, Vote(3, 5, Verdict::kApprove, "better now"));  // replaces 5's vote
    AddReview(w, head, Vote(4, 6, Verdict::kComment, "a remark, not a vote"));
    AddComment(w, head, Remark(2, "paragraph 3"));
    SaveProposalHead(w, head);
    return Status::Ok();
  });
  auto head = LoadProposalHead(*store_, 7);
  ASSERT_TRUE(head.ok() && head->has_value()) << head.status().ToString();
  EXPECT_EQ((*head)->comment_count, 2);
  EXPECT_EQ((*head)->review_count, 4);
  EXPECT_TRUE((*head)->proposal.comments.empty());
  std::vector<int64_t> latest;
  for (const auto& r : (*head)->proposal.reviews) latest.push_back(r.id);
  EXPECT_EQ(latest, (std::vector<int64_t>{3, 2}));  // 5's latest (in 5's place), then 6's
  ASSERT_EQ((*head)->proposal.revisions.size(), 1u);
  EXPECT_FALSE((*head)->proposal.revisions[0].proposed) << "the agreement is not in the head";
  EXPECT_EQ((*head)->proposal.revisions[0].rationale, "why");
  EXPECT_EQ((*head)->title, "Proposed aa");
  auto rev = LoadProposalRevision(*store_, 7, 1);
  ASSERT_TRUE(rev.ok() && rev->has_value()) << rev.status().ToString();
  ASSERT_TRUE((*rev)->proposed);
  EXPECT_EQ((*rev)->proposed->title, "Proposed aa");
  EXPECT_FALSE(LoadProposalRevision(*store_, 7, 2)->has_value());
  EXPECT_FALSE(LoadProposalRevision(*store_, 8, 1)->has_value());

  auto whole = LoadProposal(*store_, 7);
  ASSERT_TRUE(whole.ok() && whole->has_value());
  std::vector<std::string> texts;
  for (const auto& r : (*whole)->reviews) texts.push_back(r.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"too short", "fine", "better now", "a remark, not a vote"}));
  ASSERT_EQ((*whole)->comments.size(), 2u);
  EXPECT_EQ((*whole)->comments[1].text, "paragraph 3");
  ASSERT_EQ((*whole)->revisions.size(), 1u);
  ASSERT_TRUE((*whole)->revisions[0].proposed);
  EXPECT_EQ((*whole)->revisions[0].proposed->title, "Proposed aa");

  // A comment is rewritten in place; another proposal's records stay apart.
  Write([](WriteContext& w) -> Status {
    NB_ASSIGN_OR_RETURN(auto c, LoadComment(w, 7, 2));
    EXPECT_TRUE(c.has_value());
    if (!c) return Status::NotFound("comment 2");
    c->resolved = true;
    SaveComment(w, 7, *c);
    ProposalHead other = NewHead(w, 8, "aa");
    AddComment(w, other, Remark(3, "elsewhere"));
    SaveProposalHead(w, other);
    return Status::Ok();
  });
  whole = LoadProposal(*store_, 7);
  ASSERT_TRUE(whole.ok() && whole->has_value());
  ASSERT_EQ((*whole)->comments.size(), 2u);
  EXPECT_TRUE((*whole)->comments[1].resolved);
  EXPECT_FALSE(LoadComment(*store_, 7, 3)->has_value());
  EXPECT_EQ((*LoadProposal(*store_, 8))->comments.size(), 1u);
}

// The committer remembers the heads it saved (LoadProposalHead then skips
// decoding them): what it remembers must be exactly what the bytes decode to,
// including after a revision with its agreement was added in the same mutation.
TEST_F(RecordsTest, AHeadRememberedFromItsSaveIsWhatItsBytesDecodeTo) {
  using domain::Verdict;
  Write([](WriteContext& w) {
    ProposalHead head = NewHead(w, 9, "aa");
    AddReview(w, head, Vote(1, 5, Verdict::kApprove, "fine"));
    AddComment(w, head, Remark(1, "a remark"));
    head.proposal.updated_at = 1234;
    SaveProposalHead(w, head);
    return Status::Ok();
  });
  auto snapshot = [](const ProposalHead& h) {
    return Json{{"proposal", domain::ToJson(h.proposal)},
                {"title", h.title},
                {"comments", h.comment_count},
                {"reviews", h.review_count}};
  };
  for (int round = 0; round < 2; ++round) {
    Json remembered;
    Write([&](WriteContext& w) -> Status {  // on the committer thread, which saved it
      NB_ASSIGN_OR_RETURN(auto h, LoadProposalHead(w, 9));
      if (!h) return Status::NotFound("proposal 9");
      remembered = snapshot(*h);
      return Status::Ok();
    });
    // This thread has not seen these bytes: it decodes them.
    auto fresh = LoadProposalHead(*store_, 9);
    ASSERT_TRUE(fresh.ok() && fresh->has_value());
    EXPECT_EQ(remembered, snapshot(**fresh)) << "round " << round;
    EXPECT_TRUE(remembered["proposal"]["revisions"][0]["proposed"].is_null());
    EXPECT_EQ(remembered["title"], "Proposed aa");
    // The next round reads a head saved by a vote on a loaded head, not by a creation.
    Write([&](WriteContext& w) -> Status {
      NB_ASSIGN_OR_RETURN(auto h, LoadProposalHead(w, 9));
      AddReview(w, *h, Vote(2 + round, 6, domain::Verdict::kRequestChanges, "not yet"));
      SaveProposalHead(w, *h);
      return Status::Ok();
    });
  }
}

// The "trend" analysis of a dataset revision, as queued.
domain::Job TrendAnalysis(int64_t dataset_revision) {
  domain::Job analysis;
  analysis.id = domain::DatasetJobId(dataset_revision, "trend");
  analysis.plugin = "trend";
  analysis.kind = "analysis";
  analysis.scope = domain::JobScope::kDataset;
  analysis.dataset_revision = dataset_revision;
  return analysis;
}

// The committer remembers the jobs it saved (the result of a job it leased a
// moment ago loads it again): what it remembers must be exactly what the
// bytes decode to, for a leased proposal check and for a dataset analysis
// whose in-memory record carries proposal fields its stored form leaves out.
TEST_F(RecordsTest, AJobRememberedFromItsSaveIsWhatItsBytesDecodeTo) {
  domain::Job check;
  check.id = domain::ProposalJobId(3, 2, "codebook");
  check.plugin = "codebook";
  check.kind = "check";
  check.proposal = 3;
  check.revision = 2;
  check.dataset_revision = 7;
  check.progress = 0.1;  // not exact in binary: the text must give the same double back
  domain::ApplyDispatch(check, "worker-a", 1000, 61000);
  domain::ApplyAttemptLoss(check, domain::AttemptLoss::kWorkerLost, "gone \xC3\xA9", 2000);
  domain::ApplyDispatch(check, "worker-b", 3000, 63000);
  domain::Job analysis = TrendAnalysis(7);
  analysis.proposal = 99;  // a dataset job's record has no proposal fields
  analysis.revision = 4;
  Write([&](WriteContext& w) {
    SaveJob(w, check);
    SaveJob(w, analysis);
    return Status::Ok();
  });
  for (const auto& id : {check.id, analysis.id}) {
    Json remembered;
    Write([&](WriteContext& w) -> Status {  // on the committer thread, which saved it
      NB_ASSIGN_OR_RETURN(auto j, LoadJob(w, id));
      if (!j) return Status::NotFound(id);
      remembered = domain::ToJson(*j);
      remembered["proposal_field"] = j->proposal;  // ToJson leaves it out for dataset jobs
      return Status::Ok();
    });
    auto fresh = LoadJob(*store_, id);  // this thread has not seen these bytes
    ASSERT_TRUE(fresh.ok() && fresh->has_value()) << id;
    Json decoded = domain::ToJson(**fresh);
    decoded["proposal_field"] = (*fresh)->proposal;
    EXPECT_EQ(remembered, decoded) << id;
  }
}

// SaveJob writes a job's indexes when it is created and only removes the
// open mark when it ends: through dispatches, a loss and a result, a job is
// open exactly until it ends and found by its proposal revision throughout.
TEST_F(RecordsTest, AJobIsOpenUntilItEndsAndFoundByItsRevisionThroughout) {
  domain::Job job;
  job.id = domain::ProposalJobId(5, 1, "codebook");
  job.plugin = "codebook";
  job.proposal = 5;
  job.revision = 1;
  domain::Job analysis = TrendAnalysis(3);
  auto open_ids = [&] {
    std::set<std::string> ids;
    EXPECT_TRUE(ForEachOpenJob(*store_, [&](domain::Job&& j) {
                  ids.insert(j.id);
                  return true;
                }).ok());
    return ids;
  };
  auto save = [&](const domain::Job& j) {
    Write([&](WriteContext& w) {
      SaveJob(w, j);
      return Status::Ok();
    });
  };
  auto by_revision = [&] {
    auto jobs = JobsOfProposalRevision(*store_, 5, 1);
    EXPECT_TRUE(jobs.ok());
    return jobs.ok() && jobs->size() == 1 ? (*jobs)[0].state : domain::JobState::kQueued;
  };
  save(job);
  save(analysis);
  EXPECT_EQ(open_ids(), (std::set<std::string>{job.id, analysis.id}));
  domain::ApplyDispatch(job, "worker-a", 1000, 61000);
  save(job);
  EXPECT_EQ(by_revision(), domain::JobState::kRunning);
  domain::ApplyAttemptLoss(job, domain::AttemptLoss::kWorkerLost, "gone", 2000);
  save(job);
  EXPECT_TRUE(open_ids().count(job.id));
  domain::ApplyDispatch(job, "worker-b", 3000, 63000);
  save(job);
  EXPECT_TRUE(open_ids().count(job.id));
  job.state = domain::JobState::kDone;
  job.outcome = "passed";
  save(job);
  EXPECT_EQ(open_ids(), std::set<std::string>{analysis.id});
  EXPECT_EQ(by_revision(), domain::JobState::kDone);
  domain::ApplyDispatch(analysis, "worker-a", 4000, 64000);
  analysis.state = domain::JobState::kFailed;
  save(analysis);
  EXPECT_TRUE(open_ids().empty());
  auto again = LoadJob(*store_, analysis.id);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->state, domain::JobState::kFailed);
}

// Tokens and users are loaded on every request through the same memo: a
// revoked token or a disabled user must be seen at the very next load.
TEST_F(RecordsTest, ARevokedTokenAndADisabledUserAreSeenAtTheNextLoad) {
  domain::User u;
  u.id = 4;
  u.name = "dana";
  domain::TokenRecord t;
  t.id = 1;
  t.user_id = 4;
  Write([&](WriteContext& w) {
    SaveUser(w, u);
    SaveToken(w, "abc", t);
    return Status::Ok();
  });
  for (int i = 0; i < 2; ++i) {  // the second load is the memo's
    EXPECT_FALSE((*LoadTokenByHash(*store_, "abc"))->revoked);
    EXPECT_FALSE((*LoadUser(*store_, 4))->disabled);
  }
  t.revoked = true;
  u.disabled = true;
  Write([&](WriteContext& w) {
    SaveUser(w, u);
    SaveToken(w, "abc", t);
    return Status::Ok();
  });
  EXPECT_TRUE((*LoadTokenByHash(*store_, "abc"))->revoked);
  EXPECT_TRUE((*LoadUser(*store_, 4))->disabled);
  EXPECT_FALSE(LoadTokenByHash(*store_, "abd")->has_value());
}

TEST_F(RecordsTest, DatasetRevisionsCountFromZero) {
  EXPECT_EQ(*DatasetRevision(*store_), 0);
  Write([](WriteContext& w) -> Status {
    NB_ASSIGN_OR_RETURN(int64_t ds, NextDatasetRevision(w));
    EXPECT_EQ(ds, 1);
    SaveDatasetRevision(w, ds, Json{{"revision", ds}, {"reason", "seed"}});
    // Visible to the rest of the same mutation.
    NB_ASSIGN_OR_RETURN(int64_t now, DatasetRevision(w));
    EXPECT_EQ(now, 1);
    return Status::Ok();
  });
  EXPECT_EQ(*DatasetRevision(*store_), 1);
  auto rec = LoadDatasetRevision(*store_, 1);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((**rec)["reason"], "seed");
  EXPECT_FALSE(LoadDatasetRevision(*store_, 2)->has_value());
}

TEST_F(RecordsTest, UsersAndTokensByNameAndOwner) {
  Write([](WriteContext& w) {
    for (int64_t id : {1, 256}) {
      domain::User u;
      u.id = id;
      u.name = "user" + std::to_string(id);
      u.stakeholder_group = "academia";
      SaveUser(w, u);
      domain::TokenRecord t;
      t.user_id = id;
      for (int64_t tid : {1, 2}) {
        t.id = id * 10 + tid;
        SaveToken(w, "hash-" + std::to_string(t.id), t);
      }
    }
    return Status::Ok();
  });
  auto found = FindUserByName(*store_, "user256");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, 256);
  EXPECT_FALSE(FindUserByName(*store_, "nobody")->has_value());
  int users = 0;
  ASSERT_TRUE(ForEachUser(*store_, [&](domain::User&&) { return ++users, true; }).ok());
  EXPECT_EQ(users, 2);

  auto tokens = TokensOfUser(*store_, 1);
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].first, "hash-11");
  EXPECT_EQ((*tokens)[1].second.id, 12);
  EXPECT_EQ(TokensOfUser(*store_, 256)->size(), 2u);
  auto by_hash = LoadTokenByHash(*store_, "hash-2562");
  ASSERT_TRUE(by_hash.ok() && by_hash->has_value());
  EXPECT_EQ((*by_hash)->user_id, 256);
}

}  // namespace
}  // namespace normbase::store
