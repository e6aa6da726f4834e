// WriteFailure: what a request is told when RocksDB could not write its
// commit group (a failing disk, a full disk, a failed fsync), and
// WritesSuspended: what later requests are told while the store recovers
// from it. The store's callers pass both through unchanged, so this is the
// text a person reads.
//
// Both are Unavailable (HTTP 503), not Internal: the request was fine and the
// server keeps serving reads, so an opaque "internal error" would be wrong and
// unhelpful. The message names the cause (disk full, or the system's error
// text) but never the paths inside the data directory. WriteFailure does not
// claim "nothing was saved": when only the fsync failed, the change may
// already be in the log file and reappear once the store reopens it, so a
// client must look before retrying. WritesSuspended is for requests that were
// never tried, so it can say the change was not saved. Private to core/store
// (it names a RocksDB type).
#pragma once

#include <rocksdb/status.h>

#include <string>

#include "domain/status.h"

namespace normbase::store {

// The cause in a few words a person can act on: "the disk is full", or the
// system's error text ("Input/output error") without RocksDB's file path.
std::string WriteFailureCause(const rocksdb::Status& s);

// For the requests whose commit group failed to write.
Status WriteFailure(const rocksdb::Status& s);

// For requests refused, untried, while the store retries after a write
// failure; `cause` is the latest reason the disk is still not writable.
Status WritesSuspended(const rocksdb::Status& cause);

}  // namespace normbase::store
