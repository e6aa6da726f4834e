#include "intercoder.h"

#include <algorithm>
#include <map>
#include <set>

namespace normbase::analysis {

void Table2::Merge(const Table2& o) {
  for (int x = 0; x < 2; ++x)
    for (int y = 0; y < 2; ++y) t[x][y] += o.t[x][y];
}

std::optional<double> CohenKappa(const Table2& p) {
  const double n = p.t[0][0] + p.t[0][1] + p.t[1][0] + p.t[1][1];
  if (n <= 0) return std::nullopt;
  const double observed = (p.t[0][0] + p.t[1][1]) / n;
  const double first1 = (p.t[1][0] + p.t[1][1]) / n, second1 = (p.t[0][1] + p.t[1][1]) / n;
  const double expected = first1 * second1 + (1 - first1) * (1 - second1);
  if (expected >= 1.0 - 1e-12) return std::nullopt;
  return (observed - expected) / (1.0 - expected);
}

std::optional<double> KrippendorffAlpha(const Table2& o) {
  const double n0 = o.t[0][0] + o.t[0][1], n1 = o.t[1][0] + o.t[1][1];
  const double n = n0 + n1;
  if (n <= 1 || n0 * n1 <= 0) return std::nullopt;
  const double disagree = o.t[0][1] + o.t[1][0];
  return 1.0 - (n - 1) * disagree / (2.0 * n0 * n1);
}

void AddUnit(const std::vector<int>& values, Table2* o) {
  const double m = static_cast<double>(values.size());
  if (values.size() < 2) return;
  double ones = 0;
  for (int v : values) ones += v;
  const double zeros = m - ones;
  o->t[1][1] += ones * (ones - 1) / (m - 1);
  o->t[0][0] += zeros * (zeros - 1) / (m - 1);
  o->t[0][1] += zeros * ones / (m - 1);
  o->t[1][0] += zeros * ones / (m - 1);
}

std::vector<CoderCoding> CoderCodingsFromJson(const Json& codings, const CodebookIndex& cb) {
  if (!codings.is_array()) throw InputError("codings: expected an array");
  std::vector<CoderCoding> out;
  for (size_t i = 0; i < codings.size(); ++i) {
    const std::string where = "codings[" + std::to_string(i) + "]";
    const Json& c = codings[i];
    CoderCoding cc;
    for (auto [key, field] :
         {std::pair{"agreement_id", &cc.agreement_id}, std::pair{"coder", &cc.coder}}) {
      const Json& v = Member(c, key, where);
      if (!v.is_string() || v.get<std::string>().empty())
        throw InputError(where + "." + key + ": expected a non-empty string");
      *field = v.get<std::string>();
    }
    if (const Json* s = OptionalMember(c, "source"); s && s->is_string())
      cc.source = s->get<std::string>();
    const Json& set = Member(c, "codings", where);
    if (!set.is_object()) throw InputError(where + ".codings: expected an object");
    if (set.empty()) continue;
    for (const auto& [element, coding] : set.items()) {
      (void)coding;
      const int e = cb.ElementIndex(element);
      if (e < 0)
        throw InputError(where + ".codings." + element + ": unknown element (not in codebook " +
                         cb.Tag() + ")");
      cc.elements.push_back(e);
    }
    std::sort(cc.elements.begin(), cc.elements.end());
    out.push_back(std::move(cc));
  }
  return out;
}

namespace {

Json Opt(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

bool Has(const CoderCoding& c, int e) {
  return std::binary_search(c.elements.begin(), c.elements.end(), e);
}

}  // namespace

Json RenderInterCoder(const std::vector<CoderCoding>& all, const CodebookIndex& cb, int64_t coded,
                      int64_t total) {
  // One coding per coder and agreement: a later entry (a newer proposal) replaces an earlier one.
  std::map<std::string, std::vector<CoderCoding>> units;
  for (const CoderCoding& c : all) {
    auto& list = units[c.agreement_id];
    auto same = std::find_if(list.begin(), list.end(),
                             [&](const CoderCoding& x) { return x.coder == c.coder; });
    if (same != list.end())
      *same = c;
    else
      list.push_back(c);
  }
  const size_t ne = cb.elements();
  std::vector<Table2> alpha_by_element(ne), kappa_by_element(ne);
  std::vector<int64_t> units_by_element(ne, 0), disagreeing_by_element(ne, 0);
  std::map<std::pair<std::string, std::string>, std::pair<Table2, std::set<std::string>>> by_pair;
  Json disagreements = Json::array();
  int64_t multiply_coded = 0;
  for (const auto& [agreement, codings] : units) {
    if (codings.size() < 2) continue;
    ++multiply_coded;
    Json differing = Json::array();
    for (size_t e = 0; e < ne; ++e) {
      std::vector<int> values;
      Json yes = Json::array(), no = Json::array();
      for (const CoderCoding& c : codings) {
        values.push_back(Has(c, static_cast<int>(e)) ? 1 : 0);
        (values.back() ? yes : no).push_back(c.coder);
      }
      AddUnit(values, &alpha_by_element[e]);
      ++units_by_element[e];
      for (size_t i = 0; i < codings.size(); ++i)
        for (size_t k = i + 1; k < codings.size(); ++k) {
          kappa_by_element[e].Add(values[i], values[k]);
          // Coder pairs in name order, so (a, b) and (b, a) pool together.
          const bool swap = codings[k].coder < codings[i].coder;
          auto& [table, agreements] = by_pair[swap ? std::pair{codings[k].coder, codings[i].coder}
                                                   : std::pair{codings[i].coder, codings[k].coder}];
          table.Add(swap ? values[k] : values[i], swap ? values[i] : values[k]);
          agreements.insert(agreement);
        }
      if (!yes.empty() && !no.empty()) {
        ++disagreeing_by_element[e];
        differing.push_back(
            {{"element", cb.element_ids[e]}, {"coded_by", yes}, {"not_coded_by", no}});
      }
    }
    if (!differing.empty()) {
      Json coders = Json::array();
      for (const CoderCoding& c : codings)
        coders.push_back({{"coder", c.coder}, {"source", c.source}});
      disagreements.push_back(
          {{"agreement_id", agreement}, {"coders", coders}, {"elements", differing}});
    }
  }
  Table2 alpha_all, kappa_all;
  Json elements = Json::array();
  Json low = Json::array();
  for (size_t e = 0; e < ne; ++e) {
    alpha_all.Merge(alpha_by_element[e]);
    kappa_all.Merge(kappa_by_element[e]);
    const auto alpha = KrippendorffAlpha(alpha_by_element[e]);
    // Krippendorff's own bar: below 0.667 data are not relied on even tentatively.
    if (alpha && *alpha < 0.667) low.push_back(cb.element_ids[e]);
    elements.push_back({{"element", cb.element_ids[e]},
                        {"label", cb.element_labels[e]},
                        {"alpha", Opt(alpha)},
                        {"kappa", Opt(CohenKappa(kappa_by_element[e]))},
                        {"agreements", units_by_element[e]},
                        {"agreements_with_disagreement", disagreeing_by_element[e]}});
  }
  Json coders = Json::array();
  for (const auto& [pair, entry] : by_pair)
    coders.push_back({{"a", pair.first},
                      {"b", pair.second},
                      {"kappa", Opt(CohenKappa(entry.first))},
                      {"agreements", entry.second.size()}});
  Json doc;
  doc["coverage"] = CoverageJson(coded, total);
  doc["coverage"]["multiply_coded"] = multiply_coded;
  const auto overall_alpha = KrippendorffAlpha(alpha_all);
  doc["overall"] = {{"alpha", Opt(overall_alpha)},
                    {"kappa", Opt(CohenKappa(kappa_all))},
                    {"agreements", multiply_coded},
                    {"judgements", multiply_coded * static_cast<int64_t>(ne)}};
  doc["elements"] = elements;
  doc["coders"] = coders;
  doc["disagreements"] = disagreements;
  Json findings = Json::array();
  if (multiply_coded == 0) {
    findings.push_back(
        {{"id", "no-multiply-coded-agreements"},
         {"text", "No agreement is coded by more than one coder: agreement cannot be measured."}});
  } else if (overall_alpha) {
    const double a = *overall_alpha;
    findings.push_back(
        {{"id", "overall-reliability"},
         {"alpha", a},
         {"text", std::string("Across ") + std::to_string(multiply_coded) +
                      " agreement(s) coded more than once, Krippendorff's alpha is " +
                      std::to_string(a).substr(0, 5) +
                      (a >= 0.8     ? " (reliable)."
                       : a >= 0.667 ? " (tentative conclusions only)."
                                    : " (unreliable).")}});
  }
  if (!low.empty())
    findings.push_back(
        {{"id", "low-agreement-elements"},
         {"elements", low},
         {"text", "Elements with alpha below 0.667: coders read them differently."}});
  doc["findings"] = findings;
  return doc;
}

}  // namespace normbase::analysis
