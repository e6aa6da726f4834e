// Inter-coder agreement: when several contributors code the same agreement
// (independent recode proposals, or blind double-coding), how far they agree.
// Each (agreement, element) is a binary judgement "present / absent" per
// coder. Reported per element and overall:
//   - Krippendorff's alpha (nominal), over all coders of each agreement, and
//   - Cohen's kappa over every pair of codings of the same agreement (with
//     exactly two codings per agreement this is Cohen's kappa proper),
// plus kappa per pair of coders and the disagreements listed per agreement.
#pragma once

#include <array>

#include "model.h"

namespace normbase::analysis {

// A 2x2 contingency of binary judgements: t[x][y] counts pairs where the first
// coding said x and the second y.
struct Table2 {
  std::array<std::array<double, 2>, 2> t{};
  void Add(int x, int y, double w = 1.0) { t[x][y] += w; }
  void Merge(const Table2& o);
};

// Cohen's kappa of a table of pairs; empty when undefined (no pairs, or
// chance agreement is certain because both codings never vary).
std::optional<double> CohenKappa(const Table2& pairs);

// Krippendorff's alpha from a coincidence matrix (nominal, binary); empty when
// undefined (no pairable values, or no variation at all).
std::optional<double> KrippendorffAlpha(const Table2& coincidences);

// Adds one unit's values (each 0 or 1, one per coder; at least two) to a
// coincidence matrix.
void AddUnit(const std::vector<int>& values, Table2* coincidences);

struct CoderCoding {
  std::string agreement_id;
  std::string coder;
  std::string source;
  std::vector<int> elements;  // sorted element indexes
};

// Parses the job's "codings" array (throws InputError). Uncoded entries
// (`codings: {}`) are dropped: a coder who has not coded gives no judgement.
std::vector<CoderCoding> CoderCodingsFromJson(const Json& codings, const CodebookIndex& cb);

// The result document without dataset_revision (added by the job layer).
// `coded`/`total` are the dataset's coverage.
Json RenderInterCoder(const std::vector<CoderCoding>& codings, const CodebookIndex& cb,
                      int64_t coded, int64_t total);

}  // namespace normbase::analysis
