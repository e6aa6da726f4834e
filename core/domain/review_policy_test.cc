#include "domain/review_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace normbase::domain {
namespace {

using ::testing::Test;

Codebook TestCodebook() {
  Codebook cb;
  cb.id = "normbase-starter";
  cb.version = 1;
  cb.categories = {
      {"cooperation", "Cooperation", "", {{"general-cooperation", "General cooperation", "", ""}}}};
  cb.agreement_kinds = {{"multilateral", "Multilateral"}, {"regional", "Regional"}};
  cb.stakeholder_groups = {{"government", "Government"},
                           {"private-sector", "Private sector"},
                           {"civil-society", "Civil society"},
                           {"technical-community", "Technical community"}};
  cb.Index();
  return cb;
}

constexpr int64_t kAuthor = 1;
constexpr int64_t kBase = 3;  // the agreement revision the proposal is based on

class EvaluateReviewTest : public Test {
 protected:
  EvaluateReviewTest() {
    p_.id = 12;
    p_.kind = ProposalKind::kRecode;
    p_.agreement_id = "paris-call-2018";
    p_.author = kAuthor;
    ProposalRevision r;
    r.number = 1;
    r.base_revision = kBase;
    r.author = kAuthor;
    r.votes_valid_from = 1;
    p_.revisions.push_back(r);
  }

  void Vote(int64_t reviewer, const std::string& name, const std::string& group, Verdict v,
            int revision = 0) {
    Review r;
    r.id = static_cast<int64_t>(p_.reviews.size()) + 1;
    r.reviewer = reviewer;
    r.reviewer_name = name;
    r.group = group;
    r.verdict = v;
    r.revision = revision == 0 ? p_.Current().number : revision;
    p_.reviews.push_back(r);
  }

  // A new revision; `keep_votes` is what a rationale-only change does.
  void Revise(bool keep_votes) {
    ProposalRevision r = p_.Current();
    r.number += 1;
    if (!keep_votes) r.votes_valid_from = r.number;
    p_.revisions.push_back(r);
  }

  ReviewStatus Eval(const std::map<std::string, std::string>& checks = {},
                    int64_t current = kBase) {
    return EvaluateReview(p_, rule_, cb_, current, checks);
  }

  Codebook cb_ = TestCodebook();
  PolicyRule rule_;  // the defaults: 2 approvals from 2 groups, blocking
  Proposal p_;
};

TEST_F(EvaluateReviewTest, NoVotes) {
  ReviewStatus s = Eval();
  EXPECT_EQ(s.state, "open");
  EXPECT_FALSE(s.approved);
  EXPECT_FALSE(s.can_merge);
  EXPECT_EQ(s.missing,
            std::vector<std::string>{"needs 2 more approvals from 2 different stakeholder groups"});
}

TEST_F(EvaluateReviewTest, SelfApprovalIsNotCounted) {
  Vote(kAuthor, "ana", "government", Verdict::kApprove);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.approvals, 0);
  EXPECT_TRUE(s.counted.empty());
  EXPECT_FALSE(s.approved);
}

TEST_F(EvaluateReviewTest, OneApprovalNeedsAnotherGroup) {
  Vote(2, "bob", "government", Verdict::kApprove);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.approvals, 1);
  EXPECT_EQ(s.distinct_groups, 1);
  EXPECT_EQ(s.missing, std::vector<std::string>{
                           "needs 1 more approval from a stakeholder group other than Government"});
  EXPECT_EQ(s.state, "open");
}

TEST_F(EvaluateReviewTest, TwoApprovalsFromOneGroupAreNotEnough) {
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "cy", "government", Verdict::kApprove);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.approvals, 2);
  EXPECT_EQ(s.distinct_groups, 1);
  EXPECT_FALSE(s.approved);
  EXPECT_EQ(s.missing, std::vector<std::string>{
                           "needs 1 more approval from a stakeholder group other than Government"});
}

TEST_F(EvaluateReviewTest, TwoGroupsApprove) {
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  ReviewStatus s = Eval();
  EXPECT_TRUE(s.missing.empty()) << s.missing.front();
  EXPECT_TRUE(s.approved);
  EXPECT_TRUE(s.can_merge);
  EXPECT_EQ(s.state, "approved");
  EXPECT_EQ(s.approvals, 2);
  EXPECT_EQ(s.distinct_groups, 2);
  ASSERT_EQ(s.by_group.size(), 2u);
  EXPECT_EQ(s.by_group[0].group, "government");
  EXPECT_EQ(s.by_group[0].label, "Government");
  EXPECT_EQ(s.by_group[0].approvals, 1);
  EXPECT_EQ(s.by_group[1].label, "Private sector");
}

TEST_F(EvaluateReviewTest, CommentsAreNotVotes) {
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(2, "bob", "government", Verdict::kComment);  // does not withdraw the approval
  Vote(3, "eve", "private-sector", Verdict::kComment);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.approvals, 1);
  EXPECT_EQ(s.counted.size(), 1u);
}

TEST_F(EvaluateReviewTest, RequestChangesBlocks) {
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  Vote(4, "dan", "civil-society", Verdict::kRequestChanges);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.request_changes, 1);
  EXPECT_FALSE(s.approved);
  EXPECT_FALSE(s.can_merge);
  EXPECT_EQ(s.state, "open");
  EXPECT_EQ(s.missing, std::vector<std::string>{"dan (Civil society) requests changes"});
}

TEST_F(EvaluateReviewTest, RequestChangesDoesNotBlockWhenTheRuleSaysSo) {
  rule_.blocking_request_changes = false;
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  Vote(4, "dan", "civil-society", Verdict::kRequestChanges);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.request_changes, 1);
  EXPECT_TRUE(s.approved);
  EXPECT_TRUE(s.can_merge);
}

TEST_F(EvaluateReviewTest, LatestVoteOfAReviewerCounts) {
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kRequestChanges);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.approvals, 1);
  EXPECT_EQ(s.request_changes, 1);
  EXPECT_EQ(s.counted.size(), 2u);
  EXPECT_FALSE(s.approved);

  Vote(3, "eve", "private-sector", Verdict::kApprove);  // changed her mind again
  s = Eval();
  EXPECT_EQ(s.approvals, 2);
  EXPECT_EQ(s.request_changes, 0);
  EXPECT_TRUE(s.approved);
}

TEST_F(EvaluateReviewTest, VotesOnAnOlderRevisionAreStale) {
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  ASSERT_TRUE(Eval().approved);
  Revise(/*keep_votes=*/false);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.approvals, 0);
  EXPECT_TRUE(s.counted.empty());
  EXPECT_EQ(s.stale.size(), 2u);
  EXPECT_FALSE(s.approved);
  EXPECT_EQ(s.state, "open");

  Vote(2, "bob", "government", Verdict::kApprove);  // re-approves revision 2
  s = Eval();
  EXPECT_EQ(s.approvals, 1);
  EXPECT_EQ(s.stale.size(), 1u);
  EXPECT_EQ(s.stale[0].reviewer, 3);
}

TEST_F(EvaluateReviewTest, RationaleOnlyRevisionKeepsVotes) {
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  Revise(/*keep_votes=*/true);
  ASSERT_EQ(p_.Current().number, 2);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.approvals, 2);
  EXPECT_TRUE(s.stale.empty());
  EXPECT_TRUE(s.approved);
}

TEST_F(EvaluateReviewTest, StaleRequestChangesDoesNotBlock) {
  Vote(4, "dan", "civil-society", Verdict::kRequestChanges);
  Revise(/*keep_votes=*/false);
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.request_changes, 0);
  EXPECT_EQ(s.stale.size(), 1u);
  EXPECT_TRUE(s.approved);
}

TEST_F(EvaluateReviewTest, MoreApprovalsThanGroupsNeeded) {
  rule_.approvals = 3;
  rule_.distinct_groups = 2;
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  ReviewStatus s = Eval();
  EXPECT_FALSE(s.approved);
  // The groups are already there: only the count is missing.
  EXPECT_EQ(s.missing, std::vector<std::string>{"needs 1 more approval"});
}

TEST_F(EvaluateReviewTest, ThirdGroupNamesTheGroupsThatApproved) {
  rule_.approvals = 3;
  rule_.distinct_groups = 3;
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  ReviewStatus s = Eval();
  EXPECT_EQ(s.missing, std::vector<std::string>{"needs 1 more approval from a stakeholder group "
                                                "other than Government or Private sector"});
}

TEST_F(EvaluateReviewTest, SingleApproverRule) {
  rule_.approvals = 1;
  rule_.distinct_groups = 1;
  EXPECT_EQ(Eval().missing, std::vector<std::string>{"needs 1 more approval"});
  Vote(2, "bob", "government", Verdict::kApprove);
  EXPECT_TRUE(Eval().approved);
}

TEST_F(EvaluateReviewTest, RetireNeedsThreeFromThreeGroupsByDefault) {
  const ReviewPolicy policy = ReviewPolicy::Default();
  EXPECT_EQ(policy.For(ProposalKind::kRetire).approvals, 3);
  EXPECT_EQ(policy.For(ProposalKind::kRetire).distinct_groups, 3);
  EXPECT_EQ(policy.For(ProposalKind::kAdd).approvals, 2);
  EXPECT_EQ(policy.For(ProposalKind::kRecode).distinct_groups, 2);

  p_.kind = ProposalKind::kRetire;
  p_.revisions[0].proposed.reset();
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  rule_ = policy.For(ProposalKind::kRetire);
  ReviewStatus s = Eval();
  EXPECT_FALSE(s.approved);
  ASSERT_EQ(s.missing.size(), 1u);
  EXPECT_EQ(s.missing[0],
            "needs 1 more approval from a stakeholder group other than Government or Private "
            "sector");
  Vote(4, "dan", "civil-society", Verdict::kApprove);
  s = Eval();
  EXPECT_TRUE(s.approved);
  EXPECT_TRUE(s.can_merge);
  // The same votes pass the default rule for a recode.
  EXPECT_TRUE(EvaluateReview(p_, policy.For(ProposalKind::kRecode), cb_, kBase).approved);
}

TEST_F(EvaluateReviewTest, RequiredChecks) {
  rule_.required_checks = {"links", "evidence"};
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  ReviewStatus s = Eval({{"links", "passed"}});
  EXPECT_FALSE(s.approved);
  EXPECT_EQ(s.missing, std::vector<std::string>{"check 'evidence' is pending"});
  s = Eval({{"links", "failed"}, {"evidence", "pending"}});
  EXPECT_EQ(s.missing,
            (std::vector<std::string>{"check 'links' is failed", "check 'evidence' is pending"}));
  s = Eval({{"links", "passed"}, {"evidence", "passed"}, {"unrelated", "failed"}});
  EXPECT_TRUE(s.approved);
  EXPECT_TRUE(s.can_merge);
}

TEST_F(EvaluateReviewTest, StaleBaseIsConflicted) {
  Vote(2, "bob", "government", Verdict::kApprove);
  Vote(3, "eve", "private-sector", Verdict::kApprove);
  ReviewStatus s = Eval({}, kBase + 1);
  EXPECT_TRUE(s.conflicted);
  EXPECT_EQ(s.state, "conflicted");
  EXPECT_TRUE(s.approved);    // the votes are fine ...
  EXPECT_FALSE(s.can_merge);  // ... but the base moved
  EXPECT_EQ(s.current_base, kBase + 1);
  EXPECT_EQ(s.missing, std::vector<std::string>{
                           "conflicted: the agreement is at revision 4 but this proposal is based "
                           "on revision 3; post a revision on the new base"});
  EXPECT_TRUE(IsConflicted(p_, kBase + 1));
  EXPECT_FALSE(IsConflicted(p_, kBase));
}

TEST_F(EvaluateReviewTest, AddConflictsOnceTheIdIsTaken) {
  p_.kind = ProposalKind::kAdd;
  p_.revisions[0].base_revision = 0;
  EXPECT_FALSE(Eval({}, 0).conflicted);
  ReviewStatus s = Eval({}, 1);
  EXPECT_TRUE(s.conflicted);
  EXPECT_EQ(s.state, "conflicted");
  ASSERT_FALSE(s.missing.empty());
  EXPECT_NE(s.missing.back().find("an agreement with id 'paris-call-2018' exists now"),
            std::string::npos)
      << s.missing.back();
}

TEST_F(EvaluateReviewTest, TargetThatNoLongerExists) {
  ReviewStatus s = Eval({}, 0);
  EXPECT_TRUE(s.conflicted);
  EXPECT_FALSE(s.can_merge);
  EXPECT_EQ(s.missing.back(), "the agreement 'paris-call-2018' no longer exists");
}

TEST_F(EvaluateReviewTest, ClosedProposalReportsItsStatus) {
  Vote(2, "bob", "government", Verdict::kApprove);
  p_.status = ProposalStatus::kMerged;
  ReviewStatus s = Eval({}, kBase + 1);
  EXPECT_EQ(s.state, "merged");
  EXPECT_FALSE(s.conflicted);
  EXPECT_FALSE(s.can_merge);
  EXPECT_TRUE(s.missing.empty());
  p_.status = ProposalStatus::kWithdrawn;
  EXPECT_EQ(Eval().state, "withdrawn");
  EXPECT_FALSE(IsConflicted(p_, kBase + 1));
}

TEST(CheckTransitionTest, OnlyOpenProposalsMove) {
  Proposal p;
  p.id = 5;
  EXPECT_TRUE(CheckTransition(p, ProposalStatus::kMerged).ok());
  p.status = ProposalStatus::kRejected;
  Status s = CheckTransition(p, ProposalStatus::kMerged);
  EXPECT_TRUE(s.IsConflict());
  EXPECT_EQ(s.message(), "proposal 5 is already rejected; only an open proposal can become merged");
}

TEST(ProposalNamesTest, ParseAndNameRoundTrip) {
  for (auto k :
       {ProposalKind::kAdd, ProposalKind::kRecode, ProposalKind::kAmend, ProposalKind::kRetire})
    EXPECT_EQ(ParseProposalKind(KindName(k)), k);
  for (auto v : {Verdict::kApprove, Verdict::kRequestChanges, Verdict::kComment})
    EXPECT_EQ(ParseVerdict(VerdictName(v)), v);
  EXPECT_EQ(ParseVerdict("request_changes"), Verdict::kRequestChanges);
  EXPECT_FALSE(ParseProposalKind("delete").has_value());
  EXPECT_FALSE(ParseProposalStatus("approved").has_value());  // computed, never stored
}

}  // namespace
}  // namespace normbase::domain
