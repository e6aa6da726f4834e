#include "domain/review_policy.h"

#include <algorithm>
#include <set>

namespace normbase::domain {

ReviewPolicy ReviewPolicy::Default() {
  ReviewPolicy p;
  PolicyRule retire = p.defaults;
  retire.approvals = 3;
  retire.distinct_groups = 3;
  p.per_kind[ProposalKind::kRetire] = retire;
  return p;
}

bool IsConflicted(const Proposal& p, int64_t current_agreement_revision) {
  if (!p.IsOpen()) return false;
  // An add conflicts once its id is taken; the others once their base is stale.
  if (p.kind == ProposalKind::kAdd) return current_agreement_revision != 0;
  return p.Current().base_revision != current_agreement_revision;
}

namespace {

std::string Plural(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string JoinLabels(const std::vector<std::string>& labels) {
  std::string out;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += (i + 1 == labels.size()) ? " or " : ", ";
    out += labels[i];
  }
  return out;
}

}  // namespace

void KeepLatestVote(std::vector<Review>& latest, const Review& r) {
  if (r.verdict == Verdict::kComment) return;
  for (auto& v : latest)
    if (v.reviewer == r.reviewer) {
      v = r;
      return;
    }
  latest.push_back(r);
}

ReviewStatus EvaluateReview(const Proposal& p, const PolicyRule& rule, const Codebook& cb,
                            int64_t current_agreement_revision,
                            const std::map<std::string, std::string>& checks) {
  ReviewStatus s;
  s.current_base = current_agreement_revision;
  const ProposalRevision& cur = p.Current();

  // Latest vote per reviewer; "comment" reviews are remarks, not votes.
  std::map<int64_t, const Review*> latest;
  for (const auto& r : p.reviews)
    if (r.verdict != Verdict::kComment && r.reviewer != p.author) latest[r.reviewer] = &r;

  std::map<std::string, GroupTally> tally;
  for (const auto& [reviewer, r] : latest) {
    if (r->revision < cur.votes_valid_from) {
      s.stale.push_back(*r);
      continue;
    }
    s.counted.push_back(*r);
    auto& t = tally[r->group];
    t.group = r->group;
    t.label = cb.StakeholderLabel(r->group);
    if (r->verdict == Verdict::kApprove) {
      ++t.approvals;
      ++s.approvals;
    } else {
      ++t.request_changes;
      ++s.request_changes;
    }
  }
  std::vector<std::string> approving_labels;
  for (auto& [g, t] : tally) {
    if (t.approvals > 0) {
      ++s.distinct_groups;
      approving_labels.push_back(t.label);
    }
    s.by_group.push_back(t);
  }

  const int need_approvals = std::max(0, rule.approvals - s.approvals);
  const int need_groups = std::max(0, rule.distinct_groups - s.distinct_groups);
  if (need_groups > 0 && !approving_labels.empty()) {
    s.missing.push_back("needs " + Plural(std::max(need_groups, need_approvals), "more approval",
                                          "more approvals") +
                        " from a stakeholder group other than " + JoinLabels(approving_labels));
  } else if (need_groups > 0 || need_approvals > 0) {
    std::string m = "needs " + Plural(std::max(need_groups, need_approvals), "more approval",
                                      "more approvals");
    if (need_groups > 0 && rule.distinct_groups > 1)
      m += " from " + std::to_string(rule.distinct_groups) + " different stakeholder groups";
    s.missing.push_back(m);
  }
  if (rule.blocking_request_changes) {
    for (const auto& r : s.counted)
      if (r.verdict == Verdict::kRequestChanges)
        s.missing.push_back(r.reviewer_name + " (" + cb.StakeholderLabel(r.group) +
                            ") requests changes");
  }
  for (const auto& name : rule.required_checks) {
    auto it = checks.find(name);
    const std::string state = it == checks.end() ? "pending" : it->second;
    if (state != "passed") s.missing.push_back("check '" + name + "' is " + state);
  }
  const bool votes_ok = s.missing.empty();

  s.conflicted = IsConflicted(p, current_agreement_revision);
  if (s.conflicted && p.kind == ProposalKind::kAdd)
    s.missing.push_back("conflicted: an agreement with id '" + p.agreement_id +
                        "' exists now; change the id or propose a recode instead");
  else if (s.conflicted)
    s.missing.push_back("conflicted: the agreement is at revision " +
                        std::to_string(current_agreement_revision) +
                        " but this proposal is based on revision " +
                        std::to_string(cur.base_revision) + "; post a revision on the new base");
  if (p.kind != ProposalKind::kAdd && current_agreement_revision == 0 && p.IsOpen())
    s.missing.push_back("the agreement '" + p.agreement_id + "' no longer exists");

  s.approved = votes_ok;
  s.can_merge = p.IsOpen() && s.missing.empty();
  if (!p.IsOpen())
    s.state = StatusName(p.status);
  else if (s.conflicted)
    s.state = "conflicted";
  else if (s.approved)
    s.state = "approved";
  else
    s.state = "open";
  if (!p.IsOpen()) s.missing.clear();
  return s;
}

}  // namespace normbase::domain
