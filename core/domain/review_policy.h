// ReviewPolicy: when is a proposal legitimate enough to merge? A pure function
// of the proposal's votes, the policy for its kind, the checks of its current
// revision and whether its base is stale. The result says, in plain words,
// what is still missing, so people know what to do next.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "domain/codebook.h"
#include "domain/proposal.h"

namespace normbase::domain {

struct PolicyRule {
  int approvals = 2;                    // approvals needed on the current revision
  int distinct_groups = 2;              // from this many different stakeholder groups
  bool blocking_request_changes = true; // any current "request changes" blocks the merge
  std::vector<std::string> required_checks;  // plugin checks that must have passed
  bool moderator_merge = true;          // merge needs the moderator role (else any approver)
  bool keep_votes_on_rationale_change = true;  // a rationale-only revision keeps votes
};

struct ReviewPolicy {
  PolicyRule defaults;
  std::map<ProposalKind, PolicyRule> per_kind;  // overrides for a kind

  const PolicyRule& For(ProposalKind k) const {
    auto it = per_kind.find(k);
    return it == per_kind.end() ? defaults : it->second;
  }
  // The sensible defaults: 2 approvals from 2 groups; retiring needs 3 from 3.
  static ReviewPolicy Default();
};

struct GroupTally {
  std::string group;
  std::string label;
  int approvals = 0;
  int request_changes = 0;
};

struct ReviewStatus {
  std::string state;  // open | approved | conflicted | merged | rejected | withdrawn
  int approvals = 0;
  int distinct_groups = 0;
  int request_changes = 0;
  std::vector<GroupTally> by_group;
  std::vector<Review> counted;  // the latest vote of each reviewer on the current revision
  std::vector<Review> stale;    // votes given to an older revision: shown, not counted
  std::vector<std::string> missing;  // plain words: "needs 1 more approval from ..."
  bool conflicted = false;
  bool approved = false;  // the policy's vote and check rules are met
  bool can_merge = false; // approved, open and not conflicted
  int64_t current_base = 0;  // the agreement's current revision (for conflicts)
};

// `current_agreement_revision` is the revision of the target agreement now
// (0 when it does not exist); `checks` maps check name -> "passed" | "failed"
// | "error" | "pending" for the current revision.
ReviewStatus EvaluateReview(const Proposal& p, const PolicyRule& rule, const Codebook& codebook,
                            int64_t current_agreement_revision,
                            const std::map<std::string, std::string>& checks = {});

// What EvaluateReview reads of a proposal's reviews is each reviewer's latest
// vote ("comment" verdicts are remarks, not votes). Adding `r` to a list kept
// with this function, and evaluating that list, gives the same ReviewStatus as
// the whole history: the store keeps such a list in a proposal's head record
// so that a vote does not read every earlier review.
void KeepLatestVote(std::vector<Review>& latest, const Review& r);

// Whether a proposal of this kind is stale against the agreement now.
bool IsConflicted(const Proposal& p, int64_t current_agreement_revision);

}  // namespace normbase::domain
