#include "trend.h"

#include <cmath>
#include <cstdio>

#include "frequency.h"

namespace normbase::analysis {

TrendConfig TrendConfig::FromJson(const Json& config) {
  TrendConfig c;
  auto read_int = [&](const char* key, int* out, int min) {
    if (const Json* v = OptionalMember(config, key)) {
      if (!v->is_number_integer() || v->get<int>() < min)
        throw InputError(std::string("config.") + key +
                         ": expected an integer >= " + std::to_string(min));
      *out = v->get<int>();
    }
  };
  read_int("period_years", &c.period_years, 1);
  read_int("period_start", &c.period_start, -100000);
  read_int("min_coded_per_year", &c.min_coded_per_year, 1);
  if (const Json* v = OptionalMember(config, "min_t")) {
    if (!v->is_number() || v->get<double>() <= 0)
      throw InputError("config.min_t: expected a number > 0");
    c.min_t = v->get<double>();
  }
  return c;
}

void TrendState::Apply(const Row& row, const CodebookIndex& cb, int sign) {
  if (!row.year) {
    undated.Apply(row, cb, sign);
    return;
  }
  auto it = by_year.try_emplace(*row.year, cb).first;
  it->second.Apply(row, cb, sign);
  if (it->second.total == 0) by_year.erase(it);  // keep the state compact and canonical
}

Json TrendState::ToJson(const CodebookIndex& cb) const {
  Json years = Json::object();
  for (const auto& [year, counts] : by_year) years[std::to_string(year)] = counts.ToJson(cb);
  return {{"codebook", cb.Tag()}, {"by_year", years}, {"undated", undated.ToJson(cb)}};
}

TrendState TrendState::FromJson(const Json& j, const CodebookIndex& cb) {
  CheckStateTag(j, cb, "previous.result.state");
  TrendState s(cb);
  const Json& years = Member(j, "by_year", "previous.result.state");
  if (!years.is_object()) throw InputError("previous.result.state.by_year: expected an object");
  for (const auto& [year, counts] : years.items()) {
    int y = 0;
    try {
      y = std::stoi(year);
    } catch (...) {
      throw InputError("previous.result.state.by_year: '" + year + "' is not a year");
    }
    s.by_year.emplace(y, Counts::FromJson(counts, cb, "previous.result.state.by_year." + year));
  }
  s.undated = Counts::FromJson(Member(j, "undated", "previous.result.state"), cb,
                               "previous.result.state.undated");
  return s;
}

Slope FitSlope(const std::vector<double>& x, const std::vector<double>& y, double min_t) {
  Slope s;
  s.years = static_cast<int>(x.size());
  const double n = static_cast<double>(x.size());
  if (x.size() < 2) {
    s.direction = "insufficient-data";
    return s;
  }
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  s.slope = sxy / sxx;
  if (x.size() < 3) {
    s.direction = "insufficient-data";
    return s;
  }
  double ssr = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double r = y[i] - (my + *s.slope * (x[i] - mx));
    ssr += r * r;
  }
  s.std_error = std::sqrt(ssr / (n - 2) / sxx);
  // Sums of squares of exact shares leave rounding noise; treat it as zero.
  constexpr double kEpsilon = 1e-12;
  if (*s.std_error < kEpsilon) {
    s.std_error = 0.0;
    s.direction =
        std::fabs(*s.slope) < kEpsilon ? "flat" : (*s.slope > 0 ? "growing" : "declining");
  } else {
    const double t = *s.slope / *s.std_error;
    s.direction = t >= min_t ? "growing" : (t <= -min_t ? "declining" : "no-clear-trend");
  }
  return s;
}

namespace {

Json SlopeJson(const Slope& s) {
  Json t = nullptr;
  if (s.slope && s.std_error && *s.std_error > 0) t = *s.slope / *s.std_error;
  return {{"slope", s.slope ? Json(*s.slope) : Json(nullptr)},
          {"std_error", s.std_error ? Json(*s.std_error) : Json(nullptr)},
          {"t", t},
          {"years", s.years},
          {"direction", s.direction}};
}

std::string Fixed1(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Points(double share_per_year) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.1f", share_per_year * 100.0);
  return buf;
}

}  // namespace

Json RenderTrend(const TrendState& state, const CodebookIndex& cb, const TrendConfig& config,
                 bool with_series) {
  std::vector<int> years;
  Counts all(cb);
  for (const auto& [year, counts] : state.by_year) {
    years.push_back(year);
    all.total += counts.total;
    all.coded += counts.coded;
  }
  Json doc;
  doc["coverage"] = CoverageJson(all.coded + state.undated.coded, all.total + state.undated.total);
  doc["coverage"]["undated"] = state.undated.total;
  doc["coverage"]["undated_coded"] = state.undated.coded;
  doc["years"] = years;
  Json coded_by_year = Json::array(), total_by_year = Json::array();
  for (int y : years) {
    coded_by_year.push_back(state.by_year.at(y).coded);
    total_by_year.push_back(state.by_year.at(y).total);
  }
  doc["coded_by_year"] = coded_by_year;
  doc["total_by_year"] = total_by_year;
  Json cumulative_coded = Json::array();
  int64_t running = 0;
  for (int y : years) cumulative_coded.push_back(running += state.by_year.at(y).coded);
  doc["cumulative_coded"] = cumulative_coded;

  // Periods present in the data, in order.
  auto period_of = [&](int y) {
    const int w = config.period_years;
    const int offset = y - config.period_start;
    const int k = offset >= 0 ? offset / w : -((-offset + w - 1) / w);
    return config.period_start + k * w;
  };
  std::map<int, int64_t> period_coded, period_total;
  for (int y : years) {
    period_coded[period_of(y)] += state.by_year.at(y).coded;
    period_total[period_of(y)] += state.by_year.at(y).total;
  }
  Json periods = Json::array();
  for (const auto& [from, coded] : period_coded) {
    const int to = from + config.period_years - 1;
    periods.push_back({{"id", std::to_string(from) + "-" + std::to_string(to)},
                       {"from", from},
                       {"to", to},
                       {"coded", coded},
                       {"total", period_total[from]}});
  }
  doc["periods"] = periods;

  // One series per element and per category, from a count accessor. Values
  // are gathered in plain vectors and turned into JSON once: building the
  // arrays member by member was most of the cost of an incremental update.
  std::vector<int> period_index;  // parallel to `years`
  {
    std::map<int, int> index_of;
    for (const auto& [from, coded] : period_coded)
      index_of.emplace(from, static_cast<int>(index_of.size()));
    for (int y : years) period_index.push_back(index_of.at(period_of(y)));
  }
  std::vector<const Counts*> year_counts;
  for (const auto& [year, counts] : state.by_year) year_counts.push_back(&counts);
  std::vector<int64_t> period_coded_list;
  for (const auto& [from, coded] : period_coded) period_coded_list.push_back(coded);
  auto shares = [](const std::vector<int64_t>& counts, const std::vector<int64_t>& of) {
    Json out = Json::array();
    out.get_ref<Json::array_t&>().reserve(counts.size());
    for (size_t i = 0; i < counts.size(); ++i) out.push_back(ShareJson(counts[i], of[i]));
    return out;
  };
  std::vector<int64_t> coded_list, cumulative_coded_list;
  for (const Counts* c : year_counts) {
    coded_list.push_back(c->coded);
    cumulative_coded_list.push_back(
        (cumulative_coded_list.empty() ? 0 : cumulative_coded_list.back()) + c->coded);
  }
  auto series = [&](auto count_in) {
    std::vector<int64_t> count(years.size()), cumulative(years.size()),
        per_period(period_coded_list.size(), 0);
    std::vector<double> x, share;
    int64_t cum = 0;
    for (size_t i = 0; i < years.size(); ++i) {
      const Counts& c = *year_counts[i];
      count[i] = count_in(c);
      cumulative[i] = cum += count[i];
      per_period[period_index[i]] += count[i];
      if (c.coded >= config.min_coded_per_year) {
        x.push_back(years[i]);
        share.push_back(static_cast<double>(count[i]) / static_cast<double>(c.coded));
      }
    }
    const Slope slope = FitSlope(x, share, config.min_t);
    Json item = Json::object();
    if (with_series) {
      Json by_year = Json::object(), by_period = Json::object(), cumulative_json = Json::object();
      by_year["share"] = shares(count, coded_list);
      by_year["count"] = std::move(count);
      by_period["share"] = shares(per_period, period_coded_list);
      by_period["count"] = std::move(per_period);
      cumulative_json["share"] = shares(cumulative, cumulative_coded_list);
      cumulative_json["count"] = std::move(cumulative);
      item["by_year"] = std::move(by_year);
      item["by_period"] = std::move(by_period);
      item["cumulative"] = std::move(cumulative_json);
    }
    item["trend"] = SlopeJson(slope);
    return std::make_pair(std::move(item), slope);
  };

  Json elements = Json::array(), growing = Json::array(), declining = Json::array();
  std::vector<std::string> growing_words, declining_words;
  auto note = [&](const std::string& id, const std::string& label, const Slope& s) {
    if (s.direction != "growing" && s.direction != "declining") return;
    std::string phrase = label + " (" + Points(*s.slope) + " points a year";
    if (s.std_error && *s.std_error > 0) phrase += " \u00b1 " + Points(*s.std_error).substr(1);
    phrase += ")";
    (s.direction == "growing" ? growing : declining).push_back(id);
    (s.direction == "growing" ? growing_words : declining_words).push_back(phrase);
  };
  for (size_t e = 0; e < cb.elements(); ++e) {
    auto [item, slope] = series([&](const Counts& c) { return c.elements[e]; });
    item["element"] = cb.element_ids[e];
    item["label"] = cb.element_labels[e];
    item["category"] = cb.category_ids[cb.element_category[e]];
    note(cb.element_ids[e], cb.element_labels[e], slope);
    elements.push_back(std::move(item));
  }
  Json categories = Json::array(), growing_cats = Json::array(), declining_cats = Json::array();
  for (size_t c = 0; c < cb.categories(); ++c) {
    auto [item, slope] = series([&](const Counts& counts) { return counts.categories[c]; });
    item["category"] = cb.category_ids[c];
    item["label"] = cb.category_labels[c];
    if (slope.direction == "growing") growing_cats.push_back(cb.category_ids[c]);
    if (slope.direction == "declining") declining_cats.push_back(cb.category_ids[c]);
    categories.push_back(std::move(item));
  }
  doc["elements"] = elements;
  doc["categories"] = categories;

  Json findings = Json::array();
  const std::string rule = "share of coded agreements by year, least-squares slope at least " +
                           Fixed1(config.min_t) + " standard errors from zero";
  if (!growing.empty())
    findings.push_back(
        {{"id", "growing"},
         {"elements", growing},
         {"categories", growing_cats},
         {"text", "Growing over time (" + rule + "): " + JoinWords(growing_words) + "."}});
  if (!declining.empty())
    findings.push_back(
        {{"id", "declining"},
         {"elements", declining},
         {"categories", declining_cats},
         {"text", "Declining over time (" + rule + "): " + JoinWords(declining_words) + "."}});
  int fit_years = 0;
  for (int y : years) fit_years += state.by_year.at(y).coded >= config.min_coded_per_year;
  if (fit_years < 3)
    findings.push_back({{"id", "insufficient-years"},
                        {"text", "Coded agreements span " + std::to_string(fit_years) +
                                     " year(s); a trend needs at least 3."}});
  doc["findings"] = findings;
  return doc;
}

}  // namespace normbase::analysis
