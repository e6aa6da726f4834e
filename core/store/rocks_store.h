// OpenRocksStore: Store::Open on a given RocksDB file system. It is the seam
// through which core/store's unit tests inject disk faults (a
// rocksdb::FileSystemWrapper that fails writes or syncs on demand,
// store_recovery_test.cc); the server always uses Store::Open. Private to
// core/store (it names a RocksDB type).
#pragma once

#include <rocksdb/file_system.h>

#include <memory>

#include "store/store.h"

namespace normbase::store {

// As Store::Open; `fs` null means the default (POSIX) file system.
Result<std::unique_ptr<Store>> OpenRocksStore(StoreOptions options,
                                              std::shared_ptr<rocksdb::FileSystem> fs);

}  // namespace normbase::store
