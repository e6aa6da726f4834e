// Counts: the sufficient statistics behind element frequency, trend and
// co-occurrence. Adding or removing one agreement is O(elements coded in it)
// (O(k^2) with pairs), which is what makes an update after one merge cheap:
// the counts of the other agreements are never revisited.
#pragma once

#include <cstdint>
#include <vector>

#include "model.h"

namespace normbase::analysis {

struct Counts {
  int64_t total = 0;                // agreements (coded or not)
  int64_t coded = 0;                // agreements with a non-empty `codings`
  std::vector<int64_t> elements;    // coded agreements with the element
  std::vector<int64_t> categories;  // coded agreements with >= 1 element of the category

  explicit Counts(const CodebookIndex& cb = {})
      : elements(cb.elements(), 0), categories(cb.categories(), 0) {}
  // Adds (sign +1) or removes (sign -1) one agreement.
  void Apply(const Row& row, const CodebookIndex& cb, int sign);
  bool operator==(const Counts&) const = default;

  // [total, coded, per element..., per category...] in codebook order: a flat
  // array of integers is the cheapest JSON to build and to parse, and the
  // state's codebook tag (CheckStateTag) guarantees the order.
  Json ToJson(const CodebookIndex& cb) const;
  // Throws InputError naming `where` on a malformed state.
  static Counts FromJson(const Json& j, const CodebookIndex& cb, const std::string& where);
};

// Pair counts over coded agreements: pairs[Index(a, b)] for a < b.
struct PairCounts {
  size_t n = 0;
  std::vector<int64_t> pairs;
  explicit PairCounts(size_t elements = 0) : n(elements), pairs(elements * elements, 0) {}
  int64_t At(int a, int b) const { return pairs[static_cast<size_t>(a) * n + b]; }
  void Apply(const Row& row, int sign);
  bool operator==(const PairCounts&) const = default;
  Json ToJson(const CodebookIndex& cb) const;  // upper triangle, row by row: n(n-1)/2 counts
  static PairCounts FromJson(const Json& j, const CodebookIndex& cb, const std::string& where);
};

// One change of the dataset as the core sends it: before/after are records
// (null for an add's before or a retire's after).
struct Change {
  std::optional<Row> before;
  std::optional<Row> after;
};

// Parses the job's "changes" array. Retired records count as absent.
std::vector<Change> ChangesFromJson(const Json& changes, const CodebookIndex& cb);

// The stored state is usable only under the same codebook it was built with.
void CheckStateTag(const Json& state, const CodebookIndex& cb, const std::string& where);

}  // namespace normbase::analysis
