#include "counts.h"

namespace normbase::analysis {

void Counts::Apply(const Row& row, const CodebookIndex& cb, int sign) {
  total += sign;
  if (!row.coded) return;
  coded += sign;
  std::vector<bool> seen(categories.size(), false);
  for (int e : row.elements) {
    elements[e] += sign;
    const int c = cb.element_category[e];
    if (!seen[c]) {
      seen[c] = true;
      categories[c] += sign;
    }
  }
}

Json Counts::ToJson(const CodebookIndex& cb) const {
  (void)cb;
  Json out = Json::array();
  out.get_ref<Json::array_t&>().reserve(2 + elements.size() + categories.size());
  out.push_back(total);
  out.push_back(coded);
  for (int64_t v : elements) out.push_back(v);
  for (int64_t v : categories) out.push_back(v);
  return out;
}

Counts Counts::FromJson(const Json& j, const CodebookIndex& cb, const std::string& where) {
  Counts counts(cb);
  const size_t expected = 2 + cb.elements() + cb.categories();
  if (!j.is_array() || j.size() != expected)
    throw InputError(where + ": expected an array of " + std::to_string(expected) +
                     " counts (total, coded, per element, per category)");
  for (const Json& v : j)
    if (!v.is_number_integer()) throw InputError(where + ": expected integer counts");
  counts.total = j[0].get<int64_t>();
  counts.coded = j[1].get<int64_t>();
  for (size_t e = 0; e < cb.elements(); ++e) counts.elements[e] = j[2 + e].get<int64_t>();
  for (size_t c = 0; c < cb.categories(); ++c)
    counts.categories[c] = j[2 + cb.elements() + c].get<int64_t>();
  return counts;
}

void PairCounts::Apply(const Row& row, int sign) {
  if (!row.coded) return;
  for (size_t i = 0; i < row.elements.size(); ++i)
    for (size_t k = i + 1; k < row.elements.size(); ++k)
      pairs[static_cast<size_t>(row.elements[i]) * n + row.elements[k]] += sign;
}

Json PairCounts::ToJson(const CodebookIndex& cb) const {
  (void)cb;
  Json out = Json::array();
  out.get_ref<Json::array_t&>().reserve(n * (n - 1) / 2);
  for (size_t a = 0; a < n; ++a)
    for (size_t b = a + 1; b < n; ++b) out.push_back(pairs[a * n + b]);
  return out;
}

PairCounts PairCounts::FromJson(const Json& j, const CodebookIndex& cb, const std::string& where) {
  PairCounts pc(cb.elements());
  const size_t n = pc.n, expected = n * (n - 1) / 2;
  if (!j.is_array() || j.size() != expected)
    throw InputError(where + ": expected an array of " + std::to_string(expected) + " pair counts");
  size_t i = 0;
  for (size_t a = 0; a < n; ++a)
    for (size_t b = a + 1; b < n; ++b, ++i) {
      if (!j[i].is_number_integer()) throw InputError(where + ": expected integer counts");
      pc.pairs[a * n + b] = j[i].get<int64_t>();
    }
  return pc;
}

std::vector<Change> ChangesFromJson(const Json& changes, const CodebookIndex& cb) {
  if (!changes.is_array()) throw InputError("changes: expected an array");
  std::vector<Change> out;
  for (size_t i = 0; i < changes.size(); ++i) {
    const std::string where = "changes[" + std::to_string(i) + "]";
    if (!changes[i].is_object()) throw InputError(where + ": expected an object");
    Change change;
    for (const char* side : {"before", "after"}) {
      const Json* record = OptionalMember(changes[i], side);
      if (record == nullptr) continue;
      bool retired = false;
      Row row = RowFromRecord(*record, cb, &retired);
      if (retired) continue;
      (std::string(side) == "before" ? change.before : change.after) = std::move(row);
    }
    out.push_back(std::move(change));
  }
  return out;
}

void CheckStateTag(const Json& state, const CodebookIndex& cb, const std::string& where) {
  const Json* tag = OptionalMember(state, "codebook");
  if (tag == nullptr || !tag->is_string() || tag->get<std::string>() != cb.Tag())
    throw InputError(where + ": state was built for codebook '" +
                     (tag && tag->is_string() ? tag->get<std::string>() : std::string("?")) +
                     "', this job has '" + cb.Tag() + "'");
}

}  // namespace normbase::analysis
