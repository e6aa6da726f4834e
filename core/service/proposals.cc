#include "service/proposals.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <set>

#include "domain/diff.h"
#include "service/jobs.h"
#include "store/records.h"

namespace normbase::service {

using domain::Agreement;
using domain::Proposal;
using domain::ProposalKind;
using domain::ProposalRevision;
using domain::ProposalStatus;
using domain::Role;
using domain::User;

namespace {

const std::set<std::string> kAmendableFields = {
    "title",      "year",          "date",          "kind",
    "leading_stakeholders", "parties", "source_url", "metadata_sources",
    "bpf_inclusion", "coding_status", "notes"};

Status RefuseUnknownKeys(const Json& body, const std::set<std::string>& known, const char* what) {
  for (auto it = body.begin(); it != body.end(); ++it)
    if (!known.count(it.key()))
      return Status::InvalidArgument(it.key() + ": unknown field for " + what);
  return Status::Ok();
}

Result<std::string> OptionalText(const Json& body, const char* key, size_t max) {
  if (!body.contains(key) || body[key].is_null()) return std::string();
  if (!body[key].is_string()) return Status::InvalidArgument(std::string(key) + ": expected a string");
  std::string s = body[key].get<std::string>();
  if (s.size() > max)
    return Status::TooLarge(std::string(key) + ": longer than " + std::to_string(max) + " bytes");
  return s;
}

Result<std::optional<int64_t>> OptionalInt(const Json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null()) return std::optional<int64_t>();
  if (!body[key].is_number_integer())
    return Status::InvalidArgument(std::string(key) + ": expected an integer");
  return std::optional<int64_t>(body[key].get<int64_t>());
}

// Bounds on what one proposal accumulates. Comments and reviews are records of
// their own (store/records.h), so these bound what a GET of the proposal shows.
constexpr size_t kMaxCommentsPerProposal = 500;
constexpr size_t kMaxReviewsPerProposal = 1000;
constexpr size_t kMaxRevisionsPerProposal = 200;

std::string ProposalName(int64_t id) { return "proposal " + std::to_string(id); }

// Revision `number` of `p` whole, with its proposed agreement (a head's
// revisions have none). The head lists it, so a missing record is corruption.
Result<ProposalRevision> LoadRevision(const store::Reader& r, const Proposal& p, int number) {
  NB_ASSIGN_OR_RETURN(auto rev, store::LoadProposalRevision(r, p.id, number));
  if (!rev)
    return Status::Internal(ProposalName(p.id) + " has no stored record of its revision " +
                            std::to_string(number));
  return std::move(*rev);
}

domain::Event ProposalEvent(const std::string& type, int64_t actor, const Proposal& p, const Json& payload) {
  domain::Event e;
  e.type = type;
  e.actor = actor;
  e.subjects["proposal"] = std::to_string(p.id);
  e.subjects["agreement"] = p.agreement_id;
  e.payload = domain::Dump(payload);
  return e;
}

const char* ChangeName(ProposalKind k) {
  switch (k) {
    case ProposalKind::kAdd: return "added";
    case ProposalKind::kRecode: return "recoded";
    case ProposalKind::kAmend: return "amended";
    case ProposalKind::kRetire: return "retired";
  }
  return "changed";
}

}  // namespace

// ---- building revisions ----------------------------------------------------

Result<ProposalRevision> Proposals::BuildRevision(const store::Reader& r, ProposalKind kind,
                                                  const std::string& agreement_id,
                                                  const Json& body) const {
  auto cb = codebook_.Get();
  if (!cb) return Status::Unavailable("no codebook is loaded yet");
  ProposalRevision rev;
  NB_ASSIGN_OR_RETURN(rev.rationale, OptionalText(body, "rationale", config_.max_rationale));

  if (kind == ProposalKind::kAdd) {
    if (!body.contains("agreement"))
      return Status::InvalidArgument("agreement: is required for an add proposal (the full record)");
    NB_ASSIGN_OR_RETURN(Agreement a, domain::AgreementFromJson(body["agreement"], domain::Decode::kInput));
    a.revision = 0;
    a.retired = false;
    if (!agreement_id.empty() && a.id != agreement_id)
      return Status::InvalidArgument("agreement.id: an add proposal keeps its id '" + agreement_id +
                                     "'; withdraw it and propose again to use another id");
    NB_RETURN_IF_ERROR(domain::ValidateAgreement(a, *cb, config_.limits));
    rev.proposed = std::move(a);
    return rev;
  }

  NB_ASSIGN_OR_RETURN(auto base_rev, OptionalInt(body, "base_revision"));
  if (!base_rev)
    return Status::InvalidArgument("base_revision: is required: the agreement revision this change is based on");
  NB_ASSIGN_OR_RETURN(auto current, store::LoadAgreement(r, agreement_id));
  if (!current) return Status::NotFound("agreement '" + agreement_id + "' does not exist");
  if (current->retired)
    return Status::Conflict("agreement '" + agreement_id + "' is retired (revision " +
                            std::to_string(current->revision) + ")");
  if (*base_rev != current->revision)
    return Status::Conflict("base_revision " + std::to_string(*base_rev) + " is stale: agreement '" +
                            agreement_id + "' is at revision " + std::to_string(current->revision) +
                            "; base your change on the current revision");
  rev.base_revision = *base_rev;

  if (kind == ProposalKind::kRetire) return rev;

  Agreement proposed = *current;
  if (kind == ProposalKind::kRecode) {
    if (!body.contains("codings"))
      return Status::InvalidArgument("codings: is required for a recode (the full new coding: element -> {evidence, note})");
    NB_ASSIGN_OR_RETURN(proposed.codings, domain::CodingsFromJson(body["codings"], "codings"));
    if (body.contains("coding_status")) {
      NB_ASSIGN_OR_RETURN(proposed.coding_status, OptionalText(body, "coding_status", config_.limits.max_text));
    }
  } else {  // amend
    if (!body.contains("fields") || !body["fields"].is_object())
      return Status::InvalidArgument("fields: is required for an amend (an object of the fields to change)");
    Json merged = domain::ToJson(*current);
    for (auto it = body["fields"].begin(); it != body["fields"].end(); ++it) {
      if (!kAmendableFields.count(it.key()))
        return Status::InvalidArgument("fields." + it.key() +
                                       (it.key() == "codings" ? ": use a recode proposal to change codings"
                                        : it.key() == "id"    ? ": an agreement's id cannot change"
                                                              : ": not a field that can be amended"));
      merged[it.key()] = *it;
    }
    merged.erase("revision");
    merged.erase("retired");
    merged.erase("coded");
    NB_ASSIGN_OR_RETURN(proposed, domain::AgreementFromJson(merged, domain::Decode::kInput, "fields"));
    proposed.revision = current->revision;
  }
  NB_RETURN_IF_ERROR(domain::ValidateAgreement(proposed, *cb, config_.limits));
  rev.proposed = std::move(proposed);
  return rev;
}

Status Proposals::CheckAddIsNew(const store::Reader& r, const Agreement& a) const {
  NB_ASSIGN_OR_RETURN(auto existing, store::LoadAgreement(r, a.id));
  if (existing)
    return Status::AlreadyExists("agreement '" + a.id + "' exists already (\"" + existing->title +
                                 "\"); propose a recode or amend of it instead");
  const std::string norm = domain::NormalizeTitle(a.title);
  Status match;
  NB_RETURN_IF_ERROR(store::ForEachAgreement(r, "", [&](Agreement&& other) {
    if (!other.retired && domain::NormalizeTitle(other.title) == norm) {
      match = Status::AlreadyExists("the title matches existing agreement '" + other.id + "' (\"" +
                                    other.title + "\")");
      return false;
    }
    return true;
  }));
  return match;
}

// ---- views -----------------------------------------------------------------

Result<domain::ReviewStatus> Proposals::Evaluate(const store::Reader& r, const Proposal& p) const {
  auto cb = codebook_.Get();
  if (!cb) return Status::Unavailable("no codebook is loaded yet");
  NB_ASSIGN_OR_RETURN(const int64_t rev, store::CurrentAgreementRevision(r, p.agreement_id));
  const domain::PolicyRule& rule = config_.policy.For(p.kind);
  // Only the rule's required checks enter the review status. Most policies
  // name none, and every comment's event carries a status: reading the
  // revision's job records for it would be wasted.
  std::map<std::string, std::string> checks;
  if (!rule.required_checks.empty()) {
    NB_ASSIGN_OR_RETURN(checks, CheckStates(r, p.id, p.Current().number));
  }
  return domain::EvaluateReview(p, rule, *cb, rev, checks);
}

Result<Json> Proposals::Summary(const store::Reader& r, const store::ProposalHead& head) const {
  const Proposal& p = head.proposal;
  NB_ASSIGN_OR_RETURN(auto st, Evaluate(r, p));
  std::string title = head.title;
  if (title.empty()) {  // a retire proposes no record: the agreement's own title
    NB_ASSIGN_OR_RETURN(auto a, store::LoadAgreement(r, p.agreement_id));
    if (a) title = a->title;
  }
  Json review = domain::ToJson(st);
  review.erase("votes");
  review.erase("stale_votes");
  return Json{{"id", p.id},
              {"kind", domain::KindName(p.kind)},
              {"state", st.state},
              {"status", st.state},
              {"agreement_id", p.agreement_id},
              {"title", title},
              {"author", p.author},
              {"author_name", p.author_name},
              {"revision", p.Current().number},
              {"base_revision", p.Current().base_revision},
              {"created_at", p.created_at},
              {"updated_at", p.updated_at},
              {"review", review}};
}

Result<Json> Proposals::View(const store::Reader& r, const Proposal& p) const {
  NB_ASSIGN_OR_RETURN(auto st, Evaluate(r, p));
  Json j = domain::ToJson(p);
  j["stored_status"] = j["status"];
  j["status"] = st.state;
  j["state"] = st.state;
  j["revision"] = p.Current().number;
  j["review"] = domain::ToJson(st);
  NB_ASSIGN_OR_RETURN(j["checks"], ChecksOf(r, p.id, p.Current().number));
  NB_ASSIGN_OR_RETURN(j["impact"], ImpactOf(r, p.id, p.Current().number));
  return j;
}

Result<Json> Proposals::ViewOf(const store::Reader& r, int64_t id) const {
  NB_ASSIGN_OR_RETURN(auto p, store::LoadProposal(r, id));
  if (!p) return Status::NotFound(ProposalName(id) + " does not exist");
  return View(r, *p);
}

Result<Json> Proposals::SaveWithEvent(store::WriteContext& w, store::ProposalHead& head,
                                      const std::string& type, int64_t actor, Json extra) const {
  Proposal& p = head.proposal;
  p.updated_at = w.Now();
  store::SaveProposalHead(w, head);
  NB_ASSIGN_OR_RETURN(Json summary, Summary(w, head));
  Json payload{{"proposal", std::move(summary)}};
  if (!extra.is_null()) payload.update(extra);
  w.AppendEvent(ProposalEvent(type, actor, p, payload));
  return payload;
}

Result<store::ProposalHead> Proposals::LoadOpen(const store::Reader& r, int64_t id) const {
  NB_ASSIGN_OR_RETURN(auto head, store::LoadProposalHead(r, id));
  if (!head) return Status::NotFound(ProposalName(id) + " does not exist");
  if (!head->proposal.IsOpen())
    return Status::Conflict(ProposalName(id) + " is " + domain::StatusName(head->proposal.status) +
                            "; only open proposals can change");
  return std::move(*head);
}

// ---- writes ----------------------------------------------------------------

void Proposals::Create(const User& actor, const Json& body, Done<Json> done) {
  if (!body.is_object()) return done(Status::InvalidArgument("body: expected a JSON object"));
  if (auto s = RefuseUnknownKeys(body, {"kind", "agreement", "agreement_id", "base_revision", "codings",
                                        "coding_status", "fields", "rationale"},
                                 "a proposal");
      !s.ok())
    return done(s);
  if (!body.contains("kind") || !body["kind"].is_string())
    return done(Status::InvalidArgument("kind: is required: one of add, recode, amend, retire"));
  auto kind = domain::ParseProposalKind(body["kind"].get<std::string>());
  if (!kind)
    return done(Status::InvalidArgument("kind: '" + body["kind"].get<std::string>() +
                                        "' is not one of add, recode, amend, retire"));
  std::string agreement_id;
  if (*kind != ProposalKind::kAdd) {
    if (!body.contains("agreement_id") || !body["agreement_id"].is_string())
      return done(Status::InvalidArgument("agreement_id: is required for a " +
                                          std::string(domain::KindName(*kind)) + " proposal"));
    agreement_id = body["agreement_id"].get<std::string>();
  }
  SubmitFor<Json>(store_, [this, actor, body, kind = *kind, agreement_id](store::WriteContext& w) -> Result<Json> {
    NB_ASSIGN_OR_RETURN(ProposalRevision rev, BuildRevision(w, kind, agreement_id, body));
    if (rev.rationale.empty())
      return Status::InvalidArgument("rationale: is required: say why the dataset should change");
    store::ProposalHead head;
    Proposal& p = head.proposal;
    p.kind = kind;
    p.agreement_id = kind == ProposalKind::kAdd ? rev.proposed->id : agreement_id;
    if (kind == ProposalKind::kAdd) {
      NB_ASSIGN_OR_RETURN(auto existing, store::LoadAgreement(w, p.agreement_id));
      if (existing)
        return Status::AlreadyExists("agreement '" + p.agreement_id +
                                     "' exists already; propose a recode or amend of it instead");
    }
    NB_ASSIGN_OR_RETURN(p.id, w.NextId("proposal"));
    p.author = actor.id;
    p.author_name = actor.name;
    p.created_at = w.Now();
    rev.number = 1;
    rev.votes_valid_from = 1;
    rev.author = actor.id;
    rev.created_at = w.Now();
    store::AddRevision(w, head, std::move(rev));
    NB_RETURN_IF_ERROR(SaveWithEvent(w, head, "proposal.created", actor.id, Json()).status());
    QueueProposalJobs(w, config_.jobs, p);
    return View(w, p);  // a new proposal is whole: no comment or review yet
  }, std::move(done));
}

void Proposals::Revise(const User& actor, int64_t id, const Json& body, Done<Json> done) {
  if (!body.is_object()) return done(Status::InvalidArgument("body: expected a JSON object"));
  if (auto s = RefuseUnknownKeys(body, {"agreement", "base_revision", "codings", "coding_status",
                                        "fields", "rationale"},
                                 "a revision");
      !s.ok())
    return done(s);
  SubmitFor<Json>(store_, [this, actor, id, body](store::WriteContext& w) -> Result<Json> {
    NB_ASSIGN_OR_RETURN(store::ProposalHead head, LoadOpen(w, id));
    Proposal& p = head.proposal;
    if (p.author != actor.id && !domain::RoleAllows(actor.role, Role::kAdmin))
      return Status::PermissionDenied("only the author of " + ProposalName(id) + " (" + p.author_name +
                                      ") can revise it");
    if (p.revisions.size() >= kMaxRevisionsPerProposal)
      return Status::TooLarge(ProposalName(id) + " has " + std::to_string(p.revisions.size()) +
                              " revisions, the most one proposal keeps; withdraw it and propose afresh");
    NB_ASSIGN_OR_RETURN(ProposalRevision rev, BuildRevision(w, p.kind, p.agreement_id, body));
    NB_ASSIGN_OR_RETURN(const ProposalRevision prev, LoadRevision(w, p, p.Current().number));
    if (rev.rationale.empty()) rev.rationale = prev.rationale;
    const bool same_content = rev.base_revision == prev.base_revision &&
                              rev.proposed.has_value() == prev.proposed.has_value() &&
                              (!rev.proposed || rev.proposed->SameContent(*prev.proposed));
    if (same_content && rev.rationale == prev.rationale)
      return Status::InvalidArgument("this revision changes nothing compared with revision " +
                                     std::to_string(prev.number));
    rev.number = prev.number + 1;
    rev.author = actor.id;
    rev.created_at = w.Now();
    rev.votes_valid_from = same_content && config_.policy.For(p.kind).keep_votes_on_rationale_change
                               ? prev.votes_valid_from
                               : rev.number;
    store::AddRevision(w, head, std::move(rev));
    NB_RETURN_IF_ERROR(SaveWithEvent(w, head, "proposal.revised", actor.id, Json()).status());
    QueueProposalJobs(w, config_.jobs, p);
    return ViewOf(w, id);
  }, std::move(done));
}

void Proposals::AddComment(const User& actor, int64_t id, const Json& body, Done<Json> done) {
  if (!body.is_object()) return done(Status::InvalidArgument("body: expected a JSON object {text, field?, element?}"));
  if (auto s = RefuseUnknownKeys(body, {"text", "field", "element"}, "a comment"); !s.ok()) return done(s);
  auto cb = codebook_.Get();
  SubmitFor<Json>(store_, [this, actor, id, body, cb](store::WriteContext& w) -> Result<Json> {
    NB_ASSIGN_OR_RETURN(auto head, store::LoadProposalHead(w, id));
    if (!head) return Status::NotFound(ProposalName(id) + " does not exist");
    domain::Comment c;
    NB_ASSIGN_OR_RETURN(c.text, OptionalText(body, "text", config_.max_rationale));
    if (c.text.empty()) return Status::InvalidArgument("text: is required");
    NB_ASSIGN_OR_RETURN(c.field, OptionalText(body, "field", 100));
    NB_ASSIGN_OR_RETURN(c.element, OptionalText(body, "element", 100));
    if (!c.field.empty() && !kAmendableFields.count(c.field) && c.field != "rationale" && c.field != "codings")
      return Status::InvalidArgument("field: '" + c.field + "' is not a field of an agreement");
    if (!c.element.empty() && cb && !cb->HasElement(c.element))
      return Status::InvalidArgument("element: '" + c.element + "' is not an element of the codebook");
    if (head->comment_count >= static_cast<int64_t>(kMaxCommentsPerProposal))
      return Status::TooLarge(ProposalName(id) + " has " + std::to_string(head->comment_count) +
                              " comments, the most one proposal keeps; continue in a new proposal");
    NB_ASSIGN_OR_RETURN(c.id, w.NextId("comment"));
    c.author = actor.id;
    c.author_name = actor.name;
    c.revision = head->proposal.Current().number;
    c.at = w.Now();
    store::AddComment(w, *head, c);
    return SaveWithEvent(w, *head, "comment.added", actor.id, Json{{"comment", domain::ToJson(c)}});
  }, std::move(done));
}

void Proposals::ResolveComment(const User& actor, int64_t id, int64_t comment_id, Done<Json> done) {
  SubmitFor<Json>(store_, [this, actor, id, comment_id](store::WriteContext& w) -> Result<Json> {
    NB_ASSIGN_OR_RETURN(auto head, store::LoadProposalHead(w, id));
    if (!head) return Status::NotFound(ProposalName(id) + " does not exist");
    NB_ASSIGN_OR_RETURN(auto c, store::LoadComment(w, id, comment_id));
    if (!c) return Status::NotFound(ProposalName(id) + " has no comment " + std::to_string(comment_id));
    if (c->author != actor.id && head->proposal.author != actor.id &&
        !domain::RoleAllows(actor.role, Role::kModerator))
      return Status::PermissionDenied("only the comment's author, the proposal's author or a moderator can resolve it");
    if (c->resolved) return Status::Conflict("comment " + std::to_string(comment_id) + " is already resolved");
    c->resolved = true;
    c->resolved_by = actor.id;
    store::SaveComment(w, id, *c);
    return SaveWithEvent(w, *head, "comment.resolved", actor.id, Json{{"comment", domain::ToJson(*c)}});
  }, std::move(done));
}

void Proposals::AddReview(const User& actor, int64_t id, const Json& body, Done<Json> done) {
  if (!body.is_object()) return done(Status::InvalidArgument("body: expected a JSON object {verdict, text?, revision?}"));
  if (auto s = RefuseUnknownKeys(body, {"verdict", "text", "revision"}, "a review"); !s.ok()) return done(s);
  if (!body.contains("verdict") || !body["verdict"].is_string())
    return done(Status::InvalidArgument("verdict: is required: one of approve, request_changes, comment"));
  auto verdict = domain::ParseVerdict(body["verdict"].get<std::string>());
  if (!verdict)
    return done(Status::InvalidArgument("verdict: '" + body["verdict"].get<std::string>() +
                                        "' is not one of approve, request_changes, comment"));
  if (*verdict != domain::Verdict::kComment && actor.stakeholder_group.empty())
    return done(Status::PermissionDenied("user '" + actor.name +
                                         "' has no stakeholder group, so their vote cannot count for one; "
                                         "an admin can set it"));
  SubmitFor<Json>(store_, [this, actor, id, body, verdict = *verdict](store::WriteContext& w) -> Result<Json> {
    NB_ASSIGN_OR_RETURN(store::ProposalHead head, LoadOpen(w, id));
    const Proposal& p = head.proposal;
    if (verdict != domain::Verdict::kComment && p.author == actor.id)
      return Status::PermissionDenied("authors cannot vote on their own proposal");
    NB_ASSIGN_OR_RETURN(auto seen, OptionalInt(body, "revision"));
    if (seen && *seen != p.Current().number)
      return Status::Conflict("you reviewed revision " + std::to_string(*seen) + " but " + ProposalName(id) +
                              " is at revision " + std::to_string(p.Current().number) + "; review the new revision");
    if (head.review_count >= static_cast<int64_t>(kMaxReviewsPerProposal))
      return Status::TooLarge(ProposalName(id) + " has " + std::to_string(head.review_count) +
                              " reviews, the most one proposal keeps");
    domain::Review r;
    NB_ASSIGN_OR_RETURN(r.text, OptionalText(body, "text", config_.max_rationale));
    NB_ASSIGN_OR_RETURN(r.id, w.NextId("review"));
    r.reviewer = actor.id;
    r.reviewer_name = actor.name;
    r.group = actor.stakeholder_group;
    r.verdict = verdict;
    r.revision = p.Current().number;
    r.at = w.Now();
    store::AddReview(w, head, r);
    return SaveWithEvent(w, head, "review.submitted", actor.id, Json{{"review", domain::ToJson(r)}});
  }, std::move(done));
}

void Proposals::Merge(const User& actor, int64_t id, const Json& body, Done<Json> done) {
  if (!body.is_null() && !body.is_object()) return done(Status::InvalidArgument("body: expected a JSON object {revision?}"));
  SubmitFor<Json>(store_, [this, actor, id, body](store::WriteContext& w) -> Result<Json> {
    NB_ASSIGN_OR_RETURN(store::ProposalHead head, LoadOpen(w, id));
    Proposal& p = head.proposal;
    const domain::PolicyRule& rule = config_.policy.For(p.kind);
    if (rule.moderator_merge) {
      NB_RETURN_IF_ERROR(RequireRole(actor, Role::kModerator, "merging"));
    } else if (!domain::RoleAllows(actor.role, Role::kModerator)) {
      // Without moderator_merge, one of the approvers of the current revision merges.
      NB_ASSIGN_OR_RETURN(domain::ReviewStatus before, Evaluate(w, p));
      const bool approver = std::any_of(before.counted.begin(), before.counted.end(), [&](const auto& v) {
        return v.reviewer == actor.id && v.verdict == domain::Verdict::kApprove;
      });
      if (!approver)
        return Status::PermissionDenied("merging " + ProposalName(id) +
                                        " needs the moderator role or an approval of its current revision");
    }
    if (body.is_object()) {
      NB_ASSIGN_OR_RETURN(auto seen, OptionalInt(body, "revision"));
      if (seen && *seen != p.Current().number)
        return Status::Conflict("you asked to merge revision " + std::to_string(*seen) + " but " +
                                ProposalName(id) + " is at revision " + std::to_string(p.Current().number));
    }
    NB_ASSIGN_OR_RETURN(domain::ReviewStatus st, Evaluate(w, p));
    if (!st.can_merge) {
      std::string why;
      for (const auto& m : st.missing) why += (why.empty() ? "" : "; ") + m;
      return Status::PreconditionFailed(ProposalName(id) + " cannot merge yet: " + why);
    }
    NB_ASSIGN_OR_RETURN(const ProposalRevision rev, LoadRevision(w, p, p.Current().number));
    NB_ASSIGN_OR_RETURN(auto current, store::LoadAgreement(w, p.agreement_id));
    Agreement next;
    if (p.kind == ProposalKind::kAdd) {
      NB_RETURN_IF_ERROR(CheckAddIsNew(w, *rev.proposed));
      next = *rev.proposed;
      next.revision = 1;
    } else {
      next = rev.proposed ? *rev.proposed : *current;
      next.revision = current->revision + 1;
      next.retired = p.kind == ProposalKind::kRetire;
    }
    NB_ASSIGN_OR_RETURN(int64_t ds, store::NextDatasetRevision(w));
    Json approvers = Json::array();
    for (const auto& v : st.counted)
      if (v.verdict == domain::Verdict::kApprove)
        approvers.push_back({{"id", v.reviewer}, {"name", v.reviewer_name}, {"group", v.group}});
    const char* change = ChangeName(p.kind);
    store::WriteAgreementVersion(w, next, ds,
                                 Json{{"change", change},
                                      {"proposal", p.id},
                                      {"proposal_revision", rev.number},
                                      {"actor", actor.id},
                                      {"actor_name", actor.name},
                                      {"author", p.author},
                                      {"author_name", p.author_name},
                                      {"approvers", approvers},
                                      {"reason", rev.rationale}});
    store::SaveDatasetRevision(w, ds,
                               Json{{"revision", ds},
                                    {"at", w.Now()},
                                    {"actor", actor.id},
                                    {"actor_name", actor.name},
                                    {"proposal", p.id},
                                    {"reason", rev.rationale},
                                    {"changes", Json::array({{{"agreement", next.id},
                                                              {"agreement_revision", next.revision},
                                                              {"change", change}}})}});
    p.status = ProposalStatus::kMerged;
    p.closed_by = actor.id;
    p.closed_at = w.Now();
    p.merged_dataset_revision = ds;
    NB_RETURN_IF_ERROR(
        SaveWithEvent(w, head, "proposal.merged", actor.id, Json{{"dataset_revision", ds}}).status());
    domain::Event changed;
    changed.type = "agreement.changed";
    changed.actor = actor.id;
    changed.subjects = {{"agreement", next.id}, {"proposal", std::to_string(p.id)},
                        {"dataset_revision", std::to_string(ds)}};
    changed.payload = domain::Dump(Json{{"agreement", {{"id", next.id}, {"title", next.title},
                                                       {"revision", next.revision}, {"retired", next.retired}}},
                                        {"change", change},
                                        {"dataset_revision", ds}});
    w.AppendEvent(std::move(changed));
    QueueDatasetJobs(w, config_.jobs, ds);
    // Other open proposals on this agreement are now stale: tell their watchers.
    NB_ASSIGN_OR_RETURN(auto others, store::ProposalIdsForAgreement(w, p.agreement_id));
    for (int64_t other_id : others) {
      if (other_id == p.id) continue;
      NB_ASSIGN_OR_RETURN(auto other, store::LoadProposalHead(w, other_id));
      if (!other || !other->proposal.IsOpen()) continue;
      NB_ASSIGN_OR_RETURN(Json summary, Summary(w, *other));
      w.AppendEvent(ProposalEvent("proposal.conflicted", actor.id, other->proposal,
                                  Json{{"proposal", summary}, {"because_of", p.id}}));
    }
    return ViewOf(w, id);
  }, std::move(done));
}

void Proposals::Reject(const User& actor, int64_t id, const Json& body, Done<Json> done) {
  if (auto s = RequireRole(actor, Role::kModerator, "rejecting"); !s.ok()) return done(s);
  if (!body.is_object()) return done(Status::InvalidArgument("body: expected a JSON object {reason}"));
  auto reason = OptionalText(body, "reason", config_.max_rationale);
  if (!reason.ok()) return done(reason.status());
  if (reason->empty()) return done(Status::InvalidArgument("reason: is required: tell the author why"));
  SubmitFor<Json>(store_, [this, actor, id, reason = *reason](store::WriteContext& w) -> Result<Json> {
    NB_ASSIGN_OR_RETURN(store::ProposalHead head, LoadOpen(w, id));
    Proposal& p = head.proposal;
    NB_RETURN_IF_ERROR(domain::CheckTransition(p, ProposalStatus::kRejected));
    p.status = ProposalStatus::kRejected;
    p.closed_by = actor.id;
    p.closed_at = w.Now();
    p.close_reason = reason;
    NB_RETURN_IF_ERROR(SaveWithEvent(w, head, "proposal.rejected", actor.id, Json{{"reason", reason}}).status());
    return ViewOf(w, id);
  }, std::move(done));
}

void Proposals::Withdraw(const User& actor, int64_t id, const Json& body, Done<Json> done) {
  if (!body.is_null() && !body.is_object()) return done(Status::InvalidArgument("body: expected a JSON object {reason?}"));
  std::string reason;
  if (body.is_object()) {
    auto r = OptionalText(body, "reason", config_.max_rationale);
    if (!r.ok()) return done(r.status());
    reason = *r;
  }
  SubmitFor<Json>(store_, [this, actor, id, reason](store::WriteContext& w) -> Result<Json> {
    NB_ASSIGN_OR_RETURN(store::ProposalHead head, LoadOpen(w, id));
    Proposal& p = head.proposal;
    if (p.author != actor.id && !domain::RoleAllows(actor.role, Role::kAdmin))
      return Status::PermissionDenied("only the author of " + ProposalName(id) + " (" + p.author_name +
                                      ") can withdraw it");
    p.status = ProposalStatus::kWithdrawn;
    p.closed_by = actor.id;
    p.closed_at = w.Now();
    p.close_reason = reason;
    NB_RETURN_IF_ERROR(SaveWithEvent(w, head, "proposal.withdrawn", actor.id, Json()).status());
    return ViewOf(w, id);
  }, std::move(done));
}

// ---- reads -----------------------------------------------------------------

Result<Json> Proposals::Get(int64_t id) const { return ViewOf(store_, id); }

Result<Json> Proposals::List(const ProposalQuery& q) const {
  static const std::set<std::string> kStates = {"open", "approved", "conflicted", "merged", "rejected", "withdrawn"};
  if (!q.status.empty() && !kStates.count(q.status))
    return Status::InvalidArgument("status: '" + q.status +
                                   "' is not one of open, approved, conflicted, merged, rejected, withdrawn");
  if (!q.kind.empty() && !domain::ParseProposalKind(q.kind))
    return Status::InvalidArgument("kind: '" + q.kind + "' is not one of add, recode, amend, retire");
  int64_t after = 0;
  if (!q.cursor.empty()) {
    try {
      after = std::stoll(q.cursor);
    } catch (const std::exception&) {
      return Status::InvalidArgument("cursor: '" + q.cursor + "' is not a cursor this server gave out");
    }
  }
  const size_t limit = PageSize(config_, q.limit);
  Json items = Json::array();
  int64_t last = 0;
  bool more = false;
  Status err;
  NB_RETURN_IF_ERROR(store::ForEachProposalHead(store_, after, [&](store::ProposalHead&& head) {
    const Proposal& p = head.proposal;
    if (!q.author.empty() && p.author_name != q.author) return true;
    if (!q.agreement.empty() && p.agreement_id != q.agreement) return true;
    if (!q.kind.empty() && q.kind != domain::KindName(p.kind)) return true;
    auto s = Summary(store_, head);
    if (!s.ok()) {
      err = s.status();
      return false;
    }
    if (!q.status.empty()) {
      const std::string state = (*s)["state"].get<std::string>();
      // "open" means every open proposal, whatever its review state.
      const bool open_match = q.status == "open" && p.IsOpen();
      if (state != q.status && !open_match) return true;
    }
    if (items.size() == limit) {
      more = true;
      return false;
    }
    items.push_back(std::move(s).value());
    last = p.id;
    return true;
  }));
  NB_RETURN_IF_ERROR(err);
  return Json{{"items", items}, {"next_cursor", more ? Json(std::to_string(last)) : Json(nullptr)}};
}

Result<Json> Proposals::Diff(int64_t id, std::optional<int> revision) const {
  NB_ASSIGN_OR_RETURN(auto head, store::LoadProposalHead(store_, id));
  if (!head) return Status::NotFound(ProposalName(id) + " does not exist");
  const Proposal* p = &head->proposal;
  const int n = revision.value_or(p->Current().number);
  if (n < 1 || n > static_cast<int>(p->revisions.size()))
    return Status::NotFound(ProposalName(id) + " has no revision " + std::to_string(n));
  NB_ASSIGN_OR_RETURN(const ProposalRevision rev, LoadRevision(store_, *p, n));
  std::optional<Agreement> base;
  if (rev.base_revision > 0) {
    NB_ASSIGN_OR_RETURN(base, store::LoadAgreementRevision(store_, p->agreement_id, rev.base_revision));
  }
  NB_ASSIGN_OR_RETURN(auto current, store::LoadAgreement(store_, p->agreement_id));
  const Agreement* proposed = rev.proposed ? &*rev.proposed : nullptr;
  Json out{{"proposal", id},
           {"revision", n},
           {"kind", domain::KindName(p->kind)},
           {"base_revision", rev.base_revision},
           {"current_revision", current ? current->revision : 0},
           {"diff", domain::DiffAgreements(base ? &*base : nullptr, proposed)}};
  const bool stale = p->IsOpen() && current && current->revision != rev.base_revision;
  out["conflicted"] = stale;
  if (stale)
    out["three_way"] = domain::ThreeWayDiff(base ? &*base : nullptr, &*current, proposed);
  return out;
}

}  // namespace normbase::service
