#include "service/answer_cache.h"

#include <sodium.h>

#include <array>
#include <iterator>

#include "service/token_hash.h"

namespace normbase::service {

namespace {

constexpr size_t kFingerprintBytes = 16;  // 128 bits: collisions are not a concern

std::string Fingerprint(std::string_view body) {
  InitCrypto();
  std::array<unsigned char, kFingerprintBytes> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(body.data()),
                     body.size(), nullptr, 0);
  std::string hex(h.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), h.data(), h.size());
  hex.pop_back();  // the terminating NUL
  return hex;
}

}  // namespace

AnswerPtr MakeAnswer(std::string body) {
  auto a = std::make_shared<Answer>();
  a->fingerprint = Fingerprint(body);
  a->body = std::make_shared<const std::string>(std::move(body));
  return a;
}

std::string AnswerCache::Compose(int64_t revision, bool head, std::string_view key) {
  std::string k = head ? "h" : "r";
  k += std::to_string(revision);
  k += ' ';
  k += key;
  return k;
}

AnswerPtr AnswerCache::Find(int64_t revision, bool head, std::string_view key) {
  if (!enabled()) return nullptr;
  const std::string k = Compose(revision, head, key);
  std::lock_guard lk(mu_);
  if (head) NoteHeadRevision(revision);
  auto it = index_.find(k);
  if (it == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++stats_.hits;
  return it->second->answer;
}

void AnswerCache::Insert(int64_t revision, bool head, std::string_view key, AnswerPtr answer) {
  if (!enabled() || !answer || !answer->body) return;
  std::string k = Compose(revision, head, key);
  const size_t cost = answer->body->size() + k.size() + kEntryOverhead;
  std::lock_guard lk(mu_);
  if (cost > max_bytes_) {
    ++stats_.too_large;
    return;
  }
  if (head) {
    NoteHeadRevision(revision);
    // Computed by a request that read the revision before a merge committed:
    // correct for that request, useless to any later one.
    if (revision < newest_head_) return;
  }
  if (auto it = index_.find(k); it != index_.end()) Erase(it->second);
  lru_.push_front(Entry{std::move(k), revision, head, cost, std::move(answer)});
  index_.emplace(lru_.front().key, lru_.begin());
  stats_.bytes += cost;
  ++stats_.insertions;
  while (stats_.bytes > max_bytes_) {
    Erase(std::prev(lru_.end()));
    ++stats_.evictions;
  }
}

void AnswerCache::NoteHeadRevision(int64_t revision) {
  if (revision <= newest_head_) return;
  newest_head_ = revision;
  // Once per merge or import: a walk over at most a few thousand entries.
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->head && it->revision < newest_head_) {
      Erase(it);
      ++stats_.evictions;
    }
    it = next;
  }
}

void AnswerCache::Erase(List::iterator it) {
  stats_.bytes -= it->cost;
  index_.erase(std::string_view(it->key));
  lru_.erase(it);
}

AnswerCacheStats AnswerCache::Stats() const {
  std::lock_guard lk(mu_);
  AnswerCacheStats s = stats_;
  s.entries = lru_.size();
  s.capacity_bytes = max_bytes_;
  return s;
}

}  // namespace normbase::service
