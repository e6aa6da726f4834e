#include "cooccurrence.h"

#include <algorithm>
#include <unordered_set>

#include "frequency.h"

namespace normbase::analysis {

CooccurrenceConfig CooccurrenceConfig::FromJson(const Json& config) {
  CooccurrenceConfig c;
  if (const Json* k = OptionalMember(config, "nearest_k")) {
    if (!k->is_number_integer() || k->get<int>() < 1)
      throw InputError("config.nearest_k: expected an integer >= 1");
    c.nearest_k = k->get<int>();
  }
  if (const Json* m = OptionalMember(config, "nearest_all_max")) {
    if (!m->is_number_integer() || m->get<int64_t>() < 0)
      throw InputError("config.nearest_all_max: expected an integer >= 0");
    c.nearest_all_max = m->get<int64_t>();
  }
  if (const Json* to = OptionalMember(config, "nearest_to")) {
    if (!to->is_array()) throw InputError("config.nearest_to: expected an array of agreement ids");
    for (const Json& id : *to) {
      if (!id.is_string())
        throw InputError("config.nearest_to: expected an array of agreement ids");
      c.nearest_to.push_back(id.get<std::string>());
    }
  }
  return c;
}

Json CooccurrenceState::ToJson(const CodebookIndex& cb) const {
  return {{"codebook", cb.Tag()}, {"counts", counts.ToJson(cb)}, {"pairs", pairs.ToJson(cb)}};
}

CooccurrenceState CooccurrenceState::FromJson(const Json& j, const CodebookIndex& cb) {
  const std::string where = "previous.result.state";
  CheckStateTag(j, cb, where);
  CooccurrenceState s(cb);
  s.counts = Counts::FromJson(Member(j, "counts", where), cb, where + ".counts");
  s.pairs = PairCounts::FromJson(Member(j, "pairs", where), cb, where + ".pairs");
  return s;
}

double Jaccard(const std::vector<int>& a, const std::vector<int>& b, std::vector<int>* shared) {
  size_t i = 0, k = 0, both = 0;
  while (i < a.size() && k < b.size()) {
    if (a[i] == b[k]) {
      if (shared) shared->push_back(a[i]);
      ++both, ++i, ++k;
    } else if (a[i] < b[k]) {
      ++i;
    } else {
      ++k;
    }
  }
  const size_t either = a.size() + b.size() - both;
  return either == 0 ? 0.0 : static_cast<double>(both) / static_cast<double>(either);
}

Json Nearest(const std::vector<Row>& rows, const Row& target, int k, const CodebookIndex& cb) {
  std::vector<std::pair<double, const Row*>> scored;
  for (const Row& row : rows) {
    if (!row.coded || row.id == target.id) continue;
    const double s = Jaccard(target.elements, row.elements);
    if (s > 0) scored.push_back({s, &row});
  }
  auto better = [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first > y.first : x.second->id < y.second->id;
  };
  const size_t keep = std::min<size_t>(scored.size(), static_cast<size_t>(k));
  std::partial_sort(scored.begin(), scored.begin() + keep, scored.end(), better);
  Json out = Json::array();
  for (size_t i = 0; i < keep; ++i) {
    std::vector<int> shared;
    Jaccard(target.elements, scored[i].second->elements, &shared);
    Json ids = Json::array();
    for (int e : shared) ids.push_back(cb.element_ids[e]);
    out.push_back({{"id", scored[i].second->id}, {"score", scored[i].first}, {"shared", ids}});
  }
  return out;
}

Json RenderCooccurrence(const CooccurrenceState& state, const CodebookIndex& cb,
                        const CooccurrenceConfig& config, const std::vector<Row>* rows,
                        bool with_lists) {
  const Counts& counts = state.counts;
  Json doc;
  doc["coverage"] = CoverageJson(counts.coded, counts.total);
  if (with_lists) {
    Json elements = Json::array();
    for (size_t e = 0; e < cb.elements(); ++e)
      elements.push_back({{"element", cb.element_ids[e]}, {"count", counts.elements[e]}});
    doc["elements"] = std::move(elements);
  }
  struct Pair {
    int a, b;
    int64_t n;
    double jaccard;
  };
  std::vector<Pair> pairs;
  for (size_t a = 0; a < cb.elements(); ++a)
    for (size_t b = a + 1; b < cb.elements(); ++b) {
      const int64_t n = state.pairs.At(static_cast<int>(a), static_cast<int>(b));
      if (n <= 0) continue;
      const int64_t either = counts.elements[a] + counts.elements[b] - n;
      pairs.push_back({static_cast<int>(a), static_cast<int>(b), n,
                       either > 0 ? static_cast<double>(n) / static_cast<double>(either) : 0.0});
    }
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) {
    return x.n != y.n ? x.n > y.n : x.jaccard > y.jaccard;
  });
  Json out = Json::array();
  for (const Pair& p : with_lists ? pairs : std::vector<Pair>{}) {
    const double expected = static_cast<double>(counts.elements[p.a]) *
                            static_cast<double>(counts.elements[p.b]) /
                            static_cast<double>(counts.coded);
    out.push_back({{"a", cb.element_ids[p.a]},
                   {"b", cb.element_ids[p.b]},
                   {"count", p.n},
                   {"jaccard", p.jaccard},
                   {"lift", static_cast<double>(p.n) / expected}});
  }
  if (with_lists) doc["pairs"] = std::move(out);
  Json findings = Json::array();
  if (!pairs.empty()) {
    std::vector<std::string> words;
    Json top = Json::array();
    for (const Pair& p : pairs) {
      if (p.n != pairs.front().n) break;
      words.push_back(cb.element_labels[p.a] + " with " + cb.element_labels[p.b]);
      top.push_back(Json::array({cb.element_ids[p.a], cb.element_ids[p.b]}));
    }
    findings.push_back({{"id", "most-frequent-pair"},
                        {"pairs", top},
                        {"text", "The elements most often found together are " + JoinWords(words) +
                                     " (" + std::to_string(pairs.front().n) + " of " +
                                     std::to_string(counts.coded) + " coded agreements)."}});
  }
  doc["findings"] = findings;
  if (rows != nullptr) {
    Json nearest = Json::object();
    std::unordered_set<std::string> wanted(config.nearest_to.begin(), config.nearest_to.end());
    const bool all = counts.coded <= config.nearest_all_max;
    for (const Row& row : *rows)
      if (row.coded && (all || wanted.count(row.id)))
        nearest[row.id] = Nearest(*rows, row, config.nearest_k, cb);
    doc["nearest"] = nearest;
  }
  return doc;
}

}  // namespace normbase::analysis
