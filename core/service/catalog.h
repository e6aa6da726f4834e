// Catalog: the read side of the dataset — codebook, agreements (now or at
// any dataset revision), their history and provenance, the event log and
// exports. Reads only committed state; thread-safe.
#pragma once

#include <optional>
#include <string>

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
      : store_(store), codebook_(codebook), config_(config) {}

  Result<Json> Codebook() const;
  // {"items", "next_cursor", "dataset_revision", "coverage": {"agreements", "coded"}}
  Result<Json> ListAgreements(const AgreementQuery& q) const;
  Result<Json> GetAgreement(const std::string& id, std::optional<int64_t> revision) const;
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

  const store::Store& store_;
  const CodebookCache& codebook_;
  const ServiceConfig& config_;
};

}  // namespace normbase::service
