// Trend over time: per element and per category, the share of coded
// agreements by year, by period and cumulatively, and a plain trend statistic:
// the ordinary least-squares slope of the yearly share on the year with its
// standard error, so that "growing over time" is a measured claim (the slope
// is more than `min_t` standard errors above zero) rather than an impression.
#pragma once

#include <map>

#include "counts.h"

namespace normbase::analysis {

struct TrendConfig {
  int period_years = 5;        // width of a period
  int period_start = 1990;     // periods are [start + k*width, start + (k+1)*width - 1]
  double min_t = 2.0;          // |slope / std_error| needed to call a trend
  int min_coded_per_year = 1;  // years with fewer coded agreements are left out of the fit
  static TrendConfig FromJson(const Json& config);  // throws InputError
};

// Sufficient statistics: counts per year, plus agreements without a year
// (counted in coverage, left out of every series).
struct TrendState {
  std::map<int, Counts> by_year;
  Counts undated;
  explicit TrendState(const CodebookIndex& cb = {}) : undated(cb) {}
  void Apply(const Row& row, const CodebookIndex& cb, int sign);
  bool operator==(const TrendState&) const = default;
  Json ToJson(const CodebookIndex& cb) const;
  static TrendState FromJson(const Json& j, const CodebookIndex& cb);  // throws InputError
};

struct Slope {
  std::optional<double> slope;      // share per year; none with fewer than 2 years
  std::optional<double> std_error;  // none with fewer than 3 years
  int years = 0;
  std::string direction;  // growing | declining | flat | no-clear-trend | insufficient-data
};

// OLS of y on x with the classical standard error of the slope.
Slope FitSlope(const std::vector<double>& x, const std::vector<double>& y, double min_t);

// {"coverage" (+ "undated"), "years", "coded_by_year", "total_by_year",
//  "cumulative_coded", "periods", "elements": [{element, label,
//  category, by_year: {count, share}, by_period: {count, share}, cumulative: {count, share},
//  trend: {slope, std_error, t, years, direction}}], "categories": [...], "findings"}
// Without `with_series` only the trend statistics and findings are rendered
// (what impact compares), not the by_year/by_period/cumulative arrays.
Json RenderTrend(const TrendState& state, const CodebookIndex& cb, const TrendConfig& config,
                 bool with_series = true);

}  // namespace normbase::analysis
