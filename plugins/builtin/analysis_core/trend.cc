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
        throw InputError(std::string("config.") + key + ": expected an integer >= " + std::to_string(min));
      *out = v->get<int>();
    }
  };
  read_int("period_years", &c.period_years, 1);
  read_int("period_start", &c.period_start, -100000);
  read_int("min_coded_per_year", &c.min_coded_per_year, 1);
  if (const Json* v = OptionalMember(config, "min_t")) {
    if (!v->is_number() || v->get<double>() <= 0) throw InputError("config.min_t: expected a number > 0");
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
  for (size_t i = 0; i < x.size(); ++i) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
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
    s.direction = std::fabs(*s.slope) < kEpsilon ? "flat" : (*s.slope > 0 ? "growing" : "declining");
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

Json RenderTrend(const TrendState& state, const CodebookIndex& cb, const TrendConfig& config) {
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

  // One series per element and per category, from a count accessor.
  auto series = [&](auto count_in) {
    Json by_year = {{"count", Json::array()}, {"share", Json::array()}};
    Json cumulative = {{"count", Json::array()}, {"coded", Json::array()}, {"share", Json::array()}};
    std::vector<double> x, share;
    int64_t cum = 0, cum_coded = 0;
    std::map<int, int64_t> per_period;
    for (int y : years) {
      const Counts& c = state.by_year.at(y);
      const int64_t n = count_in(c);
      by_year["count"].push_back(n);
      by_year["share"].push_back(ShareJson(n, c.coded));
      cum += n;
      cum_coded += c.coded;
      cumulative["count"].push_back(cum);
      cumulative["coded"].push_back(cum_coded);
      cumulative["share"].push_back(ShareJson(cum, cum_coded));
      per_period[period_of(y)] += n;
      if (c.coded >= config.min_coded_per_year) {
        x.push_back(y);
        share.push_back(static_cast<double>(n) / static_cast<double>(c.coded));
      }
    }
    Json by_period = {{"count", Json::array()}, {"share", Json::array()}};
    for (const auto& [from, coded] : period_coded) {
      by_period["count"].push_back(per_period[from]);
      by_period["share"].push_back(ShareJson(per_period[from], coded));
    }
    const Slope slope = FitSlope(x, share, config.min_t);
    return std::make_pair(Json{{"by_year", by_year}, {"by_period", by_period},
                               {"cumulative", cumulative}, {"trend", SlopeJson(slope)}},
                          slope);
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
    findings.push_back({{"id", "growing"},
                        {"elements", growing},
                        {"categories", growing_cats},
                        {"text", "Growing over time (" + rule + "): " + JoinWords(growing_words) + "."}});
  if (!declining.empty())
    findings.push_back({{"id", "declining"},
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
