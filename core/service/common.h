// Shared pieces of the service layer: its configuration, the completion type
// of asynchronous writes, and the bridge from a typed mutation to Store::Submit.
//
// The service layer holds Normbase's use cases (propose, review, merge,
// import, accounts). It speaks domain types and JSON documents and knows
// nothing of HTTP; the api layer maps its Status values to responses.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>
#include <memory>
#include <mutex>
#include <optional>

#include "domain/agreement.h"
#include "domain/codebook.h"
#include "domain/codec.h"
#include "domain/review_policy.h"
#include "domain/user.h"
#include "store/store.h"

namespace normbase::service {

using domain::Json;

// Which plugins run on what, and how hard the broker tries. A plugin listed
// here is queued even when no worker offers it yet: the job waits for one.
struct JobsConfig {
  bool enabled = true;  // false: nothing is queued (e.g. a core run without workers)
  std::vector<std::string> checks = {"codebook", "evidence", "duplicates", "consistency"};
  std::vector<std::string> proposal_analyses = {"impact"};
  std::vector<std::string> dataset_analyses = {"element-frequency", "trend", "co-occurrence",
                                               "inter-coder"};
  int max_attempts = 3;       // charged failures (crash, timeout) before a job fails
  int64_t timeout_ms = 60000;  // a dispatch's lease
  // Per-plugin configuration handed to the plugin with each job: name -> JSON object text.
  std::map<std::string, std::string> plugin_config;
};

struct ServiceConfig {
  JobsConfig jobs;
  domain::ReviewPolicy policy = domain::ReviewPolicy::Default();
  domain::AgreementLimits limits;
  size_t default_page = 50;
  size_t max_page = 500;
  size_t max_rationale = 20000;  // bytes of a rationale, comment or review text
  size_t max_import_agreements = 10000;
  size_t read_cache_bytes = size_t{8} << 20;  // serialised public reads kept (AnswerCache); 0: off
};

// Completion of an asynchronous write; runs on the thread that ran its commit
// group (the store's committer, or the submitting thread itself when it
// commits inline: store.h), so it must only hand the result on (e.g. post it
// to the connection's I/O thread).
template <typename T>
using Done = std::function<void(Result<T>)>;

// Runs `fn` as a store mutation and hands its value to `done` once durable.
template <typename T>
void SubmitFor(store::Store& store, std::function<Result<T>(store::WriteContext&)> fn,
               Done<T> done) {
  auto out = std::make_shared<std::optional<T>>();
  store.Submit(
      [fn = std::move(fn), out](store::WriteContext& w) -> Status {
        auto r = fn(w);
        if (!r.ok()) return r.status();
        *out = std::move(r).value();
        return Status::Ok();
      },
      [out, done = std::move(done)](const Status& s) {
        if (!s.ok())
          done(s);
        else
          done(std::move(**out));
      });
}

// The codebook in force, shared read-only by every request.
class CodebookCache {
 public:
  std::shared_ptr<const domain::Codebook> Get() const {
    std::lock_guard lk(mu_);
    return cb_;
  }
  void Set(domain::Codebook cb) {
    auto p = std::make_shared<const domain::Codebook>(std::move(cb));
    std::lock_guard lk(mu_);
    cb_ = std::move(p);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const domain::Codebook> cb_;  // GUARDED_BY(mu_)
};

// Role check with a message that says what is needed.
Status RequireRole(const domain::User& actor, domain::Role need, const char* action);

// Cursor pagination: clamps a requested page size.
size_t PageSize(const ServiceConfig& c, std::optional<size_t> requested);

}  // namespace normbase::service
