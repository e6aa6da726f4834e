#include "store/disk_recovery.h"

#include <memory>

namespace normbase::store {

void BackgroundErrorListener::OnBackgroundError(rocksdb::BackgroundErrorReason reason,
                                                rocksdb::Status* /*error*/) {
  // kMemTable: the batch reached the log but not the memtable; the log then
  // holds a record the running DB does not, which only a replay reconciles.
  if (reason == rocksdb::BackgroundErrorReason::kWriteCallback ||
      reason == rocksdb::BackgroundErrorReason::kMemTable)
    log_failed_.store(true, std::memory_order_release);
}

void BackgroundErrorListener::OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason reason,
                                                   rocksdb::Status error, bool* auto_recovery) {
  error.PermitUncheckedError();
  // See the class comment: RocksDB's resume keeps the failed log writer.
  if (reason == rocksdb::BackgroundErrorReason::kWriteCallback ||
      reason == rocksdb::BackgroundErrorReason::kMemTable)
    *auto_recovery = false;
}

rocksdb::IOStatus ProbeDisk(rocksdb::FileSystem& fs, const std::string& dir) {
  // One page: enough to need a block on a full disk, small enough to be free.
  constexpr size_t kProbeBytes = 4096;
  const std::string path = dir + "/" + kProbeFileName;
  const rocksdb::IOOptions io;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = fs.NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (s.ok()) s = file->Append(rocksdb::Slice(std::string(kProbeBytes, 'p')), io, nullptr);
  if (s.ok()) s = file->Sync(io, nullptr);
  if (file) {
    rocksdb::IOStatus closed = file->Close(io, nullptr);
    if (s.ok()) s = closed;
  }
  fs.DeleteFile(path, io, nullptr).PermitUncheckedError();  // gone or never made: both fine
  return s;
}

}  // namespace normbase::store
