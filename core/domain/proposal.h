// Proposal: a reviewed change to the dataset — add, recode, amend or retire
// one agreement — with numbered revisions (like patch sets), reviews per
// revision, comments, and a status that only moves along the state machine:
//
//   open ──merge──▶ merged        open ──reject──▶ rejected
//   open ──withdraw──▶ withdrawn  (open ──revise──▶ open, next revision)
//
// "approved" and "conflicted" are not stored: they are computed from the
// votes, the policy and the agreement's current revision (see ReviewPolicy).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/agreement.h"
#include "domain/status.h"

namespace normbase::domain {

enum class ProposalKind { kAdd, kRecode, kAmend, kRetire };
enum class ProposalStatus { kOpen, kMerged, kRejected, kWithdrawn };
enum class Verdict { kApprove, kRequestChanges, kComment };

std::optional<ProposalKind> ParseProposalKind(const std::string& s);
const char* KindName(ProposalKind k);
std::optional<ProposalStatus> ParseProposalStatus(const std::string& s);
const char* StatusName(ProposalStatus s);
std::optional<Verdict> ParseVerdict(const std::string& s);
const char* VerdictName(Verdict v);

struct ProposalRevision {
  int number = 1;
  int64_t base_revision = 0;          // agreement revision it is based on; 0 for add
  std::optional<Agreement> proposed;  // the full record after the change; none for retire
  std::string rationale;
  int64_t author = 0;
  int64_t created_at = 0;
  // Votes given to revisions >= this count for this revision. Equal to
  // `number` unless the policy keeps votes across a rationale-only change.
  int votes_valid_from = 1;
};

struct Review {
  int64_t id = 0;
  int64_t reviewer = 0;
  std::string reviewer_name;
  std::string group;  // stakeholder group at the time of the vote
  Verdict verdict = Verdict::kComment;
  std::string text;
  int revision = 1;
  int64_t at = 0;
};

struct Comment {
  int64_t id = 0;
  int64_t author = 0;
  std::string author_name;
  std::string text;
  int revision = 1;
  std::string field;    // optional: the field it points at ("title", "year", ...)
  std::string element;  // optional: the element coding it points at
  bool resolved = false;
  int64_t resolved_by = 0;
  int64_t at = 0;
};

struct Proposal {
  int64_t id = 0;
  ProposalKind kind = ProposalKind::kAdd;
  ProposalStatus status = ProposalStatus::kOpen;
  std::string agreement_id;
  int64_t author = 0;
  std::string author_name;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::vector<ProposalRevision> revisions;  // never empty once created
  std::vector<Review> reviews;              // every vote ever given, in order
  std::vector<Comment> comments;
  // Set when the proposal closes.
  int64_t closed_by = 0;
  int64_t closed_at = 0;
  std::string close_reason;
  int64_t merged_dataset_revision = 0;

  const ProposalRevision& Current() const { return revisions.back(); }
  bool IsOpen() const { return status == ProposalStatus::kOpen; }
};

// State machine guard: may `p` move to `to`? Explains why not.
Status CheckTransition(const Proposal& p, ProposalStatus to);

}  // namespace normbase::domain
