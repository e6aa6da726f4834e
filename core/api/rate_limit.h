// RateLimiter: per-client request rates, so that one client cannot take the
// server's time from everyone else. Each client has a token bucket: it holds
// up to `burst` requests and refills at `per_second`; a request finds it empty
// gets 429 Too Many Requests with Retry-After (seconds until the bucket holds
// a request again). Clients are
//   - an account, for a request whose bearer token authenticates (every token
//     of one user shares the bucket: minting tokens does not buy more rate);
//   - the peer's IP address otherwise (anonymous reads, and unknown or
//     revoked tokens, which cannot be used to get a fresh bucket per request).
// A rate of 0 turns that kind of limit off (the default: behind a reverse
// proxy every client has the proxy's address, so the operator decides).
// /healthz and /metrics are never limited (probes and scrapers).
//
// Memory is bounded: at most `max_clients` buckets are kept; when that many
// are in use, full (idle) buckets are dropped first, then all of them — a
// flood of addresses resets the limits rather than the server's memory.
// Thread-safe (one mutex; a bucket update is a few arithmetic operations).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "api/http_types.h"
#include "service/accounts.h"

namespace normbase::api {

struct RateLimitOptions {
  double token_per_second = 0;  // per account; 0: no limit
  double token_burst = 0;       // bucket size (at least 1); 0: 2 s worth
  double ip_per_second = 0;     // per peer address for anonymous requests; 0: no limit
  double ip_burst = 0;
  size_t max_clients = 100000;  // buckets kept at once
};

class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // `clock` is for tests; the steady clock when empty.
  RateLimiter(RateLimitOptions options, const service::Accounts& accounts, Clock clock = {});

  bool enabled() const { return options_.token_per_second > 0 || options_.ip_per_second > 0; }
  // Charges the request to its client. Nullopt: go ahead. Otherwise the 429
  // answer (problem+json, Retry-After) to send instead.
  std::optional<HttpResponse> Admit(const HttpRequest& req);
  // Buckets held now (for tests and metrics).
  size_t clients() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
    double rate = 0, burst = 0;  // of the kind of client, for the sweep
  };
  // Seconds until a request is allowed; 0 when it is (and then it is charged).
  double Take(const std::string& key, double rate, double burst);

  const RateLimitOptions options_;
  const service::Accounts& accounts_;
  Clock clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace normbase::api
