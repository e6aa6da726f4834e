// Co-occurrence: which elements appear together in coded agreements — the
// count of agreements with both, the Jaccard index (both / either) and the
// lift (observed / expected under independence) — and, for a given agreement,
// the nearest other agreements by Jaccard similarity of their element sets.
#pragma once

#include "counts.h"

namespace normbase::analysis {

struct CooccurrenceConfig {
  int nearest_k = 5;                    // neighbours per agreement
  std::vector<std::string> nearest_to;  // agreements to find neighbours for
  int64_t nearest_all_max = 500;  // with at most this many coded agreements, all get neighbours
  static CooccurrenceConfig FromJson(const Json& config);  // throws InputError
};

struct CooccurrenceState {
  Counts counts;
  PairCounts pairs;
  explicit CooccurrenceState(const CodebookIndex& cb = {}) : counts(cb), pairs(cb.elements()) {}
  void Apply(const Row& row, const CodebookIndex& cb, int sign) {
    counts.Apply(row, cb, sign);
    pairs.Apply(row, sign);
  }
  bool operator==(const CooccurrenceState&) const = default;
  Json ToJson(const CodebookIndex& cb) const;
  static CooccurrenceState FromJson(const Json& j, const CodebookIndex& cb);  // throws InputError
};

// Jaccard similarity of two sorted element sets; 0 when both are empty.
double Jaccard(const std::vector<int>& a, const std::vector<int>& b,
               std::vector<int>* shared = nullptr);

// The k coded agreements of `rows` most similar to `target` (itself excluded),
// best first, ties by id: [{"id", "score", "shared": [element ids]}]. O(rows).
Json Nearest(const std::vector<Row>& rows, const Row& target, int k, const CodebookIndex& cb);

// {"coverage", "elements": [{element, count}], "pairs": [{a, b, count, jaccard, lift}], "findings"}
// and, when `rows` is given, "nearest": {agreement id: [...]} for the configured agreements.
// Without `with_lists` only coverage and findings are rendered (what impact
// compares; it diffs the pair counts from the states).
Json RenderCooccurrence(const CooccurrenceState& state, const CodebookIndex& cb,
                        const CooccurrenceConfig& config, const std::vector<Row>* rows,
                        bool with_lists = true);

}  // namespace normbase::analysis
