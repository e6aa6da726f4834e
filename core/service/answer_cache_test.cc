// AnswerCache on its own: keys by revision and head/explicit, the byte bound,
// LRU order, stale head entries, and the off switch.
#include "service/answer_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace normbase::service {
namespace {

AnswerPtr Body(size_t n, char fill = 'x') { return MakeAnswer(std::string(n, fill)); }

TEST(AnswerCacheTest, FingerprintDependsOnTheBytesOnly) {
  auto a = MakeAnswer("{\"id\":\"a\"}"), b = MakeAnswer("{\"id\":\"a\"}"),
       c = MakeAnswer("{\"id\":\"b\"}");
  EXPECT_EQ(a->fingerprint, b->fingerprint);
  EXPECT_NE(a->fingerprint, c->fingerprint);
  EXPECT_EQ(a->fingerprint.size(), 32u);
  EXPECT_EQ(a->fingerprint.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(*a->body, "{\"id\":\"a\"}");
}

TEST(AnswerCacheTest, FindsWhatWasInsertedAtTheSameRevisionOnly) {
  AnswerCache cache(1 << 20);
  auto a = Body(100);
  EXPECT_EQ(cache.Find(3, true, "k"), nullptr);
  cache.Insert(3, true, "k", a);
  EXPECT_EQ(cache.Find(3, true, "k"), a);
  EXPECT_EQ(cache.Find(3, false, "k"), nullptr) << "revision=3 is another answer than head at 3";
  EXPECT_EQ(cache.Find(3, true, "k2"), nullptr);
  const AnswerCacheStats s = cache.Stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 3u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, 100 + std::string("h3 k").size() + AnswerCache::kEntryOverhead);
}

TEST(AnswerCacheTest, ANewerHeadRevisionDropsOlderHeadEntriesButKeepsExplicitOnes) {
  AnswerCache cache(1 << 20);
  auto head = Body(10), past = Body(20);
  cache.Insert(5, true, "k", head);
  cache.Insert(5, false, "k", past);
  EXPECT_EQ(cache.Find(6, true, "k"), nullptr);
  EXPECT_EQ(cache.Stats().entries, 1u)
      << "the head entry of revision 5 can never be asked for again";
  EXPECT_EQ(cache.Find(5, false, "k"), past);
  // A late insert of an answer computed before the merge is not kept.
  cache.Insert(5, true, "k", head);
  EXPECT_EQ(cache.Find(5, true, "k"), nullptr);
  EXPECT_EQ(cache.Stats().entries, 1u);
}

TEST(AnswerCacheTest, StaysWithinItsBoundEvictingTheLeastRecentlyUsed) {
  const size_t entry = 1000 + std::string("r1 a").size() + AnswerCache::kEntryOverhead;
  AnswerCache cache(3 * entry);
  cache.Insert(1, false, "a", Body(1000));
  cache.Insert(1, false, "b", Body(1000));
  cache.Insert(1, false, "c", Body(1000));
  ASSERT_NE(cache.Find(1, false, "a"), nullptr);  // a is now the most recent
  cache.Insert(1, false, "d", Body(1000));
  EXPECT_EQ(cache.Find(1, false, "b"), nullptr) << "b was the least recently used";
  EXPECT_NE(cache.Find(1, false, "a"), nullptr);
  EXPECT_NE(cache.Find(1, false, "c"), nullptr);
  EXPECT_NE(cache.Find(1, false, "d"), nullptr);
  const AnswerCacheStats s = cache.Stats();
  EXPECT_LE(s.bytes, s.capacity_bytes);
  EXPECT_EQ(s.entries, 3u);
  EXPECT_EQ(s.evictions, 1u);
}

TEST(AnswerCacheTest, AnAnswerLargerThanTheBoundIsNotKept) {
  AnswerCache cache(4096);
  cache.Insert(1, false, "big", Body(8192));
  EXPECT_EQ(cache.Find(1, false, "big"), nullptr);
  EXPECT_EQ(cache.Stats().too_large, 1u);
  EXPECT_EQ(cache.Stats().bytes, 0u);
}

TEST(AnswerCacheTest, ReplacingAnEntryKeepsTheAccountRight) {
  AnswerCache cache(1 << 20);
  cache.Insert(1, false, "k", Body(100));
  auto second = Body(300, 'y');
  cache.Insert(1, false, "k", second);
  EXPECT_EQ(cache.Find(1, false, "k"), second);
  EXPECT_EQ(cache.Stats().entries, 1u);
  EXPECT_EQ(cache.Stats().bytes, 300 + std::string("r1 k").size() + AnswerCache::kEntryOverhead);
}

TEST(AnswerCacheTest, ZeroBytesIsOff) {
  AnswerCache cache(0);
  EXPECT_FALSE(cache.enabled());
  cache.Insert(1, true, "k", Body(1));
  EXPECT_EQ(cache.Find(1, true, "k"), nullptr);
  EXPECT_EQ(cache.Stats().entries, 0u);
  EXPECT_EQ(cache.Stats().misses, 0u) << "an off cache counts nothing";
}

TEST(AnswerCacheTest, ConcurrentUseStaysWithinTheBound) {
  const size_t bound = 64 * 1024;
  AnswerCache cache(bound);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = "k" + std::to_string((i * 7 + t) % 50);
        const int64_t rev = 1 + i / 500;  // the head moves on a few times
        if (!cache.Find(rev, true, key)) cache.Insert(rev, true, key, Body(1000 + i % 300));
        if (!cache.Find(1, false, key)) cache.Insert(1, false, key, Body(500));
      }
    });
  for (auto& th : threads) th.join();
  const AnswerCacheStats s = cache.Stats();
  EXPECT_LE(s.bytes, bound);
  EXPECT_GT(s.hits, 0u);
  EXPECT_GT(s.evictions, 0u);
}

}  // namespace
}  // namespace normbase::service
