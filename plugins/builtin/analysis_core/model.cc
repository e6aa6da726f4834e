#include "model.h"

#include <algorithm>
#include <numeric>

namespace normbase::analysis {

namespace {

const Json& RequireArray(const Json& j, const char* key, const std::string& where) {
  const Json& v = Member(j, key, where);
  if (!v.is_array()) throw InputError(where + "." + key + ": expected an array");
  return v;
}

std::string StringMember(const Json& j, const char* key, const std::string& where) {
  const Json& v = Member(j, key, where);
  if (!v.is_string()) throw InputError(where + "." + key + ": expected a string");
  return v.get<std::string>();
}

}  // namespace

const Json& Member(const Json& object, const char* key, const std::string& where) {
  if (!object.is_object()) throw InputError(where + ": expected an object");
  auto it = object.find(key);
  if (it == object.end()) throw InputError(where + "." + key + ": is required");
  return *it;
}

const Json* OptionalMember(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

CodebookIndex CodebookIndex::FromJson(const Json& j) {
  CodebookIndex cb;
  cb.id = StringMember(j, "codebook", "codebook");
  const Json& version = Member(j, "version", "codebook");
  if (!version.is_number_integer()) throw InputError("codebook.version: expected an integer");
  cb.version = version.get<int64_t>();
  const Json& cats = RequireArray(j, "categories", "codebook");
  for (size_t c = 0; c < cats.size(); ++c) {
    const std::string where = "codebook.categories[" + std::to_string(c) + "]";
    const std::string cid = StringMember(cats[c], "id", where);
    if (cb.category_index_.count(cid)) throw InputError(where + ".id: duplicate '" + cid + "'");
    cb.category_index_[cid] = static_cast<int>(cb.category_ids.size());
    cb.category_ids.push_back(cid);
    const Json* label = OptionalMember(cats[c], "label");
    cb.category_labels.push_back(label && label->is_string() ? label->get<std::string>() : cid);
    const Json& elements = RequireArray(cats[c], "elements", where);
    for (size_t e = 0; e < elements.size(); ++e) {
      const std::string ew = where + ".elements[" + std::to_string(e) + "]";
      const std::string eid = StringMember(elements[e], "id", ew);
      if (cb.element_index_.count(eid)) throw InputError(ew + ".id: duplicate '" + eid + "'");
      cb.element_index_[eid] = static_cast<int>(cb.element_ids.size());
      cb.element_ids.push_back(eid);
      const Json* el = OptionalMember(elements[e], "label");
      cb.element_labels.push_back(el && el->is_string() ? el->get<std::string>() : eid);
      cb.element_category.push_back(static_cast<int>(c));
    }
  }
  for (const char* vocab : {"agreement_kinds", "stakeholder_groups"}) {
    const Json* terms = OptionalMember(j, vocab);
    if (terms == nullptr) continue;
    if (!terms->is_array())
      throw InputError(std::string("codebook.") + vocab + ": expected an array");
    for (size_t i = 0; i < terms->size(); ++i) {
      const std::string id = StringMember(
          (*terms)[i], "id", std::string("codebook.") + vocab + "[" + std::to_string(i) + "]");
      (std::string(vocab) == "agreement_kinds" ? cb.kinds : cb.groups).insert(id);
    }
  }
  return cb;
}

int CodebookIndex::ElementIndex(const std::string& id) const {
  auto it = element_index_.find(id);
  return it == element_index_.end() ? -1 : it->second;
}

int CodebookIndex::CategoryIndex(const std::string& id) const {
  auto it = category_index_.find(id);
  return it == category_index_.end() ? -1 : it->second;
}

Row RowFromRecord(const Json& record, const CodebookIndex& codebook, bool* retired) {
  if (!record.is_object()) throw InputError("agreement: expected an object");
  Row row;
  auto id = record.find("id");
  if (id == record.end() || !id->is_string()) throw InputError("agreement.id: expected a string");
  row.id = id->get<std::string>();
  const std::string where = "agreement '" + row.id + "'";
  if (const Json* year = OptionalMember(record, "year")) {
    if (!year->is_number_integer()) throw InputError(where + ".year: expected an integer or null");
    row.year = year->get<int>();
  }
  if (const Json* codings = OptionalMember(record, "codings")) {
    if (!codings->is_object()) throw InputError(where + ".codings: expected an object");
    row.coded = !codings->empty();
    for (const auto& [element, coding] : codings->items()) {
      (void)coding;
      int index = codebook.ElementIndex(element);
      if (index >= 0) row.elements.push_back(index);
    }
    std::sort(row.elements.begin(), row.elements.end());
  }
  if (retired != nullptr) {
    const Json* r = OptionalMember(record, "retired");
    *retired = r != nullptr && r->is_boolean() && r->get<bool>();
  }
  return row;
}

std::vector<Row> RowsFromRecords(const Json& agreements, const CodebookIndex& codebook,
                                 const JobHooks* hooks) {
  if (!agreements.is_array()) throw InputError("dataset.agreements: expected an array");
  // Often enough to stop within milliseconds, rarely enough to cost nothing.
  constexpr size_t kCheckEvery = 4096;
  std::vector<Row> rows;
  rows.reserve(agreements.size());
  for (size_t i = 0; i < agreements.size(); ++i) {
    if (hooks != nullptr && i % kCheckEvery == kCheckEvery - 1) {
      if (hooks->cancelled && hooks->cancelled()) throw Cancelled();
      if (hooks->progress)
        hooks->progress(static_cast<double>(i) / static_cast<double>(agreements.size()));
    }
    bool retired = false;
    Row row = RowFromRecord(agreements[i], codebook, &retired);
    if (!retired) rows.push_back(std::move(row));
  }
  return rows;
}

Json CoverageJson(int64_t coded, int64_t total) {
  return {{"coded", coded},
          {"total", total},
          {"text", std::to_string(coded) + " of " + std::to_string(total) + " agreements coded"}};
}

Json ShareJson(int64_t count, int64_t denominator) {
  if (denominator <= 0) return nullptr;
  return static_cast<double>(count) / static_cast<double>(denominator);
}

std::vector<int> CompetitionRanks(const std::vector<int64_t>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] > values[b]; });
  std::vector<int> ranks(values.size());
  for (size_t pos = 0; pos < order.size(); ++pos) {
    if (pos > 0 && values[order[pos]] == values[order[pos - 1]])
      ranks[order[pos]] = ranks[order[pos - 1]];
    else
      ranks[order[pos]] = static_cast<int>(pos) + 1;
  }
  return ranks;
}

}  // namespace normbase::analysis
