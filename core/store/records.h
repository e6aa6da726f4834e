// Typed access to the records Normbase keeps, over any Reader (the committed
// store or a mutation's context) — the one place that knows the key layout:
//
//   meta                  counter/<name> -> decimal; format_version
//   codebook              "current" -> codebook JSON
//   agreements            <id> -> current agreement JSON (revision, retired)
//   agreement_history     <id> \0 BE64(agreement revision) -> version entry JSON
//   agreement_at          <id> \0 BE64(dataset revision) -> BE64(agreement revision), 0 = retired
//   dataset_revisions     BE64(revision) -> {revision, at, actor, proposal, reason, changes}
//   proposals             BE64(id) -> proposal head JSON (see ProposalHead)
//   proposals_by_agreement <agreement id> \0 BE64(proposal id) -> ""
//   comments              BE64(proposal id) BE64(comment id) -> comment JSON
//   reviews               BE64(proposal id) BE64(review id) -> review JSON
//   proposal_revisions    BE64(proposal id) BE64(revision number) -> revision JSON (with its
//   proposed agreement) users                 u/BE64(id) -> user JSON; name/<name> -> BE64(id)
//   tokens                h/<sha256 of token> -> token record; u/BE64(user)BE64(token) -> hash
//   events                BE64(seq) -> event JSON
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/agreement.h"
#include "domain/codebook.h"
#include "domain/codec.h"
#include "domain/proposal.h"
#include "domain/user.h"
#include "store/store.h"

namespace normbase::store {

// ---- codebook and dataset ----
Result<std::optional<domain::Codebook>> LoadCodebook(const Reader& r);
void SaveCodebook(WriteContext& w, const domain::Codebook& cb);
// The current dataset revision: 0 before the seed, +1 on every merge or import.
Result<int64_t> DatasetRevision(const Reader& r);
// Advances the dataset revision and records what changed in it.
Result<int64_t> NextDatasetRevision(WriteContext& w);
void SaveDatasetRevision(WriteContext& w, int64_t revision, const domain::Json& record);
Result<std::optional<domain::Json>> LoadDatasetRevision(const Reader& r, int64_t revision);

// ---- agreements ----
Result<std::optional<domain::Agreement>> LoadAgreement(const Reader& r, const std::string& id);
// Visits current agreements (retired ones included) in id order, from after `after_id`.
Status ForEachAgreement(const Reader& r, const std::string& after_id,
                        const std::function<bool(domain::Agreement&&)>& fn);
// The agreement as it was at dataset revision `dataset_revision` (nullopt if it
// did not exist yet or was retired by then).
Result<std::optional<domain::Agreement>> LoadAgreementAt(const Reader& r, const std::string& id,
                                                         int64_t dataset_revision);
// A specific agreement revision, from history.
Result<std::optional<domain::Agreement>> LoadAgreementRevision(const Reader& r,
                                                               const std::string& id,
                                                               int64_t agreement_revision);
// The agreement's current revision (that of its latest version, retired or
// not), 0 when it does not exist: read from the agreement_at index, without
// decoding the agreement.
Result<int64_t> CurrentAgreementRevision(const Reader& r, const std::string& id);
// Writes a new version of `a` (whose revision must already be the next one):
// current record, history entry (with `provenance` merged in) and the
// dataset-revision index. Retired agreements are recorded with retired=true.
void WriteAgreementVersion(WriteContext& w, const domain::Agreement& a, int64_t dataset_revision,
                           domain::Json provenance);
Result<std::vector<domain::Json>> LoadHistory(const Reader& r, const std::string& id);

// ---- proposals ----
// A proposal is a head record plus one record per revision, per comment and
// per review, so that a comment or a vote writes a record of its own size
// (and the small head) instead of rewriting everything said before it or the
// proposed agreement, which with its codings and quotes is most of a proposal.
//
// The head holds the proposal without its comments and review history: its
// `proposal.comments` is empty and `proposal.reviews` holds each reviewer's
// latest vote (domain::KeepLatestVote), which is all ReviewPolicy counts. Its
// `proposal.revisions` are every revision WITHOUT its proposed agreement
// (`proposed` is empty, as for a retire), except those added by AddRevision
// in this mutation; whoever needs an agreement loads its revision whole
// (LoadProposalRevision). `title` is the current revision's proposed title
// ("" for a retire), for summaries.
struct ProposalHead {
  domain::Proposal proposal;
  std::string title;
  int64_t comment_count = 0;
  int64_t review_count = 0;
};
Result<std::optional<ProposalHead>> LoadProposalHead(const Reader& r, int64_t id);
void SaveProposalHead(WriteContext& w, const ProposalHead& head);
// Visits proposal heads in id order starting after `after_id`.
Status ForEachProposalHead(const Reader& r, int64_t after_id,
                           const std::function<bool(ProposalHead&&)>& fn);
// Adds a revision (numbered already, with its proposed agreement): its record,
// and the head's revision list and title. The caller saves the head.
void AddRevision(WriteContext& w, ProposalHead& head, domain::ProposalRevision rev);
// One revision whole, with its proposed agreement.
Result<std::optional<domain::ProposalRevision>> LoadProposalRevision(const Reader& r,
                                                                     int64_t proposal_id,
                                                                     int number);
// Adds a comment or a review: its record, and the head's count (and, for a
// vote, its latest votes). The caller saves the head.
void AddComment(WriteContext& w, ProposalHead& head, const domain::Comment& c);
void AddReview(WriteContext& w, ProposalHead& head, const domain::Review& r);
Result<std::optional<domain::Comment>> LoadComment(const Reader& r, int64_t proposal_id,
                                                   int64_t comment_id);
void SaveComment(WriteContext& w, int64_t proposal_id, const domain::Comment& c);  // rewrites it

// The whole proposal: its head with every revision (whole), comment and
// review, in order.
Result<std::optional<domain::Proposal>> LoadProposal(const Reader& r, int64_t id);
// Writes a whole proposal (head, revisions, comments and reviews): for the
// format upgrade and for tests that set up a large proposal directly.
void SaveProposal(WriteContext& w, const domain::Proposal& p);
Result<std::vector<int64_t>> ProposalIdsForAgreement(const Reader& r, const std::string& agreement_id);

// Format version 1 kept a proposal's comments and reviews inside its record.
// Rewrites up to `limit` such records with id > after_id into the version 2
// layout (records already in it are skipped) and returns the last id visited,
// or 0 when none is left. Idempotent, so an upgrade cut short can run again.
Result<int64_t> UpgradeProposalRecords(WriteContext& w, int64_t after_id, size_t limit);

// ---- users and tokens ----
Result<std::optional<domain::User>> LoadUser(const Reader& r, int64_t id);
Result<std::optional<domain::User>> FindUserByName(const Reader& r, const std::string& name);
void SaveUser(WriteContext& w, const domain::User& u);
Status ForEachUser(const Reader& r, const std::function<bool(domain::User&&)>& fn);
Result<std::optional<domain::TokenRecord>> LoadTokenByHash(const Reader& r, const std::string& hash);
void SaveToken(WriteContext& w, const std::string& hash, const domain::TokenRecord& t);
// Tokens of a user, with their hashes.
Result<std::vector<std::pair<std::string, domain::TokenRecord>>> TokensOfUser(const Reader& r,
                                                                             int64_t user_id);

}  // namespace normbase::store
