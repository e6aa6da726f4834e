#include "api/rate_limit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "api/problem.h"
#include "api/route_util.h"

namespace normbase::api {

namespace {

// A burst of 0 means: two seconds' worth, at least one request.
double BurstOr(double burst, double rate) { return std::max(1.0, burst > 0 ? burst : 2 * rate); }

std::string Rate(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", r);
  return buf;
}

}  // namespace

RateLimiter::RateLimiter(RateLimitOptions options, const service::Accounts& accounts, Clock clock)
    : options_(options), accounts_(accounts), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
}

size_t RateLimiter::clients() const {
  std::lock_guard lk(mu_);
  return buckets_.size();
}

double RateLimiter::Take(const std::string& key, double rate, double burst) {
  const auto now = clock_();
  std::lock_guard lk(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_clients) {
      // Full buckets belong to clients that have been quiet long enough to
      // lose nothing when forgotten. A sweep that frees little is not worth
      // repeating at the next new client: then start afresh.
      for (auto b = buckets_.begin(); b != buckets_.end();) {
        const double secs = std::chrono::duration<double>(now - b->second.updated).count();
        b = b->second.tokens + secs * b->second.rate >= b->second.burst ? buckets_.erase(b)
                                                                        : std::next(b);
      }
      if (buckets_.size() + options_.max_clients / 10 >= options_.max_clients) buckets_.clear();
    }
    it = buckets_.emplace(key, Bucket{burst, now, rate, burst}).first;
  }
  Bucket& b = it->second;
  const double secs = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst, b.tokens + std::max(0.0, secs) * rate);
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / rate;
}

std::optional<HttpResponse> RateLimiter::Admit(const HttpRequest& req) {
  if (!enabled() || req.path == "/healthz" || req.path == "/metrics") return std::nullopt;
  std::string key, who;
  double rate = 0, burst = 0;
  if (!req.authorization.empty()) {
    if (auto token = BearerToken(req.authorization); token.ok()) {
      if (auto user = accounts_.Authenticate(*token); user.ok()) {
        if (options_.token_per_second <= 0) return std::nullopt;
        key = "user:" + std::to_string(user->id);
        who = "this account";
        rate = options_.token_per_second;
        burst = BurstOr(options_.token_burst, rate);
      }
    }
  }
  if (key.empty()) {
    if (options_.ip_per_second <= 0) return std::nullopt;
    key = "ip:" + req.remote;
    who = "this address without a valid token";
    rate = options_.ip_per_second;
    burst = BurstOr(options_.ip_burst, rate);
  }
  const double wait = Take(key, rate, burst);
  if (wait <= 0) return std::nullopt;
  const long retry_after = std::max(1L, static_cast<long>(std::ceil(wait)));
  HttpResponse r = Problem(429, "too many requests: " + who + " may make " + Rate(rate) +
                                    " per second (bursts of " + Rate(burst) + "); retry after " +
                                    std::to_string(retry_after) + " s");
  r.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return r;
}

}  // namespace normbase::api
