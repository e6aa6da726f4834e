// The shared vocabulary of the built-in analyses and checks: a parsed codebook
// index, a compact per-agreement row (id, year, coded element indexes) and the
// coverage statement every result carries. Pure and I/O-free; the plugin
// entry points (plugins/builtin/*/plugin.cc) feed it the job's JSON.
//
// Malformed input is reported by throwing InputError with a message naming the
// offending member; the plugin layer turns it into NB_PLUGIN_BAD_INPUT at the C
// boundary, so no exception leaves the shared library.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace normbase::analysis {

using Json = nlohmann::json;

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The codebook as index tables: elements and categories are addressed by their
// position in codebook order, so that counts are plain vectors.
struct CodebookIndex {
  std::string id;
  int64_t version = 0;
  std::vector<std::string> element_ids;     // codebook order
  std::vector<std::string> element_labels;  // same order
  std::vector<int> element_category;        // index into category_ids
  std::vector<std::string> category_ids;
  std::vector<std::string> category_labels;
  std::unordered_set<std::string> kinds;
  std::unordered_set<std::string> groups;

  // Throws InputError when `codebook` is not shaped like data/seed/codebook.json.
  static CodebookIndex FromJson(const Json& codebook);
  int ElementIndex(const std::string& id) const;   // -1 when unknown
  int CategoryIndex(const std::string& id) const;  // -1 when unknown
  size_t elements() const { return element_ids.size(); }
  size_t categories() const { return category_ids.size(); }
  // "normbase-starter v1": the tag stored in incremental state, so that a state
  // computed under another codebook is never reused.
  std::string Tag() const { return id + " v" + std::to_string(version); }

 private:
  std::unordered_map<std::string, int> element_index_;
  std::unordered_map<std::string, int> category_index_;
};

// What the analyses need of one agreement. `coded` is false for `codings: {}`
// (not coded: left out of every denominator). Elements unknown to the codebook
// are dropped from `elements` but the agreement still counts as coded.
struct Row {
  std::string id;
  std::optional<int> year;
  bool coded = false;
  std::vector<int> elements;  // sorted element indexes
};

// Throws InputError when `record` is not an object with a string id. Retired
// records (`"retired": true`) are rows with retired set; callers skip them.
Row RowFromRecord(const Json& record, const CodebookIndex& codebook, bool* retired = nullptr);

// What the host offers a long job: whether it has been cancelled (deadline
// passed, worker draining) and a place to report progress in [0, 1]. Either
// may be empty.
struct JobHooks {
  std::function<bool()> cancelled;
  std::function<void(double)> progress;
};

// Thrown when JobHooks::cancelled answered true; the plugin layer reports it
// as a failure (NB_PLUGIN_FAILED), not as bad input.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled by the host") {}
};

// Rows of every non-retired record of `agreements` (a JSON array): the one
// pass over the whole dataset, so it is where a long job reports progress
// and notices cancellation (every few thousand records).
std::vector<Row> RowsFromRecords(const Json& agreements, const CodebookIndex& codebook,
                                 const JobHooks* hooks = nullptr);

// {"coded": C, "total": T, "text": "C of T agreements coded"}
Json CoverageJson(int64_t coded, int64_t total);

// share = count / denominator, or null when the denominator is zero (a share
// of nothing is unknown, not 0).
Json ShareJson(int64_t count, int64_t denominator);

// Competition ranks ("1224"): position 1 is the largest value; equal values
// share the rank of the first of them.
std::vector<int> CompetitionRanks(const std::vector<int64_t>& values);

// Reads a required member, throwing InputError("<where>.<key>: ...") if absent
// or of the wrong type.
const Json& Member(const Json& object, const char* key, const std::string& where);
const Json* OptionalMember(const Json& object, const char* key);

}  // namespace normbase::analysis
