// Job: one run of one plugin on one subject — a check or an analysis of a
// proposal revision, or an analysis of a dataset revision. Jobs are durable
// records (the broker's in-flight table lives in them), so a core restart
// loses none. The state machine and the retry rule are pure and live here:
//
//   queued --dispatch--> running --result--> done (passed | failed | error)
//     ^                     |
//     +---- attempt lost ---+ (worker died, timed out, handed back)
//                           +--> failed, once `failures` reaches max_attempts
//
// `dispatches` counts every hand-out and is echoed by the worker, so a late or
// duplicate result (from an earlier dispatch) is recognised and ignored.
// `failures` counts only the attempts charged to the job (it killed or hung a
// worker), which the retry rule compares with max_attempts; a job handed back
// by a draining worker or orphaned by a core restart is not charged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/codec.h"
#include "domain/status.h"

namespace normbase::domain {

enum class JobState { kQueued, kRunning, kDone, kFailed };
const char* JobStateName(JobState s);
std::optional<JobState> ParseJobState(const std::string& s);

// What a job looks at.
enum class JobScope { kProposal, kDataset };

struct JobAttempt {
  int dispatch = 0;
  std::string worker;
  int64_t started_at = 0;
  int64_t ended_at = 0;
  std::string outcome;  // "ok", "bad input", "failed", "timed out", "worker lost", "handed back"
  std::string message;
};

struct Job {
  std::string id;      // "p12.r3.codebook" or "d7.trend": deterministic, so re-queueing is idempotent
  std::string plugin;  // plugin name
  std::string kind;    // "check" | "analysis"
  JobScope scope = JobScope::kProposal;
  int64_t proposal = 0;          // scope proposal
  int revision = 0;              // proposal revision
  int64_t dataset_revision = 0;  // scope dataset: the revision analysed; proposal: the base
  JobState state = JobState::kQueued;
  int dispatches = 0;
  int failures = 0;
  int max_attempts = 3;
  bool isolate = false;  // run alone on a worker: it was in flight when a worker died
  std::string worker;    // while running
  int64_t lease_deadline = 0;  // ms since epoch, while running
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::string outcome;  // done: passed | failed | error (checks) or ok (analyses); failed: the reason
  std::string summary;  // one line for lists
  std::vector<JobAttempt> attempts;  // the last few (bounded)
  double progress = 0;  // last reported fraction, while running

  bool Terminal() const { return state == JobState::kDone || state == JobState::kFailed; }
};

inline constexpr size_t kMaxJobAttemptsKept = 10;

std::string ProposalJobId(int64_t proposal, int revision, const std::string& plugin);
std::string DatasetJobId(int64_t dataset_revision, const std::string& plugin);

// Why an attempt ended without a result, and whether the job is to blame.
enum class AttemptLoss {
  kWorkerLost,  // the worker died or fell silent while running it: charged
  kTimedOut,    // the deadline passed: charged
  kHandedBack,  // a draining worker returned it: not charged
  kOrphaned,    // the core restarted while it ran: not charged
};

// Applies a lost attempt: back to queued (isolated after a worker loss), or
// failed with the reason once the charged failures reach max_attempts.
void ApplyAttemptLoss(Job& job, AttemptLoss loss, const std::string& message, int64_t now);

// Marks a dispatch: running on `worker` until `deadline`.
void ApplyDispatch(Job& job, const std::string& worker, int64_t now, int64_t deadline);

Json ToJson(const Job& j);
Result<Job> JobFromJson(const Json& j);

// A check's verdict from a plugin's output document: "passed" | "failed",
// with the summary line. Anything malformed yields kInvalidArgument naming the
// problem (the job then ends as "error": the plugin is at fault, not the proposal).
struct CheckVerdict {
  std::string outcome;
  std::string summary;
};
Result<CheckVerdict> ReadCheckOutput(const Json& output);

}  // namespace normbase::domain
