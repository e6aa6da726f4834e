#include "store/write_failure.h"

#include <string>

namespace normbase::store {

Status WriteFailure(const rocksdb::Status& s) {
  // RocksDB's text is "IO error: While <op>: <path>: <system error>" (or
  // "... No space left on device"); keep the system's words, drop the path.
  std::string text = s.ToString();
  const auto colon = text.rfind(": ");
  std::string cause = colon == std::string::npos ? text : text.substr(colon + 2);
  if (s.IsNoSpace() || text.find("No space left") != std::string::npos) cause = "the disk is full";
  if (cause.empty()) cause = "an I/O error";
  return Status::Unavailable("the server could not write to its disk (" + cause +
                             "), so this change is not confirmed: it may or may not be there after "
                             "the server restarts, so look "
                             "before retrying; reads still work; if this persists, an operator "
                             "must fix the disk and restart the server");
}

}  // namespace normbase::store
