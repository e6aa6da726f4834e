#include "domain/job.h"

#include <nlohmann/json.hpp>

namespace normbase::domain {

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kDone: return "done";
    case JobState::kFailed: return "failed";
  }
  return "queued";
}

std::optional<JobState> ParseJobState(const std::string& s) {
  for (JobState st : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kFailed})
    if (s == JobStateName(st)) return st;
  return std::nullopt;
}

// Appended piece by piece: g++ 12 at -O2 warns (-Wrestrict, a false
// positive) about `"p" + std::to_string(...)`.
std::string ProposalJobId(int64_t proposal, int revision, const std::string& plugin) {
  std::string id = "p";
  id += std::to_string(proposal);
  id += ".r";
  id += std::to_string(revision);
  id += '.';
  id += plugin;
  return id;
}

std::string DatasetJobId(int64_t dataset_revision, const std::string& plugin) {
  std::string id = "d";
  id += std::to_string(dataset_revision);
  id += '.';
  id += plugin;
  return id;
}

namespace {

void KeepAttempt(Job& job, JobAttempt a) {
  // The attempt being closed is the last one opened by ApplyDispatch.
  if (!job.attempts.empty() && job.attempts.back().dispatch == a.dispatch) {
    auto& last = job.attempts.back();
    last.ended_at = a.ended_at;
    last.outcome = std::move(a.outcome);
    last.message = std::move(a.message);
    return;
  }
  job.attempts.push_back(std::move(a));
  if (job.attempts.size() > kMaxJobAttemptsKept) job.attempts.erase(job.attempts.begin());
}

const char* LossName(AttemptLoss loss) {
  switch (loss) {
    case AttemptLoss::kWorkerLost: return "worker lost";
    case AttemptLoss::kTimedOut: return "timed out";
    case AttemptLoss::kHandedBack: return "handed back";
    case AttemptLoss::kOrphaned: return "core restarted";
  }
  return "lost";
}

}  // namespace

void ApplyDispatch(Job& job, const std::string& worker, int64_t now, int64_t deadline) {
  job.state = JobState::kRunning;
  job.dispatches += 1;
  job.worker = worker;
  job.lease_deadline = deadline;
  job.progress = 0;
  job.updated_at = now;
  JobAttempt a;
  a.dispatch = job.dispatches;
  a.worker = worker;
  a.started_at = now;
  job.attempts.push_back(std::move(a));
  if (job.attempts.size() > kMaxJobAttemptsKept) job.attempts.erase(job.attempts.begin());
}

void ApplyAttemptLoss(Job& job, AttemptLoss loss, const std::string& message, int64_t now) {
  const bool charged = loss == AttemptLoss::kWorkerLost || loss == AttemptLoss::kTimedOut;
  KeepAttempt(job, JobAttempt{job.dispatches, job.worker, 0, now, LossName(loss), message});
  job.worker.clear();
  job.lease_deadline = 0;
  job.updated_at = now;
  if (charged) job.failures += 1;
  // A job that was on a worker when it died may be the one that killed it:
  // from now on it runs alone, so it cannot take innocent jobs down with it.
  if (loss == AttemptLoss::kWorkerLost) job.isolate = true;
  if (charged && job.failures >= job.max_attempts) {
    job.state = JobState::kFailed;
    job.outcome = "gave up after " + std::to_string(job.failures) + " failed attempt" +
                  (job.failures == 1 ? "" : "s") + " (last: " + LossName(loss) +
                  (message.empty() ? "" : ": " + message) + ")";
    job.summary = job.outcome;
    return;
  }
  job.state = JobState::kQueued;
}

Json ToJson(const Job& j) {
  Json attempts = Json::array();
  for (const auto& a : j.attempts)
    attempts.push_back(Json{{"dispatch", a.dispatch}, {"worker", a.worker}, {"started_at", a.started_at},
                            {"ended_at", a.ended_at}, {"outcome", a.outcome}, {"message", a.message}});
  Json out{{"id", j.id},
           {"plugin", j.plugin},
           {"kind", j.kind},
           {"scope", j.scope == JobScope::kProposal ? "proposal" : "dataset"},
           {"state", JobStateName(j.state)},
           {"dispatches", j.dispatches},
           {"failures", j.failures},
           {"max_attempts", j.max_attempts},
           {"isolate", j.isolate},
           {"worker", j.worker},
           {"lease_deadline", j.lease_deadline},
           {"created_at", j.created_at},
           {"updated_at", j.updated_at},
           {"outcome", j.outcome},
           {"summary", j.summary},
           {"progress", j.progress},
           {"attempts", std::move(attempts)},
           {"dataset_revision", j.dataset_revision}};
  if (j.scope == JobScope::kProposal) {
    out["proposal"] = j.proposal;
    out["revision"] = j.revision;
  }
  return out;
}

Result<Job> JobFromJson(const Json& j) {
  try {
    Job job;
    job.id = j.at("id").get<std::string>();
    job.plugin = j.at("plugin").get<std::string>();
    job.kind = j.value("kind", "check");
    job.scope = j.value("scope", "proposal") == "dataset" ? JobScope::kDataset : JobScope::kProposal;
    auto st = ParseJobState(j.value("state", "queued"));
    if (!st) return Status::Internal("job " + job.id + ": unknown state");
    job.state = *st;
    job.proposal = j.value("proposal", int64_t{0});
    job.revision = j.value("revision", 0);
    job.dataset_revision = j.value("dataset_revision", int64_t{0});
    job.dispatches = j.value("dispatches", 0);
    job.failures = j.value("failures", 0);
    job.max_attempts = j.value("max_attempts", 3);
    job.isolate = j.value("isolate", false);
    job.worker = j.value("worker", "");
    job.lease_deadline = j.value("lease_deadline", int64_t{0});
    job.created_at = j.value("created_at", int64_t{0});
    job.updated_at = j.value("updated_at", int64_t{0});
    job.outcome = j.value("outcome", "");
    job.summary = j.value("summary", "");
    job.progress = j.value("progress", 0.0);
    if (j.contains("attempts"))
      for (const auto& a : j["attempts"])
        job.attempts.push_back(JobAttempt{a.value("dispatch", 0), a.value("worker", ""),
                                          a.value("started_at", int64_t{0}), a.value("ended_at", int64_t{0}),
                                          a.value("outcome", ""), a.value("message", "")});
    return job;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("job record: ") + e.what());
  }
}

Result<CheckVerdict> ReadCheckOutput(const Json& output) {
  if (!output.is_object()) return Status::InvalidArgument("a check's output must be a JSON object");
  if (!output.contains("status") || !output["status"].is_string())
    return Status::InvalidArgument("a check's output needs \"status\": \"passed\" or \"failed\"");
  const std::string st = output["status"].get<std::string>();
  if (st != "passed" && st != "failed")
    return Status::InvalidArgument("a check's status must be \"passed\" or \"failed\", not \"" + st + "\"");
  if (output.contains("findings") && !output["findings"].is_array())
    return Status::InvalidArgument("a check's \"findings\" must be an array");
  CheckVerdict v;
  v.outcome = st;
  if (output.contains("summary") && output["summary"].is_string()) v.summary = output["summary"].get<std::string>();
  if (v.summary.empty()) {
    const size_t n = output.contains("findings") ? output["findings"].size() : 0;
    v.summary = st == "passed" ? "passed" : std::to_string(n) + " finding" + (n == 1 ? "" : "s");
  }
  return v;
}

}  // namespace normbase::domain
