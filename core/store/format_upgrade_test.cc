// Upgrading a data directory written in on-disk format version 1 (a proposal
// record holding its comments and reviews) when it is opened: every comment
// and review survives in its own record, the heads count what the policy
// counts, the marker moves to the current version, and an upgrade cut short
// finishes at the next start.
#include "store/format_upgrade.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "store/records.h"
#include "support/temp_dir.h"

namespace normbase::store {
namespace {

using domain::Json;
using normbase::testing::TempDir;

StoreOptions At(const std::string& path) {
  StoreOptions o;
  o.path = path;
  o.sync = false;
  return o;
}

// Proposal `id` as version 1 wrote it: one record, its lists inside.
domain::Proposal OldProposal(int64_t id) {
  domain::Proposal p;
  p.id = id;
  p.kind = domain::ProposalKind::kRecode;
  p.agreement_id = "a-" + std::to_string(id % 7);
  p.author = 1;
  p.revisions.emplace_back();
  for (int64_t i = 1; i <= id % 4; ++i) {
    domain::Comment c;
    c.id = id * 10 + i;
    c.author = 2;
    c.text = "comment " + std::to_string(c.id);
    p.comments.push_back(c);
    domain::Review r;
    r.id = id * 10 + i;
    r.reviewer = 2 + i % 2;  // two reviewers, one of them votes twice when i = 3
    r.group = "government";
    r.verdict = i == 1 ? domain::Verdict::kRequestChanges : domain::Verdict::kApprove;
    r.text = "review " + std::to_string(r.id);
    p.reviews.push_back(r);
  }
  return p;
}

constexpr int64_t kProposals = 450;  // more than one upgrade commit (200 each)

// Writes kProposals version-1 records and the version-1 marker; proposal 5 is
// already in the new layout, as if an earlier upgrade had stopped after it.
void WriteVersion1(const std::string& path) {
  auto s = Store::Open(At(path));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Status st = (*s)->Commit([](WriteContext& w) {
    for (int64_t id = 1; id <= kProposals; ++id) {
      if (id == 5) {
        SaveProposal(w, OldProposal(id));
        continue;
      }
      w.Put(Table::kProposals, EncodeU64(static_cast<uint64_t>(id)),
            domain::Dump(domain::ToJson(OldProposal(id))));
    }
    w.Put(Table::kMeta, "format_version", "1");
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
}

TEST(FormatUpgrade, Version1ProposalsAreSplitIntoHeadsCommentsAndReviews) {
  TempDir dir;
  WriteVersion1(dir.path());
  auto s = Store::Open(At(dir.path()));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Store& store = **s;
  EXPECT_EQ(*store.Get(Table::kMeta, "format_version"), std::to_string(kFormatVersion));

  for (int64_t id = 1; id <= kProposals; ++id) {
    const domain::Proposal want = OldProposal(id);
    auto got = LoadProposal(store, id);
    ASSERT_TRUE(got.ok() && got->has_value()) << id << ": " << got.status().ToString();
    EXPECT_EQ(domain::ToJson(**got), domain::ToJson(want)) << "proposal " << id;

    auto head = LoadProposalHead(store, id);
    ASSERT_TRUE(head.ok() && head->has_value());
    EXPECT_EQ((*head)->comment_count, static_cast<int64_t>(want.comments.size()));
    EXPECT_EQ((*head)->review_count, static_cast<int64_t>(want.reviews.size()));
    // What the review policy reads is the same from the head as from the whole.
    const auto rule = domain::ReviewPolicy::Default().For(want.kind);
    const domain::Codebook cb;
    EXPECT_EQ(domain::ToJson(domain::EvaluateReview((*head)->proposal, rule, cb, 0)),
              domain::ToJson(domain::EvaluateReview(want, rule, cb, 0)))
        << "proposal " << id;
  }
}

TEST(FormatUpgrade, AnUpgradeCutShortFinishesAtTheNextStart) {
  TempDir dir;
  WriteVersion1(dir.path());
  {
    // Half done: the first 200 upgraded, the marker still says 1.
    auto s = Store::Open(At(dir.path()));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Commit([](WriteContext& w) {
                      w.Put(Table::kMeta, "format_version", "1");
                      for (int64_t id = 201; id <= kProposals; ++id)
                        w.Put(Table::kProposals, EncodeU64(static_cast<uint64_t>(id)),
                              domain::Dump(domain::ToJson(OldProposal(id))));
                      return Status::Ok();
                    })
                    .ok());
  }
  auto s = Store::Open(At(dir.path()));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*(*s)->Get(Table::kMeta, "format_version"), std::to_string(kFormatVersion));
  for (int64_t id : {int64_t{1}, int64_t{200}, int64_t{201}, kProposals}) {
    auto got = LoadProposal(**s, id);
    ASSERT_TRUE(got.ok() && got->has_value()) << id;
    EXPECT_EQ(domain::ToJson(**got), domain::ToJson(OldProposal(id))) << "proposal " << id;
  }
}

TEST(FormatUpgrade, RefusesAVersionItCannotUpgradeFrom) {
  TempDir dir;
  auto s = Store::Open(At(dir.path()));
  ASSERT_TRUE(s.ok());
  const Status st = UpgradeFormat(**s, kFormatVersion);
  EXPECT_EQ(st.code(), Status::Code::kInternal);
  EXPECT_NE(st.message().find("no upgrade from on-disk format version"), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace normbase::store
