#include "server/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace normbase::server {

namespace fs = std::filesystem;

namespace {

std::string Errno() { return std::strerror(errno); }

// fsync on a file or a folder, so that a rename or a new entry is durable.
Status SyncPath(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Internal("cannot open " + p.string() + " to sync it: " + Errno());
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::Internal("cannot sync " + p.string() + ": " + Errno());
  return Status::Ok();
}

Status SyncTree(const fs::path& root) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    NB_RETURN_IF_ERROR(SyncPath(it->path()));
  if (ec) return Status::Internal("cannot list " + root.string() + ": " + ec.message());
  return SyncPath(root);
}

// A hidden sibling of `target` that no other run uses.
fs::path SiblingTemp(const fs::path& target, const char* what) {
  static std::atomic<int> counter{0};
  return target.parent_path() / ("." + target.filename().string() + "." + what + "-" +
                                 std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json ToJson(const BackupInfo& b) {
  return {{"format_version", b.format_version},
          {"event_seq", b.event_seq},
          {"created_ms", b.created_ms},
          {"server_version", b.server_version}};
}

// Moves the finished folder `tmp` to `target` (absent or an empty folder, which
// rename(2) replaces atomically) and makes the new name durable.
Status Publish(const fs::path& tmp, const fs::path& target) {
  if (!IsAbsentOrEmptyDir(target))
    return Status::AlreadyExists(target.string() +
                                 " was filled by someone else meanwhile; nothing was replaced");
  if (::rename(tmp.c_str(), target.c_str()) != 0)
    return Status::Internal("cannot rename " + tmp.string() + " to " + target.string() + ": " +
                            Errno());
  return SyncPath(target.parent_path());
}

}  // namespace

bool IsAbsentOrEmptyDir(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return !ec;
  return fs::is_directory(path, ec) && fs::is_empty(path, ec) && !ec;
}

Result<std::string> CheckBackupTarget(const std::string& out) {
  if (out.empty()) return Status::InvalidArgument("no backup folder given");
  std::error_code ec;
  fs::path abs = fs::absolute(out, ec).lexically_normal();
  if (ec) return Status::InvalidArgument("cannot resolve " + out + ": " + ec.message());
  if (abs.has_filename() == false) abs = abs.parent_path();  // "out/" names "out"
  if (!fs::is_directory(abs.parent_path(), ec))
    return Status::InvalidArgument("the folder " + abs.parent_path().string() +
                                   " (where the backup would go) does not exist");
  if (!IsAbsentOrEmptyDir(abs.string()))
    return Status::AlreadyExists(abs.string() +
                                 " exists and is not an empty folder; a backup never overwrites "
                                 "anything: name a new folder");
  return abs.string();
}

Result<BackupInfo> MakeBackup(store::Store& store, const std::string& out) {
  NB_ASSIGN_OR_RETURN(std::string target, CheckBackupTarget(out));
  const fs::path tmp = SiblingTemp(target, "partial");
  std::error_code ec;
  fs::create_directory(tmp, ec);
  if (ec) return Status::Internal("cannot create " + tmp.string() + ": " + ec.message());
  fs::permissions(tmp, fs::perms::owner_all, fs::perm_options::replace, ec);
  auto made = [&]() -> Result<BackupInfo> {
    BackupInfo info;
    info.path = target;
    info.created_ms = NowMs();
    info.format_version = store::kFormatVersion;
#ifdef NORMBASE_VERSION
    info.server_version = NORMBASE_VERSION;
#endif
    NB_ASSIGN_OR_RETURN(info.event_seq, store.Checkpoint((tmp / "db").string()));
    {
      std::ofstream m(tmp / kBackupManifest, std::ios::binary | std::ios::trunc);
      m << ToJson(info).dump(2) << "\n";
      if (!m.flush())
        return Status::Internal("cannot write the backup manifest in " + tmp.string());
    }
    NB_RETURN_IF_ERROR(SyncTree(tmp));
    NB_RETURN_IF_ERROR(Publish(tmp, target));
    return info;
  }();
  if (!made.ok()) fs::remove_all(tmp, ec);
  return made;
}

Result<BackupInfo> ReadBackup(const std::string& backup) {
  std::error_code ec;
  const fs::path dir = fs::absolute(backup, ec).lexically_normal();
  std::ifstream in(dir / kBackupManifest);
  if (!in)
    return Status::InvalidArgument(
        dir.string() + " is not a Normbase backup (no " + kBackupManifest +
        " inside); a backup is the folder 'normbase-server backup' made");
  BackupInfo info;
  info.path = dir.string();
  try {
    const auto j = nlohmann::json::parse(in);
    info.format_version = j.at("format_version").get<int>();
    info.event_seq = j.at("event_seq").get<uint64_t>();
    info.created_ms = j.value("created_ms", int64_t{0});
    info.server_version = j.value("server_version", std::string());
  } catch (const std::exception& e) {
    return Status::InvalidArgument("the manifest of backup " + dir.string() +
                                   " is damaged: " + e.what());
  }
  // An older format this release upgrades is fine: restore opens the copy,
  // which upgrades it (store/format_upgrade.h) before it is renamed into place.
  if (info.format_version < store::kOldestUpgradableFormat ||
      info.format_version > store::kFormatVersion)
    return Status::PreconditionFailed(
        "backup " + dir.string() + " has on-disk format version " +
        std::to_string(info.format_version) + " (made by normbase-server " + info.server_version +
        ") but this normbase-server reads versions " +
        std::to_string(store::kOldestUpgradableFormat) + " to " +
        std::to_string(store::kFormatVersion) + " only; restore it with the matching release");
  if (!fs::exists(dir / "db" / "CURRENT", ec))
    return Status::InvalidArgument("backup " + dir.string() +
                                   " is incomplete: db/CURRENT is missing");
  return info;
}

Result<BackupInfo> RestoreBackup(const std::string& backup, const std::string& data_dir) {
  NB_ASSIGN_OR_RETURN(BackupInfo info, ReadBackup(backup));
  std::error_code ec;
  fs::path target = fs::absolute(data_dir, ec).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();
  if (!IsAbsentOrEmptyDir(target.string()))
    return Status::AlreadyExists(
        "data directory " + target.string() +
        " is not empty; a restore never overwrites data: restore into a new "
        "folder, then point the server at it");
  if (!fs::is_directory(target.parent_path(), ec))
    return Status::InvalidArgument("the folder " + target.parent_path().string() +
                                   " does not exist");

  const fs::path tmp = SiblingTemp(target, "restoring");
  auto done = [&]() -> Status {
    fs::create_directory(tmp, ec);
    if (ec) return Status::Internal("cannot create " + tmp.string() + ": " + ec.message());
    fs::permissions(tmp, fs::perms::owner_all, fs::perm_options::replace, ec);
    // A copy, not links: the restored server writes and compacts in its own files,
    // and the backup may sit on another file system.
    fs::copy(fs::path(info.path) / "db", tmp / "db", fs::copy_options::recursive, ec);
    if (ec)
      return Status::Internal("cannot copy the backup into " + tmp.string() + ": " + ec.message());
    {
      // Open it as the server will: this checks the format and replays the log.
      store::StoreOptions o;
      o.path = (tmp / "db").string();
      NB_ASSIGN_OR_RETURN(auto store, store::Store::Open(std::move(o)));
      if (store->LastEventSeq() != info.event_seq)
        return Status::Internal("backup " + info.path + " is damaged: its newest event is " +
                                std::to_string(store->LastEventSeq()) + " but its manifest says " +
                                std::to_string(info.event_seq));
    }
    NB_RETURN_IF_ERROR(SyncTree(tmp));
    return Publish(tmp, target);
  }();
  if (!done.ok()) {
    fs::remove_all(tmp, ec);
    return done;
  }
  info.path = target.string();
  return info;
}

}  // namespace normbase::server
