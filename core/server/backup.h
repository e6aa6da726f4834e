// Backups of a Normbase data directory, and restoring them.
//
// A backup is a folder holding `db/` (a RocksDB checkpoint: a consistent copy
// of every table, table files hard-linked when on the same file system) and
// `normbase-backup.json` (the on-disk format version, the seq of the newest
// event in the copy, when and by which release it was made). It is built in a
// hidden sibling folder and renamed into place only when complete, so a folder
// with the backup's name is always a whole backup; an interrupted one leaves a
// `.NAME.partial-*` folder that can be deleted.
//
// MakeBackup needs the open store: inside the server (asked over the admin
// socket, admin_socket.h) or in `normbase-server backup` when no server holds
// the data directory. RestoreBackup works on closed folders only.
#pragma once

#include <cstdint>
#include <string>

#include "domain/status.h"
#include "store/store.h"

namespace normbase::server {

inline constexpr char kBackupManifest[] = "normbase-backup.json";

struct BackupInfo {
  std::string path;        // absolute
  uint64_t event_seq = 0;  // newest event in the copy: everything acknowledged before it began
  int format_version = 0;
  int64_t created_ms = 0;
  std::string server_version;
};

// Checks that `out` can receive a backup: an absolute or relative path whose
// parent exists and which does not exist or is an empty folder. Returns the
// absolute path.
Result<std::string> CheckBackupTarget(const std::string& out);

// Writes a backup of `store` to `out` (see CheckBackupTarget). Writes wait
// for the moment of the checkpoint itself (a memtable flush), not for the
// rest. On failure nothing is left at `out` and the partial folder is removed.
Result<BackupInfo> MakeBackup(store::Store& store, const std::string& out);

// Reads and checks a backup's manifest and db/ folder: refuses a folder that
// is not a complete backup, or one of another on-disk format version.
Result<BackupInfo> ReadBackup(const std::string& backup);

// Restores `backup` into `data_dir`, which must not exist or be empty (a
// restore never overwrites data). The copy is opened and checked (format
// version, newest event = the manifest's) before it is renamed into place.
Result<BackupInfo> RestoreBackup(const std::string& backup, const std::string& data_dir);

// Whether a path does not exist or is an empty directory.
bool IsAbsentOrEmptyDir(const std::string& path);

}  // namespace normbase::server
