#include "api/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace normbase::api {
namespace {

// Sample lines of a rendering: "name{labels}" -> value text.
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    EXPECT_NE(sp, std::string::npos) << line;
    EXPECT_TRUE(out.emplace(line.substr(0, sp), line.substr(sp + 1)).second)
        << "duplicate series: " << line;
  }
  return out;
}

std::string Value(const std::string& text, const std::string& series) {
  auto samples = Samples(text);
  auto it = samples.find(series);
  return it == samples.end() ? "<missing>" : it->second;
}

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

// Every family has exactly one # HELP and one # TYPE, before its samples,
// and no family is declared twice.
void ExpectWellFormed(const std::string& text) {
  std::set<std::string> declared;
  std::map<std::string, std::string> type_of;
  std::string current;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(declared.insert(current).second) << "declared twice: " << current;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_EQ(name, current) << line;
      type_of[name] = line.substr(line.rfind(' ') + 1);
      continue;
    }
    std::string name = line.substr(0, line.find_first_of("{ "));
    bool ok = name == current;
    if (type_of[current] == "histogram") {
      ok = name == current + "_bucket" || name == current + "_sum" || name == current + "_count";
    }
    EXPECT_TRUE(ok) << "sample outside its family: " << line;
  }
}

TEST(MetricsTest, EmptyRegistryDeclaresRequestFamilies) {
  Metrics m;
  EXPECT_EQ(m.Render({}),
            "# HELP normbase_http_requests_total HTTP requests by method, route template and "
            "status.\n"
            "# TYPE normbase_http_requests_total counter\n"
            "# HELP normbase_http_request_duration_seconds HTTP request duration in seconds by "
            "method and route template.\n"
            "# TYPE normbase_http_request_duration_seconds histogram\n");
}

TEST(MetricsTest, CountsRequestsByMethodRouteAndStatus) {
  Metrics m;
  for (int i = 0; i < 3; ++i) m.ObserveRequest("GET", "/api/v1/proposals/{id}", 200, 0.002);
  m.ObserveRequest("GET", "/api/v1/proposals/{id}", 404, 0.001);
  m.ObserveRequest("POST", "/api/v1/proposals", 201, 0.02);

  const std::string text = m.Render({});
  ExpectWellFormed(text);
  EXPECT_EQ(Value(text, R"(normbase_http_requests_total{method="GET",)"
                        R"(route="/api/v1/proposals/{id}",status="200"})"),
            "3");
  EXPECT_EQ(Value(text, R"(normbase_http_requests_total{method="GET",)"
                        R"(route="/api/v1/proposals/{id}",status="404"})"),
            "1");
  EXPECT_EQ(Value(text, R"(normbase_http_requests_total{method="POST",)"
                        R"(route="/api/v1/proposals",status="201"})"),
            "1");
  // The histogram has no status label: both GET statuses land in one series.
  EXPECT_EQ(Value(text, R"(normbase_http_request_duration_seconds_count{method="GET",)"
                        R"(route="/api/v1/proposals/{id}"})"),
            "4");
  EXPECT_EQ(Count(text, "# TYPE normbase_http_requests_total counter\n"), 1);
  EXPECT_EQ(Count(text, "# TYPE normbase_http_request_duration_seconds histogram\n"), 1);
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndUpperInclusive) {
  Metrics m;
  // 0.001 sits exactly on a bound and belongs to le="0.001".
  for (double s : {0.0001, 0.001, 0.003, 0.003, 0.75, 10.0}) m.ObserveRequest("GET", "/x", 200, s);

  const std::string text = m.Render({});
  ExpectWellFormed(text);
  const std::string p = R"(normbase_http_request_duration_seconds_bucket{method="GET",route="/x",)";
  const std::vector<std::pair<std::string, std::string>> want = {
      {"0.0005", "1"}, {"0.001", "2"}, {"0.0025", "2"}, {"0.005", "4"}, {"0.01", "4"},
      {"0.025", "4"},  {"0.05", "4"},  {"0.1", "4"},    {"0.25", "4"},  {"0.5", "4"},
      {"1", "5"},      {"2.5", "5"},   {"5", "5"},      {"+Inf", "6"}};
  for (const auto& [le, n] : want) {
    EXPECT_EQ(Value(text, p + "le=\"" + le + "\"}"), n) << "le=" << le;
  }
  EXPECT_EQ(Count(text, "normbase_http_request_duration_seconds_bucket{"), 14);
  EXPECT_EQ(Value(text, R"(normbase_http_request_duration_seconds_count{method="GET",route="/x"})"),
            "6");
  const double sum = std::stod(
      Value(text, R"(normbase_http_request_duration_seconds_sum{method="GET",route="/x"})"));
  EXPECT_DOUBLE_EQ(sum, 0.0001 + 0.001 + 0.003 + 0.003 + 0.75 + 10.0);
}

TEST(MetricsTest, BadDurationsCountAsZero) {
  Metrics m;
  m.ObserveRequest("GET", "/x", 200, -1);
  m.ObserveRequest("GET", "/x", 200, std::numeric_limits<double>::quiet_NaN());
  m.ObserveRequest("GET", "/x", 200, std::numeric_limits<double>::infinity());
  const std::string text = m.Render({});
  EXPECT_EQ(Value(text, R"(normbase_http_request_duration_seconds_bucket{method="GET",)"
                        R"(route="/x",le="0.0005"})"),
            "3");
  EXPECT_EQ(Value(text, R"(normbase_http_request_duration_seconds_sum{method="GET",route="/x"})"),
            "0");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Metrics m;
  m.ObserveRequest("GET", "/a\\b\"c\nd", 200, 0.1);
  m.AddCounter("normbase_odd_total", "line one\nback\\slash \"quoted\"", 1);
  const std::string text =
      m.Render({{"normbase_queue", "depth", 2, {{"name", "q\"1\\\n"}, {"bad-label", "x"}}}});
  ExpectWellFormed(text);
  EXPECT_EQ(Value(text, R"(normbase_http_requests_total{method="GET",)"
                        R"(route="/a\\b\"c\nd",status="200"})"),
            "1");
  // HELP escapes backslash and newline only.
  EXPECT_NE(text.find("# HELP normbase_odd_total line one\\nback\\\\slash \"quoted\"\n"),
            std::string::npos);
  EXPECT_EQ(Value(text, R"(normbase_queue{name="q\"1\\\n",bad_label="x"})"), "2");
}

TEST(MetricsTest, FoldsNewLabelSetsIntoOtherBeyondTheCap) {
  Metrics m(4);
  for (int i = 0; i < 10; ++i) {
    m.ObserveRequest("GET", "/r/" + std::to_string(i), 200, 0.01);
    m.ObserveRequest("GET", "/r/" + std::to_string(i), 200, 0.01);
  }
  // A label set admitted before the cap keeps being counted as itself.
  m.ObserveRequest("GET", "/r/0", 200, 0.01);

  const std::string text = m.Render({});
  ExpectWellFormed(text);
  EXPECT_EQ(Count(text, "\nnormbase_http_requests_total{"), 5);  // 4 + other
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Value(text, "normbase_http_requests_total{method=\"GET\",route=\"/r/" +
                              std::to_string(i) + "\",status=\"200\"}"),
              i == 0 ? "3" : "2");
  }
  EXPECT_EQ(Value(text, R"(normbase_http_requests_total{method="GET",route="other",status="200"})"),
            "12");
  EXPECT_EQ(
      Value(text, R"(normbase_http_request_duration_seconds_count{method="GET",route="other"})"),
      "12");
  EXPECT_EQ(text.find("/r/4"), std::string::npos);
}

TEST(MetricsTest, DefaultCapIs512) {
  Metrics m;
  for (int i = 0; i < 600; ++i) m.ObserveRequest("GET", "/r/" + std::to_string(i), 200, 0.01);
  const std::string text = m.Render({});
  EXPECT_EQ(Count(text, "\nnormbase_http_requests_total{"), 513);
  EXPECT_EQ(Value(text, R"(normbase_http_requests_total{method="GET",route="other",status="200"})"),
            "88");
}

TEST(MetricsTest, NormalisesMethodAndStatus) {
  Metrics m;
  m.ObserveRequest("BREW", "/x", 200, 0.01);
  m.ObserveRequest("get", "/x", 200, 0.01);
  m.ObserveRequest("GET", "/x", 42, 0.01);
  m.ObserveRequest("GET", "/x", 1000, 0.01);
  const std::string text = m.Render({});
  EXPECT_EQ(Value(text, R"(normbase_http_requests_total{method="OTHER",route="/x",status="200"})"),
            "2");
  EXPECT_EQ(Value(text, R"(normbase_http_requests_total{method="GET",route="/x",status="0"})"),
            "2");
}

TEST(MetricsTest, CustomCountersAndHistograms) {
  Metrics m;
  m.AddCounter("normbase_ws_dropped_total", "Frames dropped.", 2);
  m.AddCounter("normbase_ws_dropped_total", "ignored after first use", 1.5);
  m.AddCounter("normbase_ws_dropped_total", "", -1);  // counters never go down
  m.ObserveHistogram("normbase_commit_seconds", "Store commit latency.", 0.003);
  m.ObserveHistogram("normbase_commit_seconds", "", 7);
  // Type clashes and the request metrics' names are dropped.
  m.AddCounter("normbase_commit_seconds", "", 1);
  m.ObserveHistogram("normbase_ws_dropped_total", "", 1);
  m.AddCounter("normbase_http_requests_total", "", 1);
  m.AddCounter("bad name-1", "Sanitised.", 1);

  const std::string text = m.Render({});
  ExpectWellFormed(text);
  EXPECT_EQ(Value(text, "normbase_ws_dropped_total"), "3.5");
  EXPECT_NE(text.find("# HELP normbase_ws_dropped_total Frames dropped.\n"
                      "# TYPE normbase_ws_dropped_total counter\n"),
            std::string::npos);
  EXPECT_EQ(Value(text, R"(normbase_commit_seconds_bucket{le="0.0025"})"), "0");
  EXPECT_EQ(Value(text, R"(normbase_commit_seconds_bucket{le="0.005"})"), "1");
  EXPECT_EQ(Value(text, R"(normbase_commit_seconds_bucket{le="5"})"), "1");
  EXPECT_EQ(Value(text, R"(normbase_commit_seconds_bucket{le="+Inf"})"), "2");
  EXPECT_EQ(Value(text, "normbase_commit_seconds_count"), "2");
  EXPECT_EQ(Value(text, "normbase_commit_seconds_sum"), "7.003");
  EXPECT_EQ(Value(text, "bad_name_1"), "1");
  EXPECT_EQ(Count(text, "normbase_http_requests_total{"), 0);
}

TEST(MetricsTest, CustomFamiliesAreCapped) {
  Metrics m;
  for (std::size_t i = 0; i < Metrics::kMaxCustomFamilies + 10; ++i) {
    m.AddCounter("c" + std::to_string(1000 + i), "", 1);
  }
  EXPECT_EQ(Count(m.Render({}), "counter\n"), 1 + static_cast<int>(Metrics::kMaxCustomFamilies));
}

TEST(MetricsTest, GaugesAreGroupedSortedAndDeduplicated) {
  Metrics m;
  m.AddCounter("normbase_taken_total", "", 1);
  const std::string text = m.Render({
      {"normbase_b", "B.", 1, {{"k", "2"}}},
      {"normbase_a", "A.", 0.25, {}},
      {"normbase_b", "B.", 3, {{"k", "1"}}},
      {"normbase_b", "B.", 9, {{"k", "1"}}},     // duplicate series: left out
      {"normbase_taken_total", "clash", 5, {}},  // clashes with the counter
      {"normbase_http_requests_total", "clash", 5, {}},
  });
  ExpectWellFormed(text);
  const std::string want =
      "# HELP normbase_a A.\n"
      "# TYPE normbase_a gauge\n"
      "normbase_a 0.25\n"
      "# HELP normbase_b B.\n"
      "# TYPE normbase_b gauge\n"
      "normbase_b{k=\"1\"} 3\n"
      "normbase_b{k=\"2\"} 1\n";
  EXPECT_NE(text.find(want), std::string::npos) << text;
  EXPECT_EQ(Value(text, "normbase_taken_total"), "1");
  EXPECT_EQ(Count(text, "clash"), 0);
}

TEST(MetricsTest, RendersSpecialValues) {
  Metrics m;
  const std::string text = m.Render({{"g_nan", "", std::numeric_limits<double>::quiet_NaN(), {}},
                                     {"g_inf", "", -std::numeric_limits<double>::infinity(), {}},
                                     {"g_big", "", 1e20, {}},
                                     {"g_int", "", 1234567, {}}});
  EXPECT_EQ(Value(text, "g_nan"), "NaN");
  EXPECT_EQ(Value(text, "g_inf"), "-Inf");
  EXPECT_EQ(std::stod(Value(text, "g_big")), 1e20);
  EXPECT_EQ(Value(text, "g_int"), "1234567");
}

TEST(MetricsTest, ConcurrentObservationsAreExact) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  const std::vector<std::string> routes = {"/a", "/b/{id}", "/c", "/d/{id}/e"};
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string& route = routes[(t + i) % routes.size()];
        m.ObserveRequest(i % 2 ? "GET" : "POST", route, 200, 0.5);  // 0.5: exact sums
        m.AddCounter("normbase_events_total", "Events.", 1);
        m.ObserveHistogram("normbase_batch_seconds", "Batch.", 0.25);
      }
    });
  }
  // A scraper running alongside must never see a malformed page.
  std::thread scraper([&] {
    for (int i = 0; i < 50; ++i) ExpectWellFormed(m.Render({}));
  });
  for (auto& th : threads) th.join();
  scraper.join();

  const auto samples = Samples(m.Render({}));
  std::uint64_t requests = 0, durations = 0;
  double duration_sum = 0;
  for (const auto& [series, value] : samples) {
    if (series.rfind("normbase_http_requests_total{", 0) == 0) requests += std::stoull(value);
    if (series.rfind("normbase_http_request_duration_seconds_count{", 0) == 0) {
      durations += std::stoull(value);
    }
    if (series.rfind("normbase_http_request_duration_seconds_sum{", 0) == 0) {
      duration_sum += std::stod(value);
    }
  }
  constexpr std::uint64_t kTotal = std::uint64_t{kThreads} * kPerThread;
  EXPECT_EQ(requests, kTotal);
  EXPECT_EQ(durations, kTotal);
  EXPECT_EQ(duration_sum, 0.5 * kTotal);
  // 8 threads x 20000 spread evenly over 4 routes and 2 methods.
  EXPECT_EQ(samples.at(R"(normbase_http_requests_total{method="GET",route="/a",status="200"})"),
            std::to_string(kTotal / 8));
  EXPECT_EQ(samples.at(R"(normbase_http_request_duration_seconds_bucket{method="POST",)"
                       R"(route="/c",le="0.25"})"),
            "0");
  EXPECT_EQ(samples.at(R"(normbase_http_request_duration_seconds_bucket{method="POST",)"
                       R"(route="/c",le="0.5"})"),
            std::to_string(kTotal / 8));
  EXPECT_EQ(samples.at("normbase_events_total"), std::to_string(kTotal));
  EXPECT_EQ(samples.at("normbase_batch_seconds_count"), std::to_string(kTotal));
  EXPECT_EQ(samples.at(R"(normbase_batch_seconds_bucket{le="0.25"})"), std::to_string(kTotal));
  EXPECT_EQ(std::stod(samples.at("normbase_batch_seconds_sum")), 0.25 * kTotal);
}

}  // namespace
}  // namespace normbase::api
