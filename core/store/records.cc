#include "store/records.h"

#include <functional>
#include <nlohmann/json.hpp>

#include "store/decode_memo.h"

namespace normbase::store {

using domain::Json;

namespace {

constexpr char kCodebookKey[] = "current";
constexpr char kDatasetCounter[] = "counter/dataset_revision";

std::string Sep(const std::string& id) { return id + std::string(1, '\0'); }

Result<Json> ParseStored(std::string_view text, const char* what) {
  auto j = domain::ParseJson(text);
  if (!j.ok()) return Status::Internal(std::string("stored ") + what + " is corrupt");
  return std::move(j).value();
}

Result<domain::User> DecodeUser(std::string_view text) {
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(text, "user"));
  return domain::UserFromJson(j);
}

Result<domain::TokenRecord> DecodeToken(std::string_view text) {
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(text, "token"));
  return domain::TokenRecordFromJson(j);
}

Result<std::optional<domain::Agreement>> DecodeAgreement(const std::optional<std::string>& v) {
  if (!v) return std::optional<domain::Agreement>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "agreement"));
  NB_ASSIGN_OR_RETURN(auto a, domain::AgreementFromJson(j, domain::Decode::kStored));
  return std::optional<domain::Agreement>(std::move(a));
}

}  // namespace

Result<std::optional<domain::Codebook>> LoadCodebook(const Reader& r) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kCodebook, kCodebookKey));
  if (!v) return std::optional<domain::Codebook>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "codebook"));
  NB_ASSIGN_OR_RETURN(auto cb, domain::CodebookFromJson(j));
  return std::optional<domain::Codebook>(std::move(cb));
}

void SaveCodebook(WriteContext& w, const domain::Codebook& cb) {
  const std::string text = domain::Dump(domain::ToJson(cb));
  w.Put(Table::kCodebook, kCodebookKey, text);
  w.Put(Table::kCodebook, "v/" + EncodeU64(static_cast<uint64_t>(cb.version)), text);
}

Result<int64_t> DatasetRevision(const Reader& r) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kMeta, kDatasetCounter));
  return v ? std::stoll(*v) : int64_t{0};
}

Result<int64_t> NextDatasetRevision(WriteContext& w) { return w.NextId("dataset_revision"); }

void SaveDatasetRevision(WriteContext& w, int64_t revision, const Json& record) {
  w.Put(Table::kDatasetRevisions, EncodeU64(static_cast<uint64_t>(revision)), domain::Dump(record));
}

Result<std::optional<Json>> LoadDatasetRevision(const Reader& r, int64_t revision) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kDatasetRevisions, EncodeU64(static_cast<uint64_t>(revision))));
  if (!v) return std::optional<Json>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "dataset revision"));
  return std::optional<Json>(std::move(j));
}

Result<std::optional<domain::Agreement>> LoadAgreement(const Reader& r, const std::string& id) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kAgreements, id));
  return DecodeAgreement(v);
}

Status ForEachAgreement(const Reader& r, const std::string& after_id,
                        const std::function<bool(domain::Agreement&&)>& fn) {
  Status err;
  // Keys are ids; starting "after" an id means at id + "\0".
  const std::string start = after_id.empty() ? std::string() : after_id + std::string(1, '\0');
  NB_RETURN_IF_ERROR(r.Scan(Table::kAgreements, "", start, [&](auto, std::string_view v) {
    auto a = DecodeAgreement(std::string(v));
    if (!a.ok()) {
      err = a.status();
      return false;
    }
    return fn(std::move(**a));
  }));
  return err;
}

Result<std::optional<domain::Agreement>> LoadAgreementRevision(const Reader& r,
                                                               const std::string& id,
                                                               int64_t agreement_revision) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kAgreementHistory,
                                    Sep(id) + EncodeU64(static_cast<uint64_t>(agreement_revision))));
  if (!v) return std::optional<domain::Agreement>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "history entry"));
  if (!j.contains("agreement") || j["agreement"].is_null()) return std::optional<domain::Agreement>();
  NB_ASSIGN_OR_RETURN(auto a, domain::AgreementFromJson(j["agreement"], domain::Decode::kStored));
  return std::optional<domain::Agreement>(std::move(a));
}

Result<std::optional<domain::Agreement>> LoadAgreementAt(const Reader& r, const std::string& id,
                                                         int64_t dataset_revision) {
  NB_ASSIGN_OR_RETURN(auto hit, r.SeekForPrev(Table::kAgreementAt, Sep(id),
                                              Sep(id) + EncodeU64(static_cast<uint64_t>(dataset_revision))));
  if (!hit) return std::optional<domain::Agreement>();
  NB_ASSIGN_OR_RETURN(auto a, LoadAgreementRevision(r, id, static_cast<int64_t>(DecodeU64(hit->second))));
  if (a && a->retired) return std::optional<domain::Agreement>();
  return a;
}

Result<int64_t> CurrentAgreementRevision(const Reader& r, const std::string& id) {
  NB_ASSIGN_OR_RETURN(auto hit, r.SeekForPrev(Table::kAgreementAt, Sep(id),
                                              Sep(id) + EncodeU64(~uint64_t{0})));
  return hit ? static_cast<int64_t>(DecodeU64(hit->second)) : int64_t{0};
}

void WriteAgreementVersion(WriteContext& w, const domain::Agreement& a, int64_t dataset_revision,
                           Json provenance) {
  Json agreement = domain::ToJson(a);
  w.Put(Table::kAgreements, a.id, domain::Dump(agreement));
  provenance["agreement_revision"] = a.revision;
  provenance["dataset_revision"] = dataset_revision;
  provenance["at"] = w.Now();
  provenance["agreement"] = std::move(agreement);
  w.Put(Table::kAgreementHistory, Sep(a.id) + EncodeU64(static_cast<uint64_t>(a.revision)),
        domain::Dump(provenance));
  w.Put(Table::kAgreementAt, Sep(a.id) + EncodeU64(static_cast<uint64_t>(dataset_revision)),
        EncodeU64(static_cast<uint64_t>(a.revision)));
}

Result<std::vector<Json>> LoadHistory(const Reader& r, const std::string& id) {
  std::vector<Json> out;
  Status err;
  NB_RETURN_IF_ERROR(r.Scan(Table::kAgreementHistory, Sep(id), "", [&](auto, std::string_view v) {
    auto j = ParseStored(v, "history entry");
    if (!j.ok()) {
      err = j.status();
      return false;
    }
    out.push_back(std::move(j).value());
    return true;
  }));
  NB_RETURN_IF_ERROR(err);
  return out;
}

namespace {

std::string ProposalKey(int64_t id) { return EncodeU64(static_cast<uint64_t>(id)); }
std::string ChildKey(int64_t proposal_id, int64_t id) {
  return ProposalKey(proposal_id) + EncodeU64(static_cast<uint64_t>(id));
}

// A head record is the proposal's JSON without "comments" and "reviews", with
// "votes" (each reviewer's latest), revisions without "proposed", the title
// and the two counts. A version 1 record has "comments" and "reviews" and no
// "votes".
std::string EncodeHead(const ProposalHead& h) {
  Json j = domain::ToJson(h.proposal);
  // Only revisions added in this mutation have an agreement here; it is in
  // their own records.
  for (auto& rj : j["revisions"]) rj.erase("proposed");
  j.erase("comments");
  j["votes"] = std::move(j["reviews"]);
  j.erase("reviews");
  j["title"] = h.title;
  j["comment_count"] = h.comment_count;
  j["review_count"] = h.review_count;
  return domain::Dump(j);
}

bool IsVersion1Record(const Json& j) { return j.contains("comments") && !j.contains("votes"); }

Result<ProposalHead> DecodeHead(std::string_view text) {
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(text, "proposal"));
  if (IsVersion1Record(j)) return Status::Internal("stored proposal is in the version 1 layout");
  ProposalHead h;
  h.title = j.value("title", "");
  h.comment_count = j.value("comment_count", int64_t{0});
  h.review_count = j.value("review_count", int64_t{0});
  // The inverse of EncodeHead: the latest votes decode as the proposal's reviews.
  if (j.contains("votes")) {
    j["reviews"] = std::move(j["votes"]);
    j.erase("votes");
  }
  NB_ASSIGN_OR_RETURN(h.proposal, domain::ProposalFromJson(j));
  return h;
}

// Visits the records of one proposal in `t` (comments or reviews), in id order.
template <typename T>
Status ForEachChild(const Reader& r, Table t, int64_t proposal_id, const char* what,
                    Result<T> (*decode)(const Json&), std::vector<T>& out) {
  Status err;
  NB_RETURN_IF_ERROR(r.Scan(t, ProposalKey(proposal_id), "", [&](auto, std::string_view v) {
    auto j = ParseStored(v, what);
    auto item = j.ok() ? decode(*j) : Result<T>(j.status());
    if (!item.ok()) {
      err = item.status();
      return false;
    }
    out.push_back(std::move(item).value());
    return true;
  }));
  return err;
}

}  // namespace

Result<std::optional<ProposalHead>> LoadProposalHead(const Reader& r, int64_t id) {
  return LoadDecoded<ProposalHead>(r, Table::kProposals, ProposalKey(id), &DecodeHead);
}

void SaveProposalHead(WriteContext& w, const ProposalHead& head) {
  const domain::Proposal& p = head.proposal;
  std::string text = EncodeHead(head);
  w.Put(Table::kProposals, ProposalKey(p.id), text);
  w.Put(Table::kProposalsByAgreement, Sep(p.agreement_id) + ProposalKey(p.id), "");
  // The committer loads this head again for the next comment or vote on the
  // proposal: remember it as decoding `text` would give it back, without what
  // EncodeHead leaves out (agreements of revisions added in this mutation).
  ProposalHead as_stored = head;
  as_stored.proposal.comments.clear();
  for (auto& rev : as_stored.proposal.revisions) rev.proposed.reset();
  DecodeMemo<ProposalHead>::OfThisThread().Remember(ProposalKey(p.id), std::move(text), std::move(as_stored));
}

Status ForEachProposalHead(const Reader& r, int64_t after_id,
                           const std::function<bool(ProposalHead&&)>& fn) {
  Status err;
  NB_RETURN_IF_ERROR(r.Scan(Table::kProposals, "", ProposalKey(after_id + 1), [&](auto, std::string_view v) {
    auto h = DecodeHead(v);
    if (!h.ok()) {
      err = h.status();
      return false;
    }
    return fn(std::move(h).value());
  }));
  return err;
}

void AddRevision(WriteContext& w, ProposalHead& head, domain::ProposalRevision rev) {
  w.Put(Table::kProposalRevisions, ChildKey(head.proposal.id, rev.number),
        domain::Dump(domain::ToJson(rev)));
  head.title = rev.proposed ? rev.proposed->title : std::string();
  head.proposal.revisions.push_back(std::move(rev));
}

Result<std::optional<domain::ProposalRevision>> LoadProposalRevision(const Reader& r,
                                                                     int64_t proposal_id,
                                                                     int number) {
  if (number < 1) return std::optional<domain::ProposalRevision>();
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kProposalRevisions, ChildKey(proposal_id, number)));
  if (!v) return std::optional<domain::ProposalRevision>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "proposal revision"));
  NB_ASSIGN_OR_RETURN(auto rev, domain::RevisionFromJson(j));
  return std::optional<domain::ProposalRevision>(std::move(rev));
}

void AddComment(WriteContext& w, ProposalHead& head, const domain::Comment& c) {
  SaveComment(w, head.proposal.id, c);
  ++head.comment_count;
}

void AddReview(WriteContext& w, ProposalHead& head, const domain::Review& r) {
  w.Put(Table::kReviews, ChildKey(head.proposal.id, r.id), domain::Dump(domain::ToJson(r)));
  domain::KeepLatestVote(head.proposal.reviews, r);
  ++head.review_count;
}

Result<std::optional<domain::Comment>> LoadComment(const Reader& r, int64_t proposal_id,
                                                   int64_t comment_id) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kComments, ChildKey(proposal_id, comment_id)));
  if (!v) return std::optional<domain::Comment>();
  NB_ASSIGN_OR_RETURN(Json j, ParseStored(*v, "comment"));
  NB_ASSIGN_OR_RETURN(auto c, domain::CommentFromJson(j));
  return std::optional<domain::Comment>(std::move(c));
}

void SaveComment(WriteContext& w, int64_t proposal_id, const domain::Comment& c) {
  w.Put(Table::kComments, ChildKey(proposal_id, c.id), domain::Dump(domain::ToJson(c)));
}

Result<std::optional<domain::Proposal>> LoadProposal(const Reader& r, int64_t id) {
  NB_ASSIGN_OR_RETURN(auto head, LoadProposalHead(r, id));
  if (!head) return std::optional<domain::Proposal>();
  domain::Proposal p = std::move(head->proposal);
  p.reviews.clear();  // the head's latest votes; the history replaces them
  p.revisions.clear();  // without their agreements; the records are whole
  NB_RETURN_IF_ERROR(ForEachChild(r, Table::kProposalRevisions, id, "proposal revision",
                                  &domain::RevisionFromJson, p.revisions));
  if (p.revisions.empty())
    return Status::Internal("stored proposal " + std::to_string(id) + " has no revision record");
  NB_RETURN_IF_ERROR(ForEachChild(r, Table::kReviews, id, "review", &domain::ReviewFromJson, p.reviews));
  NB_RETURN_IF_ERROR(ForEachChild(r, Table::kComments, id, "comment", &domain::CommentFromJson, p.comments));
  return std::optional<domain::Proposal>(std::move(p));
}

void SaveProposal(WriteContext& w, const domain::Proposal& p) {
  ProposalHead head;
  head.proposal = p;
  head.proposal.comments.clear();
  head.proposal.reviews.clear();
  head.proposal.revisions.clear();
  for (const auto& rev : p.revisions) AddRevision(w, head, rev);
  for (const auto& c : p.comments) AddComment(w, head, c);
  for (const auto& r : p.reviews) AddReview(w, head, r);
  SaveProposalHead(w, head);
}

Result<int64_t> UpgradeProposalRecords(WriteContext& w, int64_t after_id, size_t limit) {
  std::vector<std::string> old_records;
  int64_t last = 0;
  NB_RETURN_IF_ERROR(w.Scan(Table::kProposals, "", ProposalKey(after_id + 1), [&](std::string_view k, std::string_view v) {
    last = static_cast<int64_t>(DecodeU64(k));
    old_records.emplace_back(v);
    return old_records.size() < limit;
  }));
  for (const auto& text : old_records) {
    NB_ASSIGN_OR_RETURN(Json j, ParseStored(text, "proposal"));
    if (!IsVersion1Record(j)) continue;  // upgraded by an earlier, interrupted run
    NB_ASSIGN_OR_RETURN(domain::Proposal p, domain::ProposalFromJson(j));
    SaveProposal(w, p);
  }
  return last;
}

Result<std::vector<int64_t>> ProposalIdsForAgreement(const Reader& r, const std::string& agreement_id) {
  std::vector<int64_t> ids;
  const std::string prefix = Sep(agreement_id);
  NB_RETURN_IF_ERROR(r.Scan(Table::kProposalsByAgreement, prefix, "", [&](std::string_view k, auto) {
    ids.push_back(static_cast<int64_t>(DecodeU64(k.substr(prefix.size()))));
    return true;
  }));
  return ids;
}

Result<std::optional<domain::User>> LoadUser(const Reader& r, int64_t id) {
  return LoadDecoded<domain::User>(r, Table::kUsers, "u/" + EncodeU64(static_cast<uint64_t>(id)), &DecodeUser);
}

Result<std::optional<domain::User>> FindUserByName(const Reader& r, const std::string& name) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(Table::kUsers, "name/" + name));
  if (!v) return std::optional<domain::User>();
  return LoadUser(r, static_cast<int64_t>(DecodeU64(*v)));
}

void SaveUser(WriteContext& w, const domain::User& u) {
  w.Put(Table::kUsers, "u/" + EncodeU64(static_cast<uint64_t>(u.id)), domain::Dump(domain::ToJson(u)));
  w.Put(Table::kUsers, "name/" + u.name, EncodeU64(static_cast<uint64_t>(u.id)));
}

Status ForEachUser(const Reader& r, const std::function<bool(domain::User&&)>& fn) {
  Status err;
  NB_RETURN_IF_ERROR(r.Scan(Table::kUsers, "u/", "", [&](auto, std::string_view v) {
    auto u = DecodeUser(v);
    if (!u.ok()) {
      err = u.status();
      return false;
    }
    return fn(std::move(u).value());
  }));
  return err;
}

Result<std::optional<domain::TokenRecord>> LoadTokenByHash(const Reader& r, const std::string& hash) {
  return LoadDecoded<domain::TokenRecord>(r, Table::kTokens, "h/" + hash, &DecodeToken);
}

void SaveToken(WriteContext& w, const std::string& hash, const domain::TokenRecord& t) {
  w.Put(Table::kTokens, "h/" + hash, domain::Dump(domain::ToJson(t)));
  w.Put(Table::kTokens,
        "u/" + EncodeU64(static_cast<uint64_t>(t.user_id)) + EncodeU64(static_cast<uint64_t>(t.id)),
        hash);
}

Result<std::vector<std::pair<std::string, domain::TokenRecord>>> TokensOfUser(const Reader& r,
                                                                             int64_t user_id) {
  std::vector<std::string> hashes;
  NB_RETURN_IF_ERROR(r.Scan(Table::kTokens, "u/" + EncodeU64(static_cast<uint64_t>(user_id)), "",
                            [&](auto, std::string_view v) {
                              hashes.emplace_back(v);
                              return true;
                            }));
  std::vector<std::pair<std::string, domain::TokenRecord>> out;
  for (const auto& h : hashes) {
    NB_ASSIGN_OR_RETURN(auto t, LoadTokenByHash(r, h));
    if (t) out.emplace_back(h, *t);
  }
  return out;
}

}  // namespace normbase::store
