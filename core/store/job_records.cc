#include "store/job_records.h"

#include <nlohmann/json.hpp>

#include "store/decode_memo.h"

namespace normbase::store {
namespace {

using domain::Job;
using domain::Json;

std::string JobKey(const std::string& id) { return "j/" + id; }
std::string OpenKey(const std::string& id) { return "o/" + id; }
std::string ResultKey(const std::string& id) { return "r/" + id; }
std::string ProposalPrefix(int64_t proposal, int revision) {
  return "p/" + EncodeU64(static_cast<uint64_t>(proposal)) + EncodeU64(static_cast<uint64_t>(revision));
}
std::string DatasetPrefix(const std::string& plugin) { return "d/" + plugin + std::string(1, '\0'); }

Result<Job> Decode(std::string_view text) {
  auto parsed = domain::ParseJson(text);
  if (!parsed.ok()) return Status::Internal("job record is not JSON: " + parsed.status().message());
  return domain::JobFromJson(*parsed);
}

}  // namespace

Result<std::optional<Job>> LoadJob(const Reader& r, const std::string& id) {
  return LoadDecoded<Job>(r, Table::kJobs, JobKey(id), &Decode);
}

Json SaveJob(WriteContext& w, const Job& job) {
  const std::string key = JobKey(job.id);
  Json doc = domain::ToJson(job);
  std::string text = domain::Dump(doc);
  w.Put(Table::kJobs, key, text);
  // The committer loads the job again when its result or loss comes:
  // remember it as decoding `text` gives it back (a dataset job's record has
  // no proposal fields; its strings are valid UTF-8, which Dump writes as they
  // are: what a worker says arrives in proto3 strings, checked on parse).
  Job as_stored = job;
  if (as_stored.scope == domain::JobScope::kDataset) as_stored.proposal = as_stored.revision = 0;
  DecodeMemo<Job>::OfThisThread().Remember(key, std::move(text), std::move(as_stored));
  if (job.Terminal()) {
    w.Delete(Table::kJobs, OpenKey(job.id));
  } else if (job.dispatches == 0) {
    w.Put(Table::kJobs, OpenKey(job.id), "");
  }
  if (job.dispatches == 0) {
    if (job.scope == domain::JobScope::kProposal)
      w.Put(Table::kJobs, ProposalPrefix(job.proposal, job.revision) + job.plugin, job.id);
    else
      w.Put(Table::kJobs,
            DatasetPrefix(job.plugin) + EncodeU64(static_cast<uint64_t>(job.dataset_revision)),
            job.id);
  }
  return doc;
}

Status ForEachOpenJob(const Reader& r, const std::function<bool(Job&&)>& fn) {
  std::vector<std::string> ids;
  NB_RETURN_IF_ERROR(r.Scan(Table::kJobs, "o/", "", [&](std::string_view k, std::string_view) {
    ids.emplace_back(k.substr(2));
    return true;
  }));
  for (const auto& id : ids) {
    NB_ASSIGN_OR_RETURN(auto job, LoadJob(r, id));
    if (job && !fn(std::move(*job))) break;
  }
  return Status::Ok();
}

Status ForEachJob(const Reader& r, const std::string& after_id, const std::function<bool(Job&&)>& fn) {
  Status err;
  const std::string start = after_id.empty() ? "" : JobKey(after_id) + std::string(1, '\0');
  NB_RETURN_IF_ERROR(r.Scan(Table::kJobs, "j/", start, [&](std::string_view, std::string_view v) {
    auto job = Decode(v);
    if (!job.ok()) {
      err = job.status();
      return false;
    }
    return fn(std::move(*job));
  }));
  return err;
}

Result<std::vector<Job>> JobsOfProposalRevision(const Reader& r, int64_t proposal, int revision) {
  std::vector<std::string> ids;
  NB_RETURN_IF_ERROR(r.Scan(Table::kJobs, ProposalPrefix(proposal, revision), "",
                            [&](std::string_view, std::string_view v) {
                              ids.emplace_back(v);
                              return true;
                            }));
  std::vector<Job> out;
  for (const auto& id : ids) {
    NB_ASSIGN_OR_RETURN(auto job, LoadJob(r, id));
    if (job) out.push_back(std::move(*job));
  }
  return out;
}

Result<std::optional<Job>> LatestDatasetJob(const Reader& r, const std::string& plugin, int64_t at) {
  const std::string prefix = DatasetPrefix(plugin);
  NB_ASSIGN_OR_RETURN(auto kv, r.SeekForPrev(Table::kJobs, prefix, prefix + EncodeU64(static_cast<uint64_t>(at))));
  if (!kv) return std::optional<Job>();
  return LoadJob(r, kv->second);
}

Result<std::vector<Job>> DatasetJobsOf(const Reader& r, const std::string& plugin, size_t limit) {
  std::vector<std::string> ids;
  NB_RETURN_IF_ERROR(r.Scan(Table::kJobs, DatasetPrefix(plugin), "", [&](std::string_view, std::string_view v) {
    ids.emplace_back(v);
    return true;
  }));
  std::vector<Job> out;
  for (auto it = ids.rbegin(); it != ids.rend() && out.size() < limit; ++it) {
    NB_ASSIGN_OR_RETURN(auto job, LoadJob(r, *it));
    if (job) out.push_back(std::move(*job));
  }
  return out;
}

void SaveJobResult(WriteContext& w, const std::string& id, const std::string& output_json) {
  w.Put(Table::kJobs, ResultKey(id), output_json);
}

Result<std::optional<std::string>> LoadJobResult(const Reader& r, const std::string& id) {
  return r.Get(Table::kJobs, ResultKey(id));
}

}  // namespace normbase::store
