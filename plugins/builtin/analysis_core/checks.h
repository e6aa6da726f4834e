// The four built-in validations of a proposal revision. Each takes the whole
// check job (see docs/plugins.md: proposal, current, dataset, codebook, config)
// and returns the check document {"status", "summary", "findings"}; a finding
// names the `field` (and `element`) it concerns, so that the UI and CLI can
// show it in place. "failed" iff at least one finding is an error.
//
// Throws InputError when the job itself is malformed (no proposal, a codebook
// that is not one); a malformed *record* is a finding, not an InputError,
// because reporting it is the check's purpose.
#pragma once

#include "model.h"

namespace normbase::analysis {

struct Finding {
  std::string severity;  // error | warning | info
  std::string field;     // "year", "codings.human-rights.evidence[0].locator", ...
  std::string element;   // element id, or empty
  std::string message;
  Json extra = Json::object();  // merged into the finding (match, score, ...)
};

Json CheckReport(const std::vector<Finding>& findings, const std::string& passed_summary);

// Required fields, year range, ids of elements / kind / stakeholder groups in
// the codebook the proposal names, well-formed URLs, no empty evidence.
// config: {"year_min": 1900, "year_max": 2100}
Json RunCodebookCheck(const Json& job);

// Every coded element carries at least one quote with a locator.
// config: {"strictness": "lenient" | "standard" | "strict"}
Json RunEvidenceCheck(const Json& job);

// An add that looks like an existing agreement: normalised title similarity,
// year, overlapping parties. config: {"warn_score": 0.75, "error_score": 0.95, "max_matches": 3}
Json RunDuplicatesCheck(const Json& job);

// Date agrees with year; parties present where the kind needs them; a recode
// (or amend) that changes nothing. config: {"kinds_needing_parties": [...],
// "no_op_severity": "warning"}
Json RunConsistencyCheck(const Json& job);

// Similarity of two titles in [0, 1] after normalisation: the larger of word
// Jaccard and character-trigram Dice (robust both to reordering and to typos).
double TitleSimilarity(const std::string& a, const std::string& b);

}  // namespace normbase::analysis
