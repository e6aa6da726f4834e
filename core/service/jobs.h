// Jobs: the durable side of running plugins. It plans the jobs a change
// needs (checks and impact for a proposal revision, analyses for a dataset
// revision) inside the change's own mutation, builds each job's input from the
// store, and records every state change — dispatch, result, lost attempt — as
// one mutation with its event, so what the broker acknowledges is never lost.
// It also serves the read views: checks of a proposal, analyses, job lists.
//
// The broker (core/bus) decides WHEN; this class decides WHAT is true. Every
// recording call re-reads the job inside the committer and ignores a stale
// report (another dispatch number, a terminal job): results are idempotent.
// Thread-safe; completions run on the committer thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "domain/job.h"
#include "domain/proposal.h"
#include "service/answer_cache.h"
#include "service/common.h"

namespace normbase::service {

// How an attempt ended, as a worker reported it.
enum class JobOutcome { kOk, kBadInput, kFailed, kTimedOut, kRefused };

struct JobReport {
  std::string job_id;
  int dispatch = 0;
  JobOutcome outcome = JobOutcome::kOk;
  std::string output;   // the plugin's JSON (kOk)
  std::string message;  // otherwise
  std::string worker;
};

// A job's input document (docs/plugins.md) in parts: the job's own JSON
// object and the members that every job of a dataset revision shares (the
// dataset document, the codebook), each written once. The bus sends a worker
// each shared text once (docs/worker-protocol.md, "shared-input").
struct JobInput {
  struct Shared {
    std::string name;  // the member's name in the input object
    AnswerPtr text;    // the JSON text; its fingerprint is its id on the bus
  };
  std::string own;  // a JSON object with at least one member
  std::vector<Shared> shared;

  size_t size() const;        // bytes of the whole document
  std::string Whole() const;  // `own` with the shared members added
};

// Called inside mutations that change what plugins look at.
void QueueProposalJobs(store::WriteContext& w, const JobsConfig& config, const domain::Proposal& p);
void QueueDatasetJobs(store::WriteContext& w, const JobsConfig& config, int64_t dataset_revision);

// [{plugin, status, summary, findings, job, attempts, updated_at}] of a
// proposal revision; status: queued | running | passed | failed | error.
Result<Json> ChecksOf(const store::Reader& r, int64_t proposal, int revision);
// plugin -> "passed" | "failed" | "error" | "pending", for the review policy.
Result<std::map<std::string, std::string>> CheckStates(const store::Reader& r, int64_t proposal,
                                                       int revision);
// The proposal analyses of a revision: {plugin: {status, summary, result}};
// an empty object when none was queued.
Result<Json> ImpactOf(const store::Reader& r, int64_t proposal, int revision);

class Jobs {
 public:
  Jobs(store::Store& store, const CodebookCache& codebook, const ServiceConfig& config)
      : store_(store), codebook_(codebook), config_(config) {}

  // Start-up: jobs that were running when the core stopped go back to the
  // queue (not charged). Returns the open jobs, oldest first. Blocking.
  Result<std::vector<domain::Job>> RecoverOpenJobs();
  // The job's input, built from the store now.
  Result<JobInput> BuildInput(const domain::Job& job) const;

  void RecordDispatch(const std::string& job_id, int dispatch, const std::string& worker,
                      int64_t deadline, Done<domain::Job> done);
  // A result from a worker. Done gets the job as recorded, or NotFound/
  // Conflict when the report was stale (and then nothing changed).
  void RecordResult(JobReport report, Done<domain::Job> done);
  void RecordLoss(const std::string& job_id, int dispatch, domain::AttemptLoss loss,
                  const std::string& message, Done<domain::Job> done);

  // ---- views ----
  Result<std::optional<domain::Job>> Get(const std::string& id) const;
  // state: "" for all; cursor: the last id of the previous page.
  Result<Json> List(const std::string& state, const std::string& cursor, std::optional<size_t> limit) const;
  // Every dataset analysis with its newest revision and state.
  Result<Json> ListAnalyses() const;
  // One analysis at a dataset revision (the newest when absent).
  Result<Json> GetAnalysis(const std::string& name, std::optional<int64_t> revision) const;

 private:
  // The dataset as a job input sees it, as a tree (for the inputs that read
  // it) and as text (spliced into every input). A dataset revision never
  // changes once written, so the last few documents are kept: every job of a
  // revision shares one instead of re-reading every agreement and re-writing
  // the same 20-odd KB of JSON per job.
  struct DatasetDoc;  // the tree and its text (jobs.cc)
  Result<std::shared_ptr<const DatasetDoc>> DatasetDocument(const store::Reader& r,
                                                            int64_t revision, bool full) const;
  Result<Json> ReadDatasetDocument(const store::Reader& r, int64_t revision, int64_t current, bool full) const;
  // The codebook in force as JSON text, made once per codebook.
  AnswerPtr CodebookText() const;
  // The `proposal` and `current` members of a proposal job's input, as JSON
  // text. Every job of a proposal revision (four checks and an impact by
  // default) has the same ones while the dataset stays at one revision, so
  // the last few are kept instead of parsing the proposal's records and
  // writing them out again for each job.
  struct ProposalPart {
    std::string proposal;
    std::string current;
  };
  Result<std::shared_ptr<const ProposalPart>> ProposalInput(const store::Reader& r,
                                                            const domain::Job& job,
                                                            int64_t dataset_revision) const;
  // What an impact job compares against: the latest stored result of each
  // dataset analysis up to `dataset_revision`, as one JSON object's text.
  // Kept while the same results are the latest (a newer analysis finishing
  // replaces one), so the impact jobs of many proposals do not each parse
  // every result (tens of KB) and write it out again.
  Result<AnswerPtr> BaselineText(const store::Reader& r, int64_t dataset_revision) const;

  store::Store& store_;
  const CodebookCache& codebook_;
  const ServiceConfig& config_;
  mutable std::mutex cache_mu_;
  mutable std::map<std::pair<int64_t, bool>, std::shared_ptr<const DatasetDoc>>
      dataset_cache_;  // GUARDED_BY(cache_mu_)
  // The codebook the text was made from: held, so its address is not reused.
  mutable std::shared_ptr<const domain::Codebook> codebook_of_text_;  // GUARDED_BY(cache_mu_)
  mutable AnswerPtr codebook_text_;                                   // GUARDED_BY(cache_mu_)
  // By proposal, revision, the job's base dataset revision and the dataset
  // revision read; the newest few.
  mutable std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>,
                   std::shared_ptr<const ProposalPart>>
      proposal_parts_;  // GUARDED_BY(cache_mu_)
  // Which results the baseline text was made from (job, state, dispatch, time).
  mutable std::string baseline_key_;  // GUARDED_BY(cache_mu_)
  mutable AnswerPtr baseline_text_;   // GUARDED_BY(cache_mu_)
};

}  // namespace normbase::service
