// WriteFailure: what a request is told when RocksDB could not write its
// commit group (a failing disk, a full disk, a failed fsync). The store's
// callers pass it through unchanged, so this is the text a person reads.
//
// It is Unavailable (HTTP 503), not Internal: the request was fine and the
// server keeps serving reads, so an opaque "internal error" would be wrong and
// unhelpful. The message names the cause (disk full, or the system's error
// text) but never the paths inside the data directory, and it does not claim
// "nothing was saved": when only the fsync failed, the change may already be
// in the log file and reappear after a restart, so a client must look before
// retrying. Private to core/store (it names a RocksDB type).
#pragma once

#include <rocksdb/status.h>

#include "domain/status.h"

namespace normbase::store {

Status WriteFailure(const rocksdb::Status& s);

}  // namespace normbase::store
