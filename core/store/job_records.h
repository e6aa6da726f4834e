// Typed access to the job records (table `jobs`): the durable in-flight table
// of the job broker and the results plugins returned. Key layout:
//
//   j/<job id>                              -> job JSON (domain::Job)
//   o/<job id>                              -> ""   while queued or running (start-up scan)
//   p/BE64(proposal) BE64(revision) <plugin> -> job id (checks of a revision)
//   d/<plugin> \0 BE64(dataset revision)    -> job id (analyses per dataset revision)
//   r/<job id>                              -> the plugin's output document (JSON)
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/job.h"
#include "store/store.h"

namespace normbase::store {

Result<std::optional<domain::Job>> LoadJob(const Reader& r, const std::string& id);
// Writes the record and keeps the open and subject indexes in step with its
// state. Returns the document it stored (domain::ToJson(job)), for a caller
// that publishes the job too. The indexes are written while the job has
// never been dispatched (it is created so) and the open mark is removed when
// it ends (an ended job never runs again); saves in between leave them be.
domain::Json SaveJob(WriteContext& w, const domain::Job& job);
// Visits queued and running jobs.
Status ForEachOpenJob(const Reader& r, const std::function<bool(domain::Job&&)>& fn);
// Visits every job in id order after `after_id` (for listings).
Status ForEachJob(const Reader& r, const std::string& after_id,
                  const std::function<bool(domain::Job&&)>& fn);
// The jobs of one proposal revision, in plugin order.
Result<std::vector<domain::Job>> JobsOfProposalRevision(const Reader& r, int64_t proposal, int revision);
// The job of `plugin` for the newest dataset revision <= `at` (any state).
Result<std::optional<domain::Job>> LatestDatasetJob(const Reader& r, const std::string& plugin, int64_t at);
// Dataset job ids of `plugin`, newest first, at most `limit`.
Result<std::vector<domain::Job>> DatasetJobsOf(const Reader& r, const std::string& plugin, size_t limit);

void SaveJobResult(WriteContext& w, const std::string& id, const std::string& output_json);
Result<std::optional<std::string>> LoadJobResult(const Reader& r, const std::string& id);

}  // namespace normbase::store
