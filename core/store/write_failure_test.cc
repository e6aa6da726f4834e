// WriteFailure turns RocksDB's write errors into a 503 a person can act on
// (regression: a failed fsync or a full disk was an opaque 500 "internal
// error"; tests/faults/io_fault_test.cc shows it end to end).
#include "store/write_failure.h"

#include <gtest/gtest.h>

namespace normbase::store {
namespace {

TEST(WriteFailureTest, FailedFsyncIsUnavailableWithTheSystemErrorAndNoPath) {
  const Status s = WriteFailure(rocksdb::Status::IOError("While fdatasync: /var/lib/normbase/db/000012.log",
                                                         "Input/output error"));
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("could not write to its disk (Input/output error)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("not confirmed"), std::string::npos);
  EXPECT_NE(s.message().find("reads still work"), std::string::npos);
  EXPECT_EQ(s.message().find("/var/lib/normbase"), std::string::npos) << "leaks a path: " << s.message();
}

TEST(WriteFailureTest, FullDiskSaysSo) {
  const Status s = WriteFailure(rocksdb::Status::NoSpace("While appending to file: /d/db/000007.log",
                                                         "No space left on device"));
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("the disk is full"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("/d/db"), std::string::npos) << s.message();
}

// Requests refused while the store retries were never tried: unlike a failed
// commit they can be told plainly that nothing was saved, and that writes
// come back without a restart.
TEST(WriteFailureTest, SuspendedWritesSayNotSavedAndThatTheServerRetries) {
  const Status s = WritesSuspended(rocksdb::Status::IOError("While fdatasync: /srv/nb/db/000012.log",
                                                            "Input/output error"));
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("could not write to its disk (Input/output error)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("was not saved"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("retries its disk by itself"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("/srv/nb"), std::string::npos) << s.message();
  EXPECT_EQ(WriteFailureCause(rocksdb::Status::NoSpace("While appending", "No space left on device")),
            "the disk is full");
}

}  // namespace
}  // namespace normbase::store
