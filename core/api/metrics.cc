#include "api/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace normbase::api {
namespace {

// Anything else a client sends as a method is folded into "OTHER", so a
// client cannot mint label values.
constexpr std::array<std::string_view, 9> kMethods = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
constexpr std::string_view kOtherMethod = "OTHER";

std::string_view NormalizeMethod(std::string_view method) {
  for (std::string_view m : kMethods) {
    if (m == method) return m;
  }
  return kOtherMethod;
}

bool IsNameChar(char c, bool first, bool allow_colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c == ':') return allow_colon;
  return !first && c >= '0' && c <= '9';
}

// Metric names may hold ':', label names may not. An empty name becomes "_".
void AppendName(std::string& out, std::string_view name, bool allow_colon) {
  if (name.empty()) out += '_';
  for (std::size_t i = 0; i < name.size(); ++i) {
    out += IsNameChar(name[i], i == 0, allow_colon) ? name[i] : '_';
  }
}

std::string SanitizedName(std::string_view name) {
  std::string out;
  AppendName(out, name, /*allow_colon=*/true);
  return out;
}

bool IsValidName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, /*allow_colon=*/true)) return false;
  }
  return true;
}

// HELP text escapes backslash and newline; label values also the double quote.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void AppendLabel(std::string& out, std::string_view name, std::string_view value) {
  AppendName(out, name, /*allow_colon=*/false);
  out += "=\"";
  AppendEscaped(out, value, /*quote=*/true);
  out += '"';
}

// Integral values print as integers; everything else in the shortest form that
// reads back exactly.
void AppendNumber(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  std::to_chars_result r;
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v);
  }
  out.append(buf, r.ptr);
}

void AppendNumber(std::string& out, std::uint64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void AppendFamilyHeader(std::string& out, std::string_view name, std::string_view help,
                        std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  AppendEscaped(out, help, /*quote=*/false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// The `le` values, in fixed notation ("0.0005", not "5e-04") so that they
// match what people write in queries.
const std::array<std::string, Metrics::kBuckets.size() + 1>& BucketLabels() {
  static const auto labels = [] {
    std::array<std::string, Metrics::kBuckets.size() + 1> out;
    for (std::size_t i = 0; i < Metrics::kBuckets.size(); ++i) {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, Metrics::kBuckets[i], std::chars_format::fixed);
      out[i].assign(buf, r.ptr);
    }
    out.back() = "+Inf";
    return out;
  }();
  return labels;
}

// `labels` is the already rendered label list without braces, may be empty.
// H is Metrics::Histogram (private, hence the template).
template <typename H>
void AppendHistogram(std::string& out, std::string_view name, std::string_view labels, const H& h) {
  const auto& le = BucketLabels();
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    out += name;
    out += "_bucket{";
    if (!labels.empty()) {
      out += labels;
      out += ',';
    }
    out += "le=\"";
    out += le[i];
    out += "\"} ";
    AppendNumber(out, cumulative);
    out += '\n';
  }
  for (std::string_view suffix : {"_sum", "_count"}) {
    out += name;
    out += suffix;
    if (!labels.empty()) {
      out += '{';
      out += labels;
      out += '}';
    }
    out += ' ';
    if (suffix == "_sum") {
      AppendNumber(out, h.sum);
    } else {
      AppendNumber(out, h.count);
    }
    out += '\n';
  }
}

}  // namespace

void Metrics::Histogram::Add(std::size_t bucket, double value) {
  ++counts[bucket];
  ++count;
  sum += value;
}

Metrics::Metrics(std::size_t max_request_series) : max_request_series_(max_request_series) {}

std::size_t Metrics::BucketOf(double value) {
  // Buckets are upper-inclusive: 0.001 belongs to le="0.001".
  return std::lower_bound(kBuckets.begin(), kBuckets.end(), value) - kBuckets.begin();
}

void Metrics::ObserveRequest(std::string_view method, std::string_view route, int status,
                             double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const std::size_t bucket = BucketOf(seconds);
  method = NormalizeMethod(method);
  if (status < 100 || status > 599) status = 0;

  std::lock_guard lock(mu_);
  auto it = requests_.find(std::tuple(method, route, status));
  if (it == requests_.end()) {
    if (requests_.size() >= max_request_series_) {
      route = kOverflowRoute;
      it = requests_.find(std::tuple(method, route, status));
    }
    if (it == requests_.end()) {
      // A new label set: rare and bounded, so building its keys here is fine.
      auto d = durations_.find(std::tuple(method, route));
      if (d == durations_.end()) {
        d = durations_.emplace(std::tuple(std::string(method), std::string(route)), Histogram{})
                .first;
      }
      it = requests_
               .emplace(std::tuple(std::string(method), std::string(route), status),
                        Series{0, &d->second})
               .first;
    }
  }
  ++it->second.requests;
  it->second.duration->Add(bucket, seconds);
}

Metrics::Custom* Metrics::FindOrAddCustom(std::string_view name, std::string_view help,
                                          Custom::Type type) {
  auto it = custom_.find(name);
  if (it != custom_.end()) return it->second.type == type ? &it->second : nullptr;
  if (custom_.size() >= kMaxCustomFamilies) return nullptr;
  Custom c{type, std::string(help), 0, Histogram{}};
  return &custom_.emplace(std::string(name), std::move(c)).first->second;
}

void Metrics::ObserveHistogram(std::string_view name, std::string_view help, double value) {
  if (!std::isfinite(value)) return;
  std::string fixed;
  if (!IsValidName(name)) name = fixed = SanitizedName(name);
  if (name == kRequestsTotal || name == kRequestDuration) return;
  const std::size_t bucket = BucketOf(value);
  std::lock_guard lock(mu_);
  if (Custom* c = FindOrAddCustom(name, help, Custom::Type::kHistogram)) {
    c->histogram.Add(bucket, value);
  }
}

void Metrics::AddCounter(std::string_view name, std::string_view help, double delta) {
  if (!std::isfinite(delta) || delta < 0) return;
  std::string fixed;
  if (!IsValidName(name)) name = fixed = SanitizedName(name);
  if (name == kRequestsTotal || name == kRequestDuration) return;
  std::lock_guard lock(mu_);
  if (Custom* c = FindOrAddCustom(name, help, Custom::Type::kCounter)) c->counter += delta;
}

std::string Metrics::Render(const std::vector<Gauge>& gauges) const {
  // Copy the numbers under the lock; keys and help texts never change once
  // inserted, so pointers to them stay good after unlocking.
  struct RequestRow {
    const std::tuple<std::string, std::string, int>* key;
    std::uint64_t requests;
  };
  struct DurationRow {
    const std::tuple<std::string, std::string>* key;
    Histogram h;
  };
  struct CustomRow {
    const std::string* name;
    const std::string* help;
    Custom::Type type;
    double counter;
    Histogram h;
  };
  std::vector<RequestRow> requests;
  std::vector<DurationRow> durations;
  std::vector<CustomRow> custom;
  {
    std::lock_guard lock(mu_);
    requests.reserve(requests_.size());
    durations.reserve(durations_.size());
    custom.reserve(custom_.size());
    for (const auto& [key, s] : requests_) requests.push_back({&key, s.requests});
    for (const auto& [key, h] : durations_) durations.push_back({&key, h});
    for (const auto& [name, c] : custom_) {
      custom.push_back({&name, &c.help, c.type, c.counter, c.histogram});
    }
  }

  std::string out;
  out.reserve(256 + requests.size() * 96 + durations.size() * 1600 + custom.size() * 1200 +
              gauges.size() * 96);
  std::string labels;

  AppendFamilyHeader(out, kRequestsTotal, "HTTP requests by method, route template and status.",
                     "counter");
  for (const RequestRow& r : requests) {
    const auto& [method, route, status] = *r.key;
    out += kRequestsTotal;
    out += '{';
    AppendLabel(out, "method", method);
    out += ',';
    AppendLabel(out, "route", route);
    out += ",status=\"";
    AppendNumber(out, static_cast<std::uint64_t>(status));
    out += "\"} ";
    AppendNumber(out, r.requests);
    out += '\n';
  }

  AppendFamilyHeader(out, kRequestDuration,
                     "HTTP request duration in seconds by method and route template.", "histogram");
  for (const DurationRow& d : durations) {
    labels.clear();
    AppendLabel(labels, "method", std::get<0>(*d.key));
    labels += ',';
    AppendLabel(labels, "route", std::get<1>(*d.key));
    AppendHistogram(out, kRequestDuration, labels, d.h);
  }

  for (const CustomRow& c : custom) {
    if (c.type == Custom::Type::kCounter) {
      AppendFamilyHeader(out, *c.name, *c.help, "counter");
      out += *c.name;
      out += ' ';
      AppendNumber(out, c.counter);
      out += '\n';
    } else {
      AppendFamilyHeader(out, *c.name, *c.help, "histogram");
      AppendHistogram(out, *c.name, "", c.h);
    }
  }

  // Gauges: sanitised names, grouped into families, sorted; those that would
  // reuse a family name above are left out.
  struct GaugeRow {
    std::string name;
    const Gauge* gauge;
  };
  std::vector<GaugeRow> rows;
  rows.reserve(gauges.size());
  for (const Gauge& g : gauges) {
    std::string name = SanitizedName(g.name);
    if (name == kRequestsTotal || name == kRequestDuration) continue;
    if (std::any_of(custom.begin(), custom.end(),
                    [&](const CustomRow& c) { return *c.name == name; })) {
      continue;
    }
    rows.push_back({std::move(name), &g});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const GaugeRow& a, const GaugeRow& b) {
    return std::tie(a.name, a.gauge->labels) < std::tie(b.name, b.gauge->labels);
  });
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const GaugeRow& r = rows[i];
    if (i > 0 && rows[i - 1].name == r.name) {
      if (rows[i - 1].gauge->labels == r.gauge->labels) continue;  // a duplicate series
    } else {
      AppendFamilyHeader(out, r.name, r.gauge->help, "gauge");
    }
    out += r.name;
    if (!r.gauge->labels.empty()) {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : r.gauge->labels) {
        if (!first) out += ',';
        first = false;
        AppendLabel(out, k, v);
      }
      out += '}';
    }
    out += ' ';
    AppendNumber(out, r.gauge->value);
    out += '\n';
  }
  return out;
}

}  // namespace normbase::api
