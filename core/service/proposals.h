// Proposals: the review workflow — propose, revise, comment, review, merge,
// reject, withdraw — and the views that show a proposal with its computed
// review status.
//
// Comments and reviews answer with what they added and the proposal's new
// summary ({"comment"|"review", "proposal"}: the payload of their event);
// the other writes answer with the whole proposal, as GET shows it.
//
// Every write runs as one store mutation: it re-reads the proposal and the
// agreement inside the committer, so two moderators merging at once, or a
// merge racing a new revision, are serialised — one wins, the other gets a
// Conflict. A merge writes the agreement's new version, the dataset revision,
// history, the proposal's close and the events in one atomic batch.
// Thread-safe; completions run on the committer thread.
#pragma once

#include <optional>
#include <string>

#include "service/common.h"

namespace normbase::store {
struct ProposalHead;
}

namespace normbase::service {

struct ProposalQuery {
  std::string status;  // open | approved | conflicted | merged | rejected | withdrawn
  std::string author;  // user name
  std::string agreement;
  std::string kind;
  std::string cursor;  // opaque: the last id of the previous page
  std::optional<size_t> limit;
};

class Proposals {
 public:
  Proposals(store::Store& store, const CodebookCache& codebook, const ServiceConfig& config)
      : store_(store), codebook_(codebook), config_(config) {}

  void Create(const domain::User& actor, const Json& body, Done<Json> done);
  void Revise(const domain::User& actor, int64_t id, const Json& body, Done<Json> done);
  void AddComment(const domain::User& actor, int64_t id, const Json& body, Done<Json> done);
  void ResolveComment(const domain::User& actor, int64_t id, int64_t comment_id, Done<Json> done);
  void AddReview(const domain::User& actor, int64_t id, const Json& body, Done<Json> done);
  // body: {"revision"?: N} — when given, the merge only happens if N is still current.
  void Merge(const domain::User& actor, int64_t id, const Json& body, Done<Json> done);
  void Reject(const domain::User& actor, int64_t id, const Json& body, Done<Json> done);
  void Withdraw(const domain::User& actor, int64_t id, const Json& body, Done<Json> done);

  Result<Json> Get(int64_t id) const;
  Result<Json> List(const ProposalQuery& q) const;
  // base -> proposed for a revision (current when empty); three-way when conflicted.
  Result<Json> Diff(int64_t id, std::optional<int> revision) const;

 private:
  // Builds the proposed record of a revision from the request and the base.
  Result<domain::ProposalRevision> BuildRevision(const store::Reader& r, domain::ProposalKind kind,
                                                 const std::string& agreement_id,
                                                 const Json& body) const;
  Result<store::ProposalHead> LoadOpen(const store::Reader& r, int64_t id) const;
  // The whole proposal as GET shows it; `p` must be whole (store::LoadProposal).
  Result<Json> View(const store::Reader& r, const domain::Proposal& p) const;
  Result<Json> ViewOf(const store::Reader& r, int64_t id) const;
  // The proposal's list entry and event summary; a head is enough.
  Result<Json> Summary(const store::Reader& r, const store::ProposalHead& head) const;
  Result<domain::ReviewStatus> Evaluate(const store::Reader& r, const domain::Proposal& p) const;
  // Saves the head and appends an event whose payload is {"proposal": the new
  // summary} plus `extra`; returns that payload (a comment's or a review's answer).
  Result<Json> SaveWithEvent(store::WriteContext& w, store::ProposalHead& head, const std::string& type,
                             int64_t actor, Json extra) const;
  Status CheckAddIsNew(const store::Reader& r, const domain::Agreement& a) const;

  store::Store& store_;
  const CodebookCache& codebook_;
  const ServiceConfig& config_;
};

}  // namespace normbase::service
