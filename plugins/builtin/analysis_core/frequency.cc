#include "frequency.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <set>

namespace normbase::analysis {

FrequencyConfig FrequencyConfig::FromJson(const Json& config) {
  FrequencyConfig c;
  if (const Json* k = OptionalMember(config, "top_k")) {
    if (!k->is_number_integer() || k->get<int>() < 1)
      throw InputError("config.top_k: expected an integer >= 1");
    c.top_k = k->get<int>();
  }
  if (const Json* z = OptionalMember(config, "least_includes_zero")) {
    if (!z->is_boolean()) throw InputError("config.least_includes_zero: expected a boolean");
    c.least_includes_zero = z->get<bool>();
  }
  return c;
}

std::vector<int> TopK(const std::vector<int64_t>& values, const std::vector<bool>& eligible, int k,
                      bool from_bottom) {
  std::vector<int> idx;
  for (size_t i = 0; i < values.size(); ++i)
    if (eligible[i]) idx.push_back(static_cast<int>(i));
  std::vector<int64_t> keyed;
  for (int i : idx) keyed.push_back(from_bottom ? -values[i] : values[i]);
  const std::vector<int> ranks = CompetitionRanks(keyed);
  std::vector<std::pair<int, int>> chosen;  // (rank, index), stable in codebook order
  for (size_t p = 0; p < idx.size(); ++p)
    if (ranks[p] <= k) chosen.push_back({ranks[p], idx[p]});
  std::stable_sort(chosen.begin(), chosen.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<int> out;
  for (const auto& [rank, i] : chosen) out.push_back(i);
  return out;
}

std::string CountPhrase(const std::string& label, int64_t count, int64_t of) {
  const long pct =
      of > 0 ? std::lround(100.0 * static_cast<double>(count) / static_cast<double>(of)) : 0;
  return label + " (" + std::to_string(count) + " of " + std::to_string(of) +
         " coded agreements, " + std::to_string(pct) + "%)";
}

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += (i + 1 == words.size()) ? " and " : ", ";
    out += words[i];
  }
  return out;
}

namespace {

Json RankedList(const std::vector<int64_t>& counts, int64_t coded,
                const std::vector<std::string>& ids, const std::vector<std::string>& labels,
                const char* key, const std::function<Json(size_t)>& extra) {
  const std::vector<int> ranks = CompetitionRanks(counts);
  std::vector<size_t> order(counts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ranks[a] < ranks[b]; });
  Json out = Json::array();
  for (size_t i : order) {
    Json item = {{key, ids[i]},
                 {"label", labels[i]},
                 {"count", counts[i]},
                 {"share", ShareJson(counts[i], coded)},
                 {"rank", ranks[i]}};
    item.update(extra(i));
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

Json RenderFrequency(const Counts& counts, const CodebookIndex& cb, const FrequencyConfig& config) {
  Json doc;
  doc["coverage"] = CoverageJson(counts.coded, counts.total);
  doc["elements"] = RankedList(counts.elements, counts.coded, cb.element_ids, cb.element_labels,
                               "element", [&](size_t i) {
                                 return Json{{"category", cb.category_ids[cb.element_category[i]]}};
                               });
  std::vector<int64_t> per_category_elements(cb.categories(), 0);
  for (int c : cb.element_category) ++per_category_elements[c];
  doc["categories"] = RankedList(counts.categories, counts.coded, cb.category_ids,
                                 cb.category_labels, "category", [&](size_t i) {
                                   return Json{{"elements", per_category_elements[i]}};
                                 });
  Json findings = Json::array();
  Json most = Json::array(), least = Json::array();
  if (counts.coded == 0) {
    findings.push_back({{"id", "no-coded-agreements"},
                        {"text", "No agreement is coded (" +
                                     CoverageJson(0, counts.total)["text"].get<std::string>() +
                                     "): no frequency can be stated."}});
  } else {
    std::vector<bool> present(cb.elements());
    for (size_t i = 0; i < cb.elements(); ++i) present[i] = counts.elements[i] > 0;
    const std::vector<int> top = TopK(counts.elements, present, config.top_k, false);
    std::vector<bool> least_eligible =
        config.least_includes_zero ? std::vector<bool>(cb.elements(), true) : present;
    const std::vector<int> bottom = TopK(counts.elements, least_eligible, config.top_k, true);
    auto describe = [&](const std::vector<int>& which, Json* ids) {
      std::vector<std::string> phrases;
      for (int e : which) {
        ids->push_back(cb.element_ids[e]);
        phrases.push_back(CountPhrase(cb.element_labels[e], counts.elements[e], counts.coded));
      }
      return phrases;
    };
    const std::string k = std::to_string(config.top_k);
    if (!top.empty()) {
      auto phrases = describe(top, &most);
      const bool tie = static_cast<int>(top.size()) > config.top_k;
      findings.push_back({{"id", "most-frequent"},
                          {"elements", most},
                          {"tie", tie},
                          {"text", (tie ? std::to_string(top.size()) + " elements tie for the " +
                                              k + " most frequent places: "
                                        : std::string("The most frequent elements are ")) +
                                       JoinWords(phrases) + "."}});
    }
    if (!bottom.empty()) {
      auto phrases = describe(bottom, &least);
      std::set<int> cats;
      for (int e : bottom) cats.insert(cb.element_category[e]);
      Json cat_ids = Json::array();
      std::vector<std::string> cat_labels;
      for (int c : cats) {
        cat_ids.push_back(cb.category_ids[c]);
        cat_labels.push_back(cb.category_labels[c]);
      }
      const bool tie = static_cast<int>(bottom.size()) > config.top_k;
      std::string text = tie ? std::to_string(bottom.size()) + " elements tie for the " + k +
                                   " least frequent places: "
                             : "The " + k + " least frequent elements are ";
      text += JoinWords(phrases);
      text += cats.size() == 1 ? (bottom.size() > 1 ? "; they are all in the category "
                                                    : "; it is in the category ") +
                                     cat_labels[0] + "."
                               : "; they are in the categories " + JoinWords(cat_labels) + ".";
      findings.push_back({{"id", "least-frequent"},
                          {"elements", least},
                          {"tie", tie},
                          {"categories", cat_ids},
                          {"same_category", cats.size() == 1},
                          {"text", text}});
    }
    std::vector<bool> all_categories(cb.categories(), true);
    const std::vector<int> top_cat = TopK(counts.categories, all_categories, 1, false);
    if (!top_cat.empty() && counts.categories[top_cat[0]] > 0) {
      Json ids = Json::array();
      std::vector<std::string> phrases;
      for (int c : top_cat) {
        ids.push_back(cb.category_ids[c]);
        phrases.push_back(CountPhrase(cb.category_labels[c], counts.categories[c], counts.coded));
      }
      findings.push_back(
          {{"id", "most-frequent-category"},
           {"categories", ids},
           {"text", "The category found in most coded agreements is " + JoinWords(phrases) + "."}});
    }
  }
  doc["most_frequent"] = most;
  doc["least_frequent"] = least;
  doc["findings"] = findings;
  return doc;
}

}  // namespace normbase::analysis
