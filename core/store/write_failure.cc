#include "store/write_failure.h"

namespace normbase::store {

std::string WriteFailureCause(const rocksdb::Status& s) {
  // RocksDB's text is "IO error: While <op>: <path>: <system error>" (or
  // "... No space left on device"); keep the system's words, drop the path.
  std::string text = s.ToString();
  const auto colon = text.rfind(": ");
  std::string cause = colon == std::string::npos ? text : text.substr(colon + 2);
  if (s.IsNoSpace() || text.find("No space left") != std::string::npos) cause = "the disk is full";
  if (cause.empty()) cause = "an I/O error";
  return cause;
}

Status WriteFailure(const rocksdb::Status& s) {
  return Status::Unavailable(
      "the server could not write to its disk (" + WriteFailureCause(s) +
      "), so this change is not confirmed: it may or may not be there once the disk works "
      "again, so look before retrying; reads still work, and the server takes writes again by "
      "itself as soon as its disk is writable (an operator should check the disk)");
}

Status WritesSuspended(const rocksdb::Status& cause) {
  return Status::Unavailable(
      "the server could not write to its disk (" + WriteFailureCause(cause) +
      ") and refuses changes until it can again; this change was not saved; reads still work; "
      "retry later: the server retries its disk by itself and takes writes again as soon as it "
      "is writable");
}

}  // namespace normbase::store
