#include "service/jobs.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/codec.h"
#include "store/job_records.h"
#include "store/records.h"

namespace normbase::service {
namespace {

using domain::AttemptLoss;
using domain::Job;
using domain::JobScope;
using domain::JobState;

std::string EventPrefix(const Job& j) { return j.scope == JobScope::kProposal ? "check." : "analysis."; }

// Saves the job and announces its state: one event per state change
// ("check.queued", "analysis.done", ...) carrying the job without its
// attempts, made from the document the record was written from.
void SaveAndAnnounce(store::WriteContext& w, const Job& j, const std::string& what) {
  Json job = store::SaveJob(w, j);
  job.erase("attempts");
  domain::Event e;
  e.type = EventPrefix(j) + what;
  e.subjects["job"] = j.id;
  if (j.scope == JobScope::kProposal)
    e.subjects["proposal"] = std::to_string(j.proposal);
  else
    e.subjects["dataset_revision"] = std::to_string(j.dataset_revision);
  Json payload = Json::object();
  payload["job"] = std::move(job);
  e.payload = domain::Dump(payload);
  w.AppendEvent(std::move(e));
}

void QueueOne(store::WriteContext& w, const JobsConfig& config, Job job) {
  auto existing = store::LoadJob(w, job.id);
  if (!existing.ok() || existing->has_value()) return;  // queued already: idempotent
  job.state = JobState::kQueued;
  job.max_attempts = std::max(1, config.max_attempts);
  job.created_at = job.updated_at = w.Now();
  SaveAndAnnounce(w, job, "queued");
}

Json AgreementSummary(const domain::Agreement& a) {
  Json full = domain::ToJson(a);
  Json out = Json::object();
  for (const char* k : {"id", "title", "year", "date", "kind", "parties", "leading_stakeholders"})
    if (full.contains(k)) out[k] = full[k];
  return out;
}

Result<Json> ParseOutput(const std::string& text) {
  auto j = domain::ParseJson(text);
  if (!j.ok()) return Status::InvalidArgument("the plugin's output is not JSON: " + j.status().message());
  if (!j->is_object()) return Status::InvalidArgument("the plugin's output must be a JSON object");
  return std::move(j).value();
}

void CloseAttempt(Job& j, const std::string& outcome, const std::string& message, int64_t now) {
  if (!j.attempts.empty() && j.attempts.back().dispatch == j.dispatches) {
    j.attempts.back().ended_at = now;
    j.attempts.back().outcome = outcome;
    j.attempts.back().message = message;
  }
}

// Loads a running job and checks that a report is about its current dispatch.
Result<Job> LoadLeased(const store::Reader& r, const std::string& id, int dispatch) {
  NB_ASSIGN_OR_RETURN(auto job, store::LoadJob(r, id));
  if (!job) return Status::NotFound("job " + id + " does not exist");
  if (job->state != JobState::kRunning || job->dispatches != dispatch)
    return Status::Conflict("job " + id + " is " + domain::JobStateName(job->state) + " at dispatch " +
                            std::to_string(job->dispatches) + "; a report for dispatch " +
                            std::to_string(dispatch) + " is stale");
  return std::move(*job);
}

// The output a done job stored, parsed; null when it has none (not done, an
// error, or never stored).
Result<Json> StoredOutput(const store::Reader& r, const Job& j) {
  if (j.state != JobState::kDone || j.outcome == "error") return Json();
  NB_ASSIGN_OR_RETURN(auto text, store::LoadJobResult(r, j.id));
  if (!text) return Json();
  auto parsed = domain::ParseJson(*text);
  if (!parsed.ok()) return Status::Internal("stored result of job " + j.id + " is corrupt");
  return std::move(parsed).value();
}

std::string CheckStatus(const Job& j) {
  switch (j.state) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kFailed: return "error";
    case JobState::kDone: return j.outcome.empty() ? "error" : j.outcome;
  }
  return "error";
}

}  // namespace

void QueueProposalJobs(store::WriteContext& w, const JobsConfig& config, const domain::Proposal& p) {
  if (!config.enabled) return;
  auto ds = store::DatasetRevision(w);
  Job base;
  base.scope = JobScope::kProposal;
  base.proposal = p.id;
  base.revision = p.Current().number;
  base.dataset_revision = ds.ok() ? *ds : 0;
  for (const auto& name : config.checks) {
    Job j = base;
    j.id = domain::ProposalJobId(p.id, base.revision, name);
    j.plugin = name;
    j.kind = "check";
    QueueOne(w, config, std::move(j));
  }
  for (const auto& name : config.proposal_analyses) {
    Job j = base;
    j.id = domain::ProposalJobId(p.id, base.revision, name);
    j.plugin = name;
    j.kind = "analysis";
    QueueOne(w, config, std::move(j));
  }
}

void QueueDatasetJobs(store::WriteContext& w, const JobsConfig& config, int64_t dataset_revision) {
  if (!config.enabled) return;
  for (const auto& name : config.dataset_analyses) {
    Job j;
    j.id = domain::DatasetJobId(dataset_revision, name);
    j.plugin = name;
    j.kind = "analysis";
    j.scope = JobScope::kDataset;
    j.dataset_revision = dataset_revision;
    QueueOne(w, config, std::move(j));
  }
}

// ---- broker side -------------------------------------------------------------

Result<std::vector<Job>> Jobs::RecoverOpenJobs() {
  std::vector<Job> open;
  NB_RETURN_IF_ERROR(store_.Commit([&](store::WriteContext& w) -> Status {
    open.clear();
    Status err;
    NB_RETURN_IF_ERROR(store::ForEachOpenJob(w, [&](Job&& j) {
      if (j.state == JobState::kRunning) {
        domain::ApplyAttemptLoss(j, AttemptLoss::kOrphaned, "the core restarted while the job ran", w.Now());
        SaveAndAnnounce(w, j, "queued");
      }
      open.push_back(std::move(j));
      return true;
    }));
    return err;
  }));
  std::stable_sort(open.begin(), open.end(),
                   [](const Job& a, const Job& b) { return a.created_at < b.created_at; });
  return open;
}

struct Jobs::DatasetDoc {
  Json json;
  AnswerPtr text;  // Dump(json), with its fingerprint
};

size_t JobInput::size() const {
  size_t n = own.size();
  for (const auto& s : shared) n += s.name.size() + s.text->body->size() + 4;
  return n;
}

std::string JobInput::Whole() const {
  std::vector<domain::JsonMember> members;
  members.reserve(shared.size());
  for (const auto& s : shared) members.push_back({s.name, *s.text->body});
  return domain::WithMembers(own, members);
}

Result<std::shared_ptr<const Jobs::DatasetDoc>> Jobs::DatasetDocument(const store::Reader& r,
                                                                      int64_t revision,
                                                                      bool full) const {
  for (int attempt = 0;; ++attempt) {
    NB_ASSIGN_OR_RETURN(int64_t current, store::DatasetRevision(r));
    const std::pair<int64_t, bool> key{std::min(revision, current), full};
    {
      std::lock_guard lk(cache_mu_);
      if (auto it = dataset_cache_.find(key); it != dataset_cache_.end()) return it->second;
    }
    auto doc = std::make_shared<DatasetDoc>();
    NB_ASSIGN_OR_RETURN(doc->json, ReadDatasetDocument(r, revision, current, full));
    doc->text = MakeAnswer(domain::Dump(doc->json));
    // The scan is not a snapshot: a merge that landed meanwhile may be in what
    // was read, and then the document is not that of `current`. Read again.
    NB_ASSIGN_OR_RETURN(int64_t after, store::DatasetRevision(r));
    if (after != current && attempt < 3) continue;
    std::lock_guard lk(cache_mu_);
    if (after == current) {
      dataset_cache_[key] = doc;
      while (dataset_cache_.size() > 4)
        dataset_cache_.erase(dataset_cache_.begin());  // oldest revisions first
    }
    return std::shared_ptr<const DatasetDoc>(std::move(doc));
  }
}

AnswerPtr Jobs::CodebookText() const {
  auto cb = codebook_.Get();
  if (!cb) return nullptr;
  std::lock_guard lk(cache_mu_);
  if (cb != codebook_of_text_) {
    codebook_text_ = MakeAnswer(domain::Dump(domain::ToJson(*cb)));
    codebook_of_text_ = std::move(cb);
  }
  return codebook_text_;
}

Result<std::shared_ptr<const Jobs::ProposalPart>> Jobs::ProposalInput(
    const store::Reader& r, const Job& job, int64_t dataset_revision) const {
  const auto key =
      std::make_tuple(job.proposal, job.revision, job.dataset_revision, dataset_revision);
  {
    std::lock_guard lk(cache_mu_);
    if (auto it = proposal_parts_.find(key); it != proposal_parts_.end()) return it->second;
  }
  NB_ASSIGN_OR_RETURN(auto head, store::LoadProposalHead(r, job.proposal));
  if (!head)
    return Status::NotFound("proposal " + std::to_string(job.proposal) + " does not exist");
  const domain::Proposal& p = head->proposal;
  NB_ASSIGN_OR_RETURN(auto rev,
                      store::LoadProposalRevision(r, job.proposal, static_cast<int>(job.revision)));
  if (!rev)
    return Status::NotFound("proposal revision " + std::to_string(job.revision) +
                            " does not exist");
  auto part = std::make_shared<ProposalPart>();
  part->proposal =
      domain::Dump(Json{{"id", p.id},
                        {"kind", domain::KindName(p.kind)},
                        {"revision", rev->number},
                        {"agreement_id", p.agreement_id},
                        {"base_revision", rev->base_revision},
                        {"base_dataset_revision", job.dataset_revision},
                        {"rationale", rev->rationale},
                        {"record", rev->proposed ? domain::ToJson(*rev->proposed) : Json()}});
  NB_ASSIGN_OR_RETURN(auto current, store::LoadAgreement(r, p.agreement_id));
  part->current = domain::Dump(current && !current->retired ? domain::ToJson(*current) : Json());
  // A revision's records never change, but `current` is the agreement now:
  // kept only if no merge landed while it was read (reads are not a snapshot).
  NB_ASSIGN_OR_RETURN(int64_t after, store::DatasetRevision(r));
  if (after == dataset_revision) {
    std::lock_guard lk(cache_mu_);
    proposal_parts_[key] = part;
    while (proposal_parts_.size() > 64)
      proposal_parts_.erase(proposal_parts_.begin());  // oldest proposals first
  }
  return std::shared_ptr<const ProposalPart>(std::move(part));
}

Result<AnswerPtr> Jobs::BaselineText(const store::Reader& r, int64_t dataset_revision) const {
  // Which results are the latest is cheap to find (an index seek and a job
  // record); only reading them is not. A done job's result never changes, so
  // the jobs' ids, states, dispatches and times say whether the text is current.
  std::vector<Job> latest;
  std::string key;
  for (const auto& name : config_.jobs.dataset_analyses) {
    NB_ASSIGN_OR_RETURN(auto job, store::LatestDatasetJob(r, name, dataset_revision));
    if (!job) continue;
    key += job->id + ' ' + domain::JobStateName(job->state) + ' ' +
           std::to_string(job->dispatches) + ' ' + std::to_string(job->updated_at) + '\n';
    latest.push_back(std::move(*job));
  }
  {
    std::lock_guard lk(cache_mu_);
    if (baseline_text_ && baseline_key_ == key) return baseline_text_;
  }
  Json baseline = Json::object();
  for (const auto& job : latest) {
    NB_ASSIGN_OR_RETURN(Json out, StoredOutput(r, job));
    if (!out.is_null()) baseline[job.plugin] = std::move(out);
  }
  AnswerPtr text = MakeAnswer(domain::Dump(baseline));
  std::lock_guard lk(cache_mu_);
  baseline_key_ = std::move(key);
  baseline_text_ = text;
  return text;
}

Result<Json> Jobs::ReadDatasetDocument(const store::Reader& r, int64_t revision, int64_t current, bool full) const {
  Json list = Json::array();
  Status err;
  std::vector<std::string> ids;
  NB_RETURN_IF_ERROR(store::ForEachAgreement(r, "", [&](domain::Agreement&& a) {
    if (revision >= current) {
      if (!a.retired) list.push_back(full ? domain::ToJson(a) : AgreementSummary(a));
    } else {
      ids.push_back(a.id);
    }
    return true;
  }));
  for (const auto& id : ids) {
    NB_ASSIGN_OR_RETURN(auto at, store::LoadAgreementAt(r, id, revision));
    if (at) list.push_back(full ? domain::ToJson(*at) : AgreementSummary(*at));
  }
  return Json{{"revision", std::min(revision, current)}, {"agreements", std::move(list)}};
}

Result<JobInput> Jobs::BuildInput(const Job& job) const {
  const auto codebook = CodebookText();
  if (!codebook) return Status::Unavailable("no codebook is loaded yet");
  const store::Reader& r = store_;
  Json plugin_config = Json::object();
  if (auto it = config_.jobs.plugin_config.find(job.plugin); it != config_.jobs.plugin_config.end()) {
    auto parsed = domain::ParseJson(it->second);
    if (parsed.ok() && parsed->is_object()) plugin_config = *parsed;
  }
  Json in{{"job", {{"id", job.id}, {"plugin", job.plugin}, {"attempt", job.dispatches + 1}}},
          {"config", plugin_config}};
  std::shared_ptr<const DatasetDoc> dataset;
  if (job.scope == JobScope::kProposal) {
    NB_ASSIGN_OR_RETURN(int64_t now_rev, store::DatasetRevision(r));
    NB_ASSIGN_OR_RETURN(auto part, ProposalInput(r, job, now_rev));
    const domain::JsonMember own_members[] = {{"proposal", part->proposal},
                                              {"current", part->current}};
    if (job.kind == "check") {
      NB_ASSIGN_OR_RETURN(dataset, DatasetDocument(r, now_rev, false));
      return JobInput{domain::WithMembers(domain::Dump(in), own_members),
                      {{"codebook", codebook}, {"dataset", dataset->text}}};
    }
    in["scope"] = "proposal";
    NB_ASSIGN_OR_RETURN(dataset, DatasetDocument(r, now_rev, true));
    NB_ASSIGN_OR_RETURN(auto baseline, BaselineText(r, now_rev));
    return JobInput{domain::WithMembers(domain::Dump(in), own_members),
                    {{"codebook", codebook}, {"dataset", dataset->text}, {"baseline", baseline}}};
  }
  in["scope"] = "dataset";
  NB_ASSIGN_OR_RETURN(dataset, DatasetDocument(r, job.dataset_revision, true));
  // Incremental update: the previous revision's result and what changed since.
  if (job.dataset_revision > 1) {
    NB_ASSIGN_OR_RETURN(auto prev, store::LatestDatasetJob(r, job.plugin, job.dataset_revision - 1));
    NB_ASSIGN_OR_RETURN(auto record, store::LoadDatasetRevision(r, job.dataset_revision));
    Json previous;
    if (prev && prev->dataset_revision == job.dataset_revision - 1 && record) {
      NB_ASSIGN_OR_RETURN(previous, StoredOutput(r, *prev));
    }
    if (!previous.is_null()) {
      // The plugins update from the previous result's sufficient statistics
      // alone; the rest of it would only cost parsing (docs/plugins.md).
      if (previous.is_object() && previous.contains("state")) previous = Json{{"state", std::move(previous["state"])}};
      Json changes = Json::array();
      for (const auto& c : record->value("changes", Json::array())) {
        const std::string id = c.value("agreement", "");
        NB_ASSIGN_OR_RETURN(auto before, store::LoadAgreementAt(r, id, job.dataset_revision - 1));
        NB_ASSIGN_OR_RETURN(auto after, store::LoadAgreementAt(r, id, job.dataset_revision));
        changes.push_back(Json{{"id", id},
                               {"before", before ? domain::ToJson(*before) : Json()},
                               {"after", after ? domain::ToJson(*after) : Json()}});
      }
      in["previous"] = Json{{"revision", prev->dataset_revision}, {"result", std::move(previous)}};
      in["changes"] = std::move(changes);
    }
  }
  if (job.plugin == "inter-coder") {
    // Every coding the core knows per agreement: the merged one and each
    // add/recode proposal's latest revision (withdrawn ones excluded).
    std::map<std::string, Json> by_agreement;
    for (const auto& a : dataset->json["agreements"])
      by_agreement[a.value("id", "")].push_back(Json{{"agreement_id", a.value("id", "")},
                                                     {"coder", "dataset"},
                                                     {"source", "dataset"},
                                                     {"codings", a.value("codings", Json::object())}});
    // The heads first, then the candidates' revisions: no read nested in a scan.
    std::vector<domain::Proposal> candidates;
    NB_RETURN_IF_ERROR(store::ForEachProposalHead(r, 0, [&](store::ProposalHead&& head) {
      domain::Proposal& p = head.proposal;
      if (p.status == domain::ProposalStatus::kWithdrawn) return true;
      if (p.kind != domain::ProposalKind::kRecode && p.kind != domain::ProposalKind::kAdd)
        return true;
      // A merged proposal IS the dataset's coding: counting it twice would inflate agreement.
      if (p.status == domain::ProposalStatus::kMerged) return true;
      candidates.push_back(std::move(p));
      return true;
    }));
    for (const auto& p : candidates) {
      NB_ASSIGN_OR_RETURN(auto cur, store::LoadProposalRevision(r, p.id, p.Current().number));
      if (!cur || !cur->proposed) continue;
      by_agreement[p.agreement_id].push_back(
          Json{{"agreement_id", p.agreement_id},
               {"coder", p.author_name},
               {"source", "proposal:" + std::to_string(p.id)},
               {"codings", domain::CodingsToJson(cur->proposed->codings)}});
    }
    Json codings = Json::array();
    for (auto& [id, list] : by_agreement)
      if (list.size() >= 2)
        for (auto& c : list) codings.push_back(std::move(c));
    in["codings"] = std::move(codings);
  }
  return JobInput{domain::Dump(in), {{"codebook", codebook}, {"dataset", dataset->text}}};
}

void Jobs::RecordDispatch(const std::string& job_id, int dispatch, const std::string& worker, int64_t deadline,
                          Done<Job> done) {
  SubmitFor<Job>(store_, [job_id, dispatch, worker, deadline](store::WriteContext& w) -> Result<Job> {
    NB_ASSIGN_OR_RETURN(auto job, store::LoadJob(w, job_id));
    if (!job) return Status::NotFound("job " + job_id + " does not exist");
    if (job->state != JobState::kQueued || job->dispatches + 1 != dispatch)
      return Status::Conflict("job " + job_id + " is " + domain::JobStateName(job->state) + "; not dispatched again");
    domain::ApplyDispatch(*job, worker, w.Now(), deadline);
    SaveAndAnnounce(w, *job, "running");
    return std::move(*job);
  }, std::move(done));
}

void Jobs::RecordResult(JobReport report, Done<Job> done) {
  SubmitFor<Job>(store_, [report = std::move(report)](store::WriteContext& w) -> Result<Job> {
    NB_ASSIGN_OR_RETURN(Job job, LoadLeased(w, report.job_id, report.dispatch));
    const int64_t now = w.Now();
    switch (report.outcome) {
      case JobOutcome::kTimedOut:
        domain::ApplyAttemptLoss(job, AttemptLoss::kTimedOut, report.message, now);
        break;
      case JobOutcome::kRefused:
        domain::ApplyAttemptLoss(job, AttemptLoss::kHandedBack, report.message, now);
        break;
      case JobOutcome::kBadInput:
      case JobOutcome::kFailed: {
        job.state = JobState::kDone;
        job.outcome = "error";
        job.summary = (report.outcome == JobOutcome::kBadInput ? "the plugin refused its input: "
                                                               : "the plugin failed: ") +
                      (report.message.empty() ? std::string("no message") : report.message);
        CloseAttempt(job, job.outcome, report.message, now);
        break;
      }
      case JobOutcome::kOk: {
        auto parsed = ParseOutput(report.output);
        Status bad = parsed.status();
        domain::CheckVerdict verdict{"ok", ""};
        if (parsed.ok() && job.kind == "check") {
          auto v = domain::ReadCheckOutput(*parsed);
          if (v.ok())
            verdict = *v;
          else
            bad = v.status();
        } else if (parsed.ok()) {
          const Json& cov = (*parsed).contains("coverage") ? (*parsed)["coverage"] : Json();
          verdict.summary = cov.is_object() && cov.contains("text") && cov["text"].is_string()
                                ? cov["text"].get<std::string>()
                                : std::string("done");
        }
        job.state = JobState::kDone;
        if (!bad.ok()) {
          // Garbage from a plugin is the plugin's fault: an error, not a retry.
          job.outcome = "error";
          job.summary = bad.message();
        } else {
          job.outcome = verdict.outcome;
          job.summary = verdict.summary;
          store::SaveJobResult(w, job.id, domain::Dump(*parsed));
        }
        CloseAttempt(job, job.outcome, bad.ok() ? "" : bad.message(), now);
        break;
      }
    }
    job.updated_at = now;
    job.progress = job.state == JobState::kDone ? 1.0 : 0.0;
    SaveAndAnnounce(w, job, domain::JobStateName(job.state));
    return job;
  }, std::move(done));
}

void Jobs::RecordLoss(const std::string& job_id, int dispatch, AttemptLoss loss, const std::string& message,
                      Done<Job> done) {
  SubmitFor<Job>(store_, [job_id, dispatch, loss, message](store::WriteContext& w) -> Result<Job> {
    NB_ASSIGN_OR_RETURN(Job job, LoadLeased(w, job_id, dispatch));
    domain::ApplyAttemptLoss(job, loss, message, w.Now());
    SaveAndAnnounce(w, job, domain::JobStateName(job.state));
    return job;
  }, std::move(done));
}

// ---- views -------------------------------------------------------------------

Result<std::optional<Job>> Jobs::Get(const std::string& id) const { return store::LoadJob(store_, id); }

Result<Json> Jobs::List(const std::string& state, const std::string& cursor, std::optional<size_t> limit) const {
  std::optional<JobState> want;
  if (!state.empty()) {
    want = domain::ParseJobState(state);
    if (!want) return Status::InvalidArgument("state: '" + state + "' is not one of queued, running, done, failed");
  }
  const size_t n = PageSize(config_, limit);
  Json items = Json::array();
  std::string last;
  bool more = false;
  auto visit = [&](Job&& j) {
    if (want && j.state != *want) return true;
    if (items.size() == n) {
      more = true;
      return false;
    }
    last = j.id;
    items.push_back(domain::ToJson(j));
    return true;
  };
  // Open jobs have their own index: listing the queue never scans history.
  if (want && (*want == JobState::kQueued || *want == JobState::kRunning)) {
    std::vector<Job> open;
    NB_RETURN_IF_ERROR(store::ForEachOpenJob(store_, [&](Job&& j) {
      if (j.id > cursor) open.push_back(std::move(j));
      return true;
    }));
    for (auto& j : open)
      if (!visit(std::move(j))) break;
  } else {
    NB_RETURN_IF_ERROR(store::ForEachJob(store_, cursor, visit));
  }
  Json out{{"items", std::move(items)}};
  out["next_cursor"] = more ? Json(last) : Json();
  return out;
}

Result<Json> ChecksOf(const store::Reader& r, int64_t proposal, int revision) {
  NB_ASSIGN_OR_RETURN(auto jobs, store::JobsOfProposalRevision(r, proposal, revision));
  Json out = Json::array();
  for (const auto& j : jobs) {
    if (j.kind != "check") continue;
    Json c{{"plugin", j.plugin},
           {"status", CheckStatus(j)},
           {"summary", j.summary},
           {"job", j.id},
           {"failures", j.failures},
           {"updated_at", j.updated_at},
           {"findings", Json::array()}};
    if (j.state == JobState::kRunning) c["progress"] = j.progress;
    NB_ASSIGN_OR_RETURN(Json output, StoredOutput(r, j));
    if (output.is_object() && output.contains("findings")) c["findings"] = std::move(output["findings"]);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::map<std::string, std::string>> CheckStates(const store::Reader& r, int64_t proposal, int revision) {
  NB_ASSIGN_OR_RETURN(auto jobs, store::JobsOfProposalRevision(r, proposal, revision));
  std::map<std::string, std::string> out;
  for (const auto& j : jobs) {
    if (j.kind != "check") continue;
    const std::string st = CheckStatus(j);
    out[j.plugin] = st == "queued" || st == "running" ? "pending" : st;
  }
  return out;
}

Result<Json> ImpactOf(const store::Reader& r, int64_t proposal, int revision) {
  NB_ASSIGN_OR_RETURN(auto jobs, store::JobsOfProposalRevision(r, proposal, revision));
  Json out = Json::object();
  for (const auto& j : jobs) {
    if (j.kind != "analysis") continue;
    // An analysis is done or not; its findings are in the result.
    const std::string status = j.state == JobState::kDone && j.outcome == "error" ? "error" : domain::JobStateName(j.state);
    Json entry{{"status", status}, {"summary", j.summary}, {"job", j.id}};
    NB_ASSIGN_OR_RETURN(entry["result"], StoredOutput(r, j));
    out[j.plugin] = std::move(entry);
  }
  return out;
}

Result<Json> Jobs::ListAnalyses() const {
  Json items = Json::array();
  for (const auto& name : config_.jobs.dataset_analyses) {
    NB_ASSIGN_OR_RETURN(auto recent, store::DatasetJobsOf(store_, name, 20));
    Json item{{"name", name}, {"latest", nullptr}, {"available_revision", nullptr}};
    if (!recent.empty())
      item["latest"] = Json{{"dataset_revision", recent.front().dataset_revision},
                            {"state", domain::JobStateName(recent.front().state)},
                            {"outcome", recent.front().outcome},
                            {"summary", recent.front().summary}};
    for (const auto& j : recent)
      if (j.state == JobState::kDone && j.outcome != "error") {
        item["available_revision"] = j.dataset_revision;
        item["summary"] = j.summary;
        break;
      }
    items.push_back(std::move(item));
  }
  return Json{{"items", std::move(items)}};
}

Result<Json> Jobs::GetAnalysis(const std::string& name, std::optional<int64_t> revision) const {
  const auto& names = config_.jobs.dataset_analyses;
  if (std::find(names.begin(), names.end(), name) == names.end())
    return Status::NotFound("no analysis named '" + name + "'; see GET /api/v1/analyses");
  std::optional<Job> job;
  if (revision) {
    NB_ASSIGN_OR_RETURN(job, store::LatestDatasetJob(store_, name, *revision));
    if (!job || job->dataset_revision != *revision)
      return Status::NotFound("analysis '" + name + "' was not run at dataset revision " + std::to_string(*revision));
  } else {
    NB_ASSIGN_OR_RETURN(auto recent, store::DatasetJobsOf(store_, name, 50));
    for (auto& j : recent)
      if (j.state == JobState::kDone && j.outcome != "error") {
        job = std::move(j);
        break;
      }
    if (!job && !recent.empty()) job = std::move(recent.front());
    if (!job) return Status::NotFound("analysis '" + name + "' has not been queued yet");
  }
  Json out{{"name", name},
           {"dataset_revision", job->dataset_revision},
           {"state", domain::JobStateName(job->state)},
           {"outcome", job->outcome},
           {"summary", job->summary},
           {"updated_at", job->updated_at},
           {"job", job->id}};
  NB_ASSIGN_OR_RETURN(out["result"], StoredOutput(store_, *job));
  return out;
}

}  // namespace normbase::service
