// TolerantInfoLog: RocksDB's informational log (the LOG file in the data
// directory), written with stdio and never failing.
//
// Why: RocksDB's own logger writes through a WritableFileWriter that, after
// one failed write, asserts on the next (Debian builds librocksdb with
// assertions on). On a failing or full disk the first error RocksDB logs is
// then fatal, and the server aborts from its logging path instead of refusing
// writes and serving reads (tests/faults/io_fault_test.cc). A lost log line is
// better than a crash. Thread-safe. Private to core/store.
#pragma once

#include <memory>
#include <string>

#include <rocksdb/env.h>

namespace normbase::store {

// A logger appending to `path`; null if the file cannot be opened (RocksDB
// then falls back to its own).
std::shared_ptr<rocksdb::Logger> OpenTolerantInfoLog(const std::string& path);

}  // namespace normbase::store
