// Catalog: the read side of the dataset — codebook, agreements (now or at
// any dataset revision), their history and provenance, the event log and
// exports. Reads only committed state; thread-safe.
//
// The two hot public reads (an agreement, a page of the list) also come
// serialised, through an AnswerCache of `ServiceConfig::read_cache_bytes`
// (see answer_cache.h for why a cached answer is never stale).
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "service/answer_cache.h"
#include "service/common.h"

namespace normbase::service {

struct AgreementQuery {
  std::string kind;
  std::string element;
  std::optional<int> year_from, year_to;
  std::string q;                     // case-insensitive text in title, parties, id
  std::optional<int64_t> revision;   // dataset revision; now when empty
  std::string cursor;                // opaque: the last id of the previous page
  std::optional<size_t> limit;
  bool include_retired = false;
};

class Catalog {
 public:
  Catalog(const store::Store& store, const CodebookCache& codebook, const ServiceConfig& config)
      : store_(store), codebook_(codebook), config_(config), answers_(config.read_cache_bytes) {}

  Result<Json> Codebook() const;
  // {"items", "next_cursor", "dataset_revision", "coverage": {"agreements", "coded"}}
  Result<Json> ListAgreements(const AgreementQuery& q) const;
  Result<Json> GetAgreement(const std::string& id, std::optional<int64_t> revision) const;
  // The same two answers as JSON text, from the answer cache when it has
  // them (errors are never cached). Without `revision` the answer is of the
  // head revision read now: a merge or import acknowledged before the call
  // is always in it.
  Result<AnswerPtr> ListAgreementsAnswer(const AgreementQuery& q) const;
  Result<AnswerPtr> AgreementAnswer(const std::string& id, std::optional<int64_t> revision) const;
  AnswerCacheStats AnswerCacheFigures() const { return answers_.Stats(); }
  // Every version with who, when, which proposal and why, plus per-element provenance.
  Result<Json> History(const std::string& id) const;
  // Events after `since`. Account events (user.*, token.*) only when
  // `include_private` (a moderator is asking).
  Result<Json> Events(uint64_t since, std::optional<size_t> limit, bool include_private) const;
  Result<Json> DatasetRevisionInfo(int64_t revision) const;
  Result<Json> ExportJson() const;
  Result<std::string> ExportCsv() const;
  // Counts for /healthz and /metrics.
  Result<Json> Summary() const;

 private:
  Status ForEachAgreementAt(std::optional<int64_t> revision, const std::string& after,
                            const std::function<bool(domain::Agreement&&)>& fn) const;
  // Looks `key` up at the revision the request reads, else computes the
  // answer with `compute` and keeps it when it is exactly that revision's.
  Result<AnswerPtr> CachedAnswer(std::optional<int64_t> revision, const std::string& key,
                                 const std::function<Result<Json>()>& compute) const;

  const store::Store& store_;
  const CodebookCache& codebook_;
  const ServiceConfig& config_;
  mutable AnswerCache answers_;  // thread-safe itself

  // The agreement counts of one dataset revision: /healthz and /metrics are
  // polled, and counting parses every agreement.
  struct Counts {
    int64_t revision = -1;
    size_t total = 0, coded = 0, retired = 0;
  };
  Result<Counts> CountsNow() const;
  mutable std::mutex counts_mu_;
  mutable Counts counts_;  // GUARDED_BY(counts_mu_)
};

}  // namespace normbase::service
