#include "domain/proposal.h"

namespace normbase::domain {

std::optional<ProposalKind> ParseProposalKind(const std::string& s) {
  if (s == "add") return ProposalKind::kAdd;
  if (s == "recode") return ProposalKind::kRecode;
  if (s == "amend") return ProposalKind::kAmend;
  if (s == "retire") return ProposalKind::kRetire;
  return std::nullopt;
}

const char* KindName(ProposalKind k) {
  switch (k) {
    case ProposalKind::kAdd: return "add";
    case ProposalKind::kRecode: return "recode";
    case ProposalKind::kAmend: return "amend";
    case ProposalKind::kRetire: return "retire";
  }
  return "add";
}

std::optional<ProposalStatus> ParseProposalStatus(const std::string& s) {
  if (s == "open") return ProposalStatus::kOpen;
  if (s == "merged") return ProposalStatus::kMerged;
  if (s == "rejected") return ProposalStatus::kRejected;
  if (s == "withdrawn") return ProposalStatus::kWithdrawn;
  return std::nullopt;
}

const char* StatusName(ProposalStatus s) {
  switch (s) {
    case ProposalStatus::kOpen: return "open";
    case ProposalStatus::kMerged: return "merged";
    case ProposalStatus::kRejected: return "rejected";
    case ProposalStatus::kWithdrawn: return "withdrawn";
  }
  return "open";
}

std::optional<Verdict> ParseVerdict(const std::string& s) {
  if (s == "approve") return Verdict::kApprove;
  if (s == "request_changes") return Verdict::kRequestChanges;
  if (s == "comment") return Verdict::kComment;
  return std::nullopt;
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kApprove: return "approve";
    case Verdict::kRequestChanges: return "request_changes";
    case Verdict::kComment: return "comment";
  }
  return "comment";
}

Status CheckTransition(const Proposal& p, ProposalStatus to) {
  if (p.status != ProposalStatus::kOpen)
    return Status::Conflict("proposal " + std::to_string(p.id) + " is already " +
                            StatusName(p.status) + "; only an open proposal can become " +
                            StatusName(to));
  if (to == ProposalStatus::kOpen) return Status::Ok();
  return Status::Ok();
}

}  // namespace normbase::domain
