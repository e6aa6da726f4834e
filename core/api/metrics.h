// Metrics: the counters and histograms behind GET /metrics, rendered in the
// Prometheus text exposition format 0.0.4.
//
// The HTTP server records one ObserveRequest per response; a few components
// may add unlabelled counters and histograms of their own; gauges (queue
// depths, record counts) are not stored here but read fresh by the caller at
// scrape time and passed to Render.
//
// Thread-safety: every method may be called from any thread. Observations
// take one mutex for a map look-up and a few additions; all text formatting
// happens in Render, outside the lock, on a snapshot.
//
// Bounds: memory never grows with traffic. A request's label set is
// (method, route, status), where route must be a route template
// ("/api/v1/proposals/{id}"), never a raw path. Methods other than the
// standard HTTP verbs are recorded as "OTHER" and statuses outside 100..599
// as 0. Once `max_request_series` label sets exist, a request with a new one
// is recorded under route="other" (at most 10 methods x 501 statuses more).
// Custom counter and histogram families are capped at kMaxCustomFamilies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace normbase::api {

// A value read at scrape time. Gauges sharing a name form one family with one
// # HELP / # TYPE; the help is taken from the family's first gauge in render
// order (by labels), so give them all the same help.
struct Gauge {
  std::string name;
  std::string help;
  double value = 0;
  std::vector<std::pair<std::string, std::string>> labels;
};

class Metrics {
 public:
  using Gauge = api::Gauge;

  static constexpr std::size_t kMaxRequestSeries = 512;
  static constexpr std::size_t kMaxCustomFamilies = 64;
  // Upper bounds of the finite histogram buckets, in seconds for durations;
  // the +Inf bucket is implicit.
  static constexpr std::array<double, 13> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  static constexpr std::string_view kRequestsTotal = "normbase_http_requests_total";
  static constexpr std::string_view kRequestDuration = "normbase_http_request_duration_seconds";
  static constexpr std::string_view kOverflowRoute = "other";

  explicit Metrics(std::size_t max_request_series = kMaxRequestSeries);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Counts one finished request and its duration. A negative or non-finite
  // duration is recorded as 0 (the request still counts).
  void ObserveRequest(std::string_view method, std::string_view route, int status, double seconds);

  // Adds `value` to the unlabelled histogram `name` (same buckets as the
  // request durations), creating it with `help` on first use. A non-finite
  // value is dropped.
  void ObserveHistogram(std::string_view name, std::string_view help, double value);

  // Adds `delta` to the unlabelled counter `name`, creating it with `help` on
  // first use. Counters only go up: a negative or non-finite delta is dropped.
  void AddCounter(std::string_view name, std::string_view help, double delta);

  // Silently dropped, for both calls above: a name already used by a family of
  // the other type or by the request metrics, or a new name once
  // kMaxCustomFamilies exist. Names should match [a-zA-Z_:][a-zA-Z0-9_:]*;
  // other characters are rendered as '_'.

  // The whole registry plus `gauges` as text/plain; version=0.0.4. Order is
  // deterministic: request counter, request histogram, custom families by
  // name, then gauges by name and labels. A gauge whose name collides with a
  // family above is left out, so the output always parses.
  std::string Render(const std::vector<Gauge>& gauges) const;

 private:
  // Non-cumulative: counts[i] is the observations in (kBuckets[i-1], kBuckets[i]];
  // the last slot is the +Inf bucket.
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size() + 1> counts{};
    std::uint64_t count = 0;
    double sum = 0;
    void Add(std::size_t bucket, double value);
  };
  struct Series {
    std::uint64_t requests = 0;
    Histogram* duration = nullptr;  // the (method, route) entry of durations_
  };
  struct Custom {
    enum class Type { kCounter, kHistogram };
    Type type;
    std::string help;  // fixed at creation
    double counter = 0;
    Histogram histogram;
  };

  // Orders (string..., int) keys as if each string were a string_view, so the
  // hot path looks up by string_views without building a key. (std::less<>
  // on mixed tuples is not portable across standard libraries and compilers.)
  struct KeyLess {
    using is_transparent = void;
    template <typename T>
    using View = std::conditional_t<std::is_same_v<T, std::string>, std::string_view, T>;
    template <typename... T>
    static std::tuple<View<T>...> AsViews(const std::tuple<T...>& t) {
      return std::apply([](const T&... x) { return std::tuple<View<T>...>(x...); }, t);
    }
    template <typename... A, typename... B>
    bool operator()(const std::tuple<A...>& a, const std::tuple<B...>& b) const {
      return AsViews(a) < AsViews(b);
    }
  };

  static std::size_t BucketOf(double value);
  // Null when the observation must be dropped. Requires mu_.
  Custom* FindOrAddCustom(std::string_view name, std::string_view help, Custom::Type type);

  const std::size_t max_request_series_;
  mutable std::mutex mu_;
  // Keys are (method, route, status) and (method, route). Entries are never
  // erased, so keys and help texts stay valid and unchanged once inserted:
  // Render reads them after unlocking.
  std::map<std::tuple<std::string, std::string, int>, Series, KeyLess>
      requests_;                                                                  // GUARDED_BY(mu_)
  std::map<std::tuple<std::string, std::string>, Histogram, KeyLess> durations_;  // GUARDED_BY(mu_)
  std::map<std::string, Custom, std::less<>> custom_;                             // GUARDED_BY(mu_)
};

}  // namespace normbase::api
