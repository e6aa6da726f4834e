// FuzzServer: the real Normbase services behind the Api, without sockets, for
// the libFuzzer targets in tests/fuzz. Once per process it opens a RocksDB
// store in a fresh temporary directory (no fsync: a fuzzer writes a lot),
// seeds it from data/seed, creates the bootstrap admin and one open proposal,
// and keeps the whole object alive until exit (the directory is removed then).
//
// Handle() runs one request through Api::Handle and waits for its answer: the
// store answers writes on its committer thread. A request that gets no
// answer within kAnswerDeadline aborts the process, so that libFuzzer reports
// the input as a hang instead of a wrong verdict.
//
// Thread-compatible: a fuzz target calls it from libFuzzer's one thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/api.h"
#include "domain/codebook.h"
#include "service/accounts.h"
#include "service/importer.h"
#include "service/jobs.h"
#include "store/store.h"

namespace normbase::fuzz {

class FuzzServer {
 public:
  // The process-wide instance, created on first use.
  static FuzzServer& Get();

  // Nullopt, without calling the Api, for a request that would lock the
  // fuzzer out (a change to the admin, user 1, or to its tokens): every later
  // input would only see 401s.
  std::optional<api::HttpResponse> Handle(api::HttpRequest req);

  // A request with this bearer token is sent with the admin's real token, so
  // that corpus files can reach the routes that need one.
  static constexpr char kAdminPlaceholder[] = "ADMIN";
  const std::string& admin_token() const { return admin_token_; }
  const domain::User& admin() const { return admin_; }
  std::shared_ptr<const domain::Codebook> codebook() const { return codebook_.Get(); }
  store::Store& store() { return *store_; }
  service::Importer& importer() { return *importer_; }
  const service::Accounts& accounts() const { return *accounts_; }
  service::Jobs& jobs() { return *jobs_; }

 private:
  FuzzServer();
  ~FuzzServer();

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  service::ServiceConfig config_;
  service::CodebookCache codebook_;
  std::unique_ptr<service::Catalog> catalog_;
  std::unique_ptr<service::Proposals> proposals_;
  std::unique_ptr<service::Accounts> accounts_;
  std::unique_ptr<service::Importer> importer_;
  std::unique_ptr<service::Jobs> jobs_;
  api::Metrics metrics_;
  std::unique_ptr<api::Api> api_;
  std::string admin_token_;
  domain::User admin_;
};

// Reads data/seed/<name> (the path is compiled in: NORMBASE_SEED_DIR).
std::string ReadSeedFile(const std::string& name);
// Makes a fresh directory under $TMPDIR (or /tmp); aborts on failure.
std::string MakeTempDir(const std::string& prefix);
// Prints `what` and aborts: a broken invariant the fuzzer must report.
[[noreturn]] void Fail(const std::string& what);

}  // namespace normbase::fuzz
