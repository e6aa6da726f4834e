// Element frequency: count and share of coded agreements per element and per
// category, ranked (competition ranking, so ties share a rank), and the
// findings the BPF states in words: the most and the least frequent elements
// and whether the least frequent share a category.
#pragma once

#include "counts.h"

namespace normbase::analysis {

struct FrequencyConfig {
  int top_k = 2;                    // how many places "most/least frequent" names (ties extend it)
  bool least_includes_zero = true;  // an element no coded agreement has is the least frequent
  static FrequencyConfig FromJson(const Json& config);  // throws InputError
};

// The result document without dataset_revision/state (added by the job layer):
// {"coverage", "elements": [{element, label, category, count, share, rank}],
//  "categories": [...], "most_frequent": [ids], "least_frequent": [ids], "findings": [...]}.
Json RenderFrequency(const Counts& counts, const CodebookIndex& cb, const FrequencyConfig& config);

// Ids of the elements whose rank (from the top, or from the bottom when
// `from_bottom`) is within k, among those `eligible`.
std::vector<int> TopK(const std::vector<int64_t>& values, const std::vector<bool>& eligible, int k,
                      bool from_bottom);

// "Human rights (12 of 19 coded agreements, 63%)"
std::string CountPhrase(const std::string& label, int64_t count, int64_t of);
// "a", "a and b", "a, b and c"
std::string JoinWords(const std::vector<std::string>& words);

}  // namespace normbase::analysis
