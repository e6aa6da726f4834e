// DecodeMemo: each thread's memory of the records it decoded last, so that
// loading a record whose bytes have not changed costs a Get and a comparison
// instead of a parse. Internal to core/store (records.cc, job_records.cc).
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace normbase::store {

// Decoding a stored record is most of what loading it costs (the JSON parser
// allocates per field), and the same few records are loaded again and again:
// the committer loads the head it saved for the previous comment on the same
// proposal and the job it leased a moment ago when its result comes, and
// every request of a client loads its token and its user. So each thread
// remembers the records of each kind it decoded (heads and jobs: also saved)
// last, with the exact bytes they stand for, and takes one only when the
// stored bytes are those bytes. That is the same as decoding them, however
// the record changed meanwhile: a revoked token or a disabled user has other
// bytes, and a record saved by a mutation that was then rolled back is never
// matched.
template <typename T>
class DecodeMemo {
 public:
  static DecodeMemo& OfThisThread() {
    thread_local DecodeMemo memo;
    return memo;
  }
  const T* Find(std::string_view key, std::string_view text) const {
    const Entry& e = slots_[Slot(key)];
    return e.used && e.key == key && e.text == text ? &e.value : nullptr;
  }
  void Remember(std::string_view key, std::string text, T value) {
    Entry& e = slots_[Slot(key)];
    e.used = true;
    e.key.assign(key);
    e.text = std::move(text);
    e.value = std::move(value);
  }

 private:
  static constexpr size_t kSlots = 64;  // per kind and thread: records of well under 1 KB
  struct Entry {
    bool used = false;
    std::string key;
    std::string text;
    T value;
  };
  static size_t Slot(std::string_view key) { return std::hash<std::string_view>{}(key) % kSlots; }
  std::array<Entry, kSlots> slots_;
};

// The record at `key` in `t`, decoded, through this thread's memo.
// (Inline: one instantiation per record kind, in the .cc that loads it.)
template <typename T>
Result<std::optional<T>> LoadDecoded(const Reader& r, Table t, const std::string& key,
                                     Result<T> (*decode)(std::string_view)) {
  NB_ASSIGN_OR_RETURN(auto v, r.Get(t, key));
  if (!v) return std::optional<T>();
  DecodeMemo<T>& memo = DecodeMemo<T>::OfThisThread();
  if (const T* known = memo.Find(key, *v)) return std::optional<T>(*known);
  NB_ASSIGN_OR_RETURN(T value, decode(*v));
  memo.Remember(key, std::move(*v), value);
  return std::optional<T>(std::move(value));
}

}  // namespace normbase::store
