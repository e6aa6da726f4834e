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
  Json e = Json::object(), c = Json::object();
  for (size_t i = 0; i < elements.size(); ++i)
    if (elements[i] != 0) e[cb.element_ids[i]] = elements[i];
  for (size_t i = 0; i < categories.size(); ++i)
    if (categories[i] != 0) c[cb.category_ids[i]] = categories[i];
  return {{"total", total}, {"coded", coded}, {"elements", e}, {"categories", c}};
}

namespace {

int64_t Int(const Json& j, const char* key, const std::string& where) {
  const Json& v = Member(j, key, where);
  if (!v.is_number_integer()) throw InputError(where + "." + key + ": expected an integer");
  return v.get<int64_t>();
}

}  // namespace

Counts Counts::FromJson(const Json& j, const CodebookIndex& cb, const std::string& where) {
  Counts counts(cb);
  counts.total = Int(j, "total", where);
  counts.coded = Int(j, "coded", where);
  const Json& e = Member(j, "elements", where);
  const Json& c = Member(j, "categories", where);
  if (!e.is_object() || !c.is_object()) throw InputError(where + ": elements/categories must be objects");
  for (const auto& [id, n] : e.items()) {
    const int index = cb.ElementIndex(id);
    if (index < 0 || !n.is_number_integer())
      throw InputError(where + ".elements." + id + ": unknown element or not a count");
    counts.elements[index] = n.get<int64_t>();
  }
  for (const auto& [id, n] : c.items()) {
    const int index = cb.CategoryIndex(id);
    if (index < 0 || !n.is_number_integer())
      throw InputError(where + ".categories." + id + ": unknown category or not a count");
    counts.categories[index] = n.get<int64_t>();
  }
  return counts;
}

void PairCounts::Apply(const Row& row, int sign) {
  if (!row.coded) return;
  for (size_t i = 0; i < row.elements.size(); ++i)
    for (size_t k = i + 1; k < row.elements.size(); ++k)
      pairs[static_cast<size_t>(row.elements[i]) * n + row.elements[k]] += sign;
}

Json PairCounts::ToJson(const CodebookIndex& cb) const {
  Json out = Json::array();
  for (size_t a = 0; a < n; ++a)
    for (size_t b = a + 1; b < n; ++b)
      if (const int64_t v = pairs[a * n + b]; v != 0)
        out.push_back(Json::array({cb.element_ids[a], cb.element_ids[b], v}));
  return out;
}

PairCounts PairCounts::FromJson(const Json& j, const CodebookIndex& cb, const std::string& where) {
  if (!j.is_array()) throw InputError(where + ": expected an array of [a, b, count]");
  PairCounts pc(cb.elements());
  for (const Json& entry : j) {
    if (!entry.is_array() || entry.size() != 3 || !entry[0].is_string() || !entry[1].is_string() ||
        !entry[2].is_number_integer())
      throw InputError(where + ": expected [a, b, count] entries");
    int a = cb.ElementIndex(entry[0].get<std::string>());
    int b = cb.ElementIndex(entry[1].get<std::string>());
    if (a < 0 || b < 0 || a == b) throw InputError(where + ": unknown element in " + entry.dump());
    if (a > b) std::swap(a, b);
    pc.pairs[static_cast<size_t>(a) * pc.n + b] = entry[2].get<int64_t>();
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
