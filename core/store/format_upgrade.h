// Format upgrade: brings a data directory written by an older normbase-server
// to the current on-disk format (kFormatVersion) when it is opened.
//
// Each step rewrites records in bounded batches through ordinary commits, and
// every step is idempotent, so an upgrade cut short (a crash, a full disk) is
// simply done again at the next start. The format_version marker moves last,
// in a commit of its own, so a directory still marked with the old version is
// one whose upgrade is (partly) still to do.
#pragma once

#include "domain/status.h"
#include "store/store.h"

namespace normbase::store {

// Upgrades from `from_version` (>= kOldestUpgradableFormat) to kFormatVersion.
Status UpgradeFormat(Store& store, int from_version);

}  // namespace normbase::store
