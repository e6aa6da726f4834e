// The on-disk format guard and Store::Checkpoint. A data directory written by
// an older or newer release (its format_version marker, or tables this
// release does not know) is refused with a message that says which and what
// to do, and is left as it was; a checkpoint taken while writes stream in
// holds exactly the writes acknowledged before it, with their events.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "store/store.h"
#include "support/temp_dir.h"

namespace normbase::store {
namespace {

namespace fs = std::filesystem;

using normbase::testing::TempDir;

StoreOptions At(const std::string& path) {
  StoreOptions o;
  o.path = path;
  return o;
}

Status SetMarker(Store& s, const std::string& v) {
  return s.Commit([v](WriteContext& w) {
    w.Put(Table::kMeta, "format_version", v);
    return Status::Ok();
  });
}

TEST(FormatVersion, AnOlderDataDirIsRefusedAndLeftAsItWas) {
  TempDir dir;
  {
    auto s = Store::Open(At(dir.path()));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE(SetMarker(**s, "0").ok());
  }
  auto again = Store::Open(At(dir.path()));
  ASSERT_FALSE(again.ok());
  const std::string msg = again.status().message();
  EXPECT_NE(msg.find("format version 0 (written by an older normbase-server)"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("reads version " + std::to_string(kFormatVersion)), std::string::npos) << msg;
  EXPECT_NE(msg.find("nothing was changed"), std::string::npos) << msg;
  // Refusing did not rewrite the marker: a second attempt sees the same.
  auto third = Store::Open(At(dir.path()));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().message(), msg);
}

TEST(FormatVersion, ANewerOrGarbledMarkerIsNamedAsSuch) {
  for (const auto& [marker, whose] : std::vector<std::pair<std::string, std::string>>{
           {std::to_string(kFormatVersion + 1), "a newer"}, {"v-next", "an unknown"}}) {
    TempDir dir;
    {
      auto s = Store::Open(At(dir.path()));
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE(SetMarker(**s, marker).ok());
    }
    auto again = Store::Open(At(dir.path()));
    ASSERT_FALSE(again.ok()) << marker;
    EXPECT_NE(again.status().message().find("(written by " + whose + " normbase-server)"),
              std::string::npos)
        << again.status().message();
  }
}

TEST(FormatVersion, TablesOfANewerReleaseAreRefusedClearly) {
  TempDir dir;
  { ASSERT_TRUE(Store::Open(At(dir.path())).ok()); }
  {
    // A later release adds a column family; this one must not open it blind.
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.path(), &names).ok());
    for (const auto& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.path(), descs, &handles, &db).ok());
    rocksdb::ColumnFamilyHandle* extra = nullptr;
    ASSERT_TRUE(
        db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "from_the_future", &extra).ok());
    handles.push_back(extra);
    for (auto* h : handles) delete h;
    delete db;
  }
  auto s = Store::Open(At(dir.path()));
  ASSERT_FALSE(s.ok());
  const std::string msg = s.status().message();
  EXPECT_NE(msg.find("written by a newer normbase-server"), std::string::npos) << msg;
  EXPECT_NE(msg.find("from_the_future"), std::string::npos) << msg;
}

TEST(Checkpoint, HoldsExactlyTheWritesAcknowledgedBeforeIt) {
  TempDir dir;
  auto opened = Store::Open(At(dir.path() + "/db"));
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  // A writer streams mutations, each a key and an event; it counts acknowledgements.
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::thread writer([&] {
    for (int i = 1; !stop; ++i) {
      Status s = store.Commit([i](WriteContext& w) {
        w.Put(Table::kJobs, "k" + std::to_string(i), std::to_string(i));
        domain::Event e;
        e.type = "test.write";
        w.AppendEvent(std::move(e));
        return Status::Ok();
      });
      if (!s.ok()) return;
      acked = i;
    }
  });
  while (acked < 200) std::this_thread::yield();
  const int before = acked;
  auto seq = store.Checkpoint(dir.path() + "/copy");
  const int after = acked;
  stop = true;
  writer.join();
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_GE(*seq, static_cast<uint64_t>(before));
  EXPECT_LE(*seq, static_cast<uint64_t>(after) + 1);
  // A second checkpoint into an existing folder is refused.
  EXPECT_FALSE(store.Checkpoint(dir.path() + "/copy").ok());
  opened->reset();

  auto copy = Store::Open(At(dir.path() + "/copy"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ((*copy)->LastEventSeq(), *seq);
  // Keys 1..seq and nothing after: each write and its event went in together.
  int keys = 0;
  ASSERT_TRUE((*copy)->Scan(Table::kJobs, "k", "", [&](auto, auto) { return ++keys, true; }).ok());
  EXPECT_EQ(static_cast<uint64_t>(keys), *seq);
  for (uint64_t i = 1; i <= *seq; ++i) {
    auto v = (*copy)->Get(Table::kJobs, "k" + std::to_string(i));
    ASSERT_TRUE(v.ok() && v->has_value()) << "key " << i << " missing";
  }
  auto events = (*copy)->ReadEvents(0, 1000000);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), *seq);
}

}  // namespace
}  // namespace normbase::store
