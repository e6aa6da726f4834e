// AnswerCache: serialised answers of the public dataset reads (one
// agreement, a page of the agreement list), kept so that a repeated GET costs
// a look-up instead of read -> parse -> struct -> JSON -> text. Issue #9: the
// profile of those reads was nlohmann::json and malloc, not HTTP.
//
// Correctness does not rest on invalidation. Every entry is keyed by the
// dataset revision its answer shows, and whether it answers "now" (head) or
// an explicit `revision=N`:
//   - a head answer of revision R is only found by a request that read the
//     head revision as R, so a merge or import (which always advances the
//     revision, in the same atomic batch as the data) makes every older head
//     answer unreachable by the very next request;
//   - an explicit-revision answer never changes: history is append-only.
// The caller must only Insert an answer it knows to be exactly the state of
// that revision (Catalog reads the revision before and after computing it).
//
// Bounds: at most `max_bytes` (bodies, keys and a fixed overhead per entry);
// least recently used entries go first; an answer larger than the whole
// bound is not kept. Head entries older than the newest head revision seen
// are dropped at once, since nobody can ask for them again. 0 turns the
// cache off: Find always misses and Insert keeps nothing.
//
// Thread-safety: every method may be called from any thread; one mutex,
// held for a hash look-up and a list splice (no copying of bodies under it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace normbase::service {

// A serialised answer, shared read-only by the cache and every response that
// sends it.
struct Answer {
  std::shared_ptr<const std::string> body;  // the JSON text
  // 32 hex digits of BLAKE2b-128 over the body: equal bytes, equal
  // fingerprint, across restarts too (a strong ETag can be made from it).
  std::string fingerprint;
};
using AnswerPtr = std::shared_ptr<const Answer>;

// Wraps a body and computes its fingerprint.
AnswerPtr MakeAnswer(std::string body);

struct AnswerCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t insertions = 0;
  uint64_t evictions = 0;  // for room, and stale head entries
  uint64_t too_large = 0;  // answers not kept because they exceed the bound
  size_t bytes = 0;        // accounted size of the entries kept
  size_t entries = 0;
  size_t capacity_bytes = 0;
};

class AnswerCache {
 public:
  // Accounted per entry on top of body and key: list node, map slot, Answer.
  static constexpr size_t kEntryOverhead = 160;

  explicit AnswerCache(size_t max_bytes) : max_bytes_(max_bytes) {}
  AnswerCache(const AnswerCache&) = delete;
  AnswerCache& operator=(const AnswerCache&) = delete;

  bool enabled() const { return max_bytes_ > 0; }

  // The answer kept for `key` at `revision` (head: the answer for "now"
  // computed at head revision `revision`), or null. A head look-up also
  // drops head entries of older revisions.
  AnswerPtr Find(int64_t revision, bool head, std::string_view key);
  // Keeps `answer`, replacing an entry of the same key. Ignored when the
  // cache is off, when the answer alone exceeds the bound, or for a head
  // answer older than the newest head revision seen.
  void Insert(int64_t revision, bool head, std::string_view key, AnswerPtr answer);

  AnswerCacheStats Stats() const;

 private:
  struct Entry {
    std::string key;  // composed: head flag, revision, caller's key
    int64_t revision;
    bool head;
    size_t cost;
    AnswerPtr answer;
  };
  using List = std::list<Entry>;

  static std::string Compose(int64_t revision, bool head, std::string_view key);
  // Requires mu_.
  void NoteHeadRevision(int64_t revision);
  void Erase(List::iterator it);

  const size_t max_bytes_;
  mutable std::mutex mu_;
  List lru_;  // GUARDED_BY(mu_); front = newest use
  std::unordered_map<std::string_view, List::iterator>
      index_;                // GUARDED_BY(mu_); views into lru_ keys
  int64_t newest_head_ = 0;  // GUARDED_BY(mu_)
  AnswerCacheStats stats_;   // GUARDED_BY(mu_)
};

}  // namespace normbase::service
