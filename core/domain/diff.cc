#include "domain/diff.h"

#include <nlohmann/json.hpp>
#include <set>

namespace normbase::domain {

namespace {

// The content fields a diff compares (bookkeeping like revision is left out).
const char* const kFields[] = {"title",      "year",          "date",  "kind",
                               "leading_stakeholders", "parties", "source_url",
                               "metadata_sources", "bpf_inclusion", "coding_status", "notes"};

Json Side(const Agreement* a) { return a ? ToJson(*a) : Json(nullptr); }

Json FieldOf(const Json& side, const char* f) { return side.is_null() ? Json(nullptr) : side[f]; }

Json CodingOf(const Json& side, const std::string& e) {
  if (side.is_null() || !side["codings"].contains(e)) return Json(nullptr);
  return side["codings"][e];
}

std::set<std::string> ElementKeys(std::initializer_list<const Json*> sides) {
  std::set<std::string> keys;
  for (const Json* s : sides)
    if (!s->is_null())
      for (auto it = (*s)["codings"].begin(); it != (*s)["codings"].end(); ++it) keys.insert(it.key());
  return keys;
}

}  // namespace

Json DiffAgreements(const Agreement* from, const Agreement* to) {
  const Json a = Side(from), b = Side(to);
  Json fields = Json::array(), elements = Json::array();
  for (const char* f : kFields) {
    Json x = FieldOf(a, f), y = FieldOf(b, f);
    if (x != y) fields.push_back({{"field", f}, {"from", x}, {"to", y}});
  }
  for (const auto& e : ElementKeys({&a, &b})) {
    Json x = CodingOf(a, e), y = CodingOf(b, e);
    if (x == y) continue;
    const char* change = x.is_null() ? "added" : y.is_null() ? "removed" : "changed";
    elements.push_back({{"element", e}, {"change", change}, {"from", x}, {"to", y}});
  }
  return Json{{"fields", fields}, {"elements", elements}};
}

Json ThreeWayDiff(const Agreement* base, const Agreement* current, const Agreement* proposed) {
  const Json b = Side(base), c = Side(current), p = Side(proposed);
  Json fields = Json::array(), elements = Json::array();
  auto entry = [](const char* key, const std::string& name, const Json& x, const Json& y,
                  const Json& z) {
    const bool conflict = y != x && z != x && y != z;
    return Json{{key, name}, {"base", x}, {"current", y}, {"proposed", z}, {"conflict", conflict}};
  };
  for (const char* f : kFields) {
    Json x = FieldOf(b, f), y = FieldOf(c, f), z = FieldOf(p, f);
    if (x != y || x != z) fields.push_back(entry("field", f, x, y, z));
  }
  for (const auto& e : ElementKeys({&b, &c, &p})) {
    Json x = CodingOf(b, e), y = CodingOf(c, e), z = CodingOf(p, e);
    if (x != y || x != z) elements.push_back(entry("element", e, x, y, z));
  }
  return Json{{"fields", fields}, {"elements", elements}};
}

}  // namespace normbase::domain
