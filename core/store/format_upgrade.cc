#include "store/format_upgrade.h"

#include <spdlog/spdlog.h>

#include <string>

#include "store/records.h"

namespace normbase::store {

namespace {

// Proposals rewritten per commit: bounds the size of one write batch.
constexpr size_t kProposalsPerCommit = 200;

// Version 1 -> 2: comments and reviews leave the proposal record for records
// of their own (records.h, ProposalHead).
Status SplitProposalRecords(Store& store) {
  int64_t after = 0;
  size_t commits = 0;
  for (;;) {
    int64_t last = 0;
    NB_RETURN_IF_ERROR(store.Commit([&](WriteContext& w) -> Status {
      NB_ASSIGN_OR_RETURN(last, UpgradeProposalRecords(w, after, kProposalsPerCommit));
      return Status::Ok();
    }));
    ++commits;
    if (last == 0) break;
    after = last;
  }
  spdlog::info("store: proposals moved to the version 2 layout in {} commit(s), up to proposal {}",
               commits, after);
  return Status::Ok();
}

}  // namespace

Status UpgradeFormat(Store& store, int from_version) {
  if (from_version < kOldestUpgradableFormat || from_version >= kFormatVersion)
    return Status::Internal("no upgrade from on-disk format version " +
                            std::to_string(from_version));
  spdlog::info("store: upgrading the data directory from on-disk format version {} to {}",
               from_version, kFormatVersion);
  if (from_version < 2) NB_RETURN_IF_ERROR(SplitProposalRecords(store));
  return store.Commit([](WriteContext& w) {
    w.Put(Table::kMeta, "format_version", std::to_string(kFormatVersion));
    return Status::Ok();
  });
}

}  // namespace normbase::store
