#include "service/importer.h"

#include <nlohmann/json.hpp>
#include <set>

#include "domain/csv.h"
#include "service/accounts.h"
#include "service/jobs.h"
#include "store/records.h"

namespace normbase::service {

using domain::Agreement;

namespace {

constexpr size_t kMaxReportedProblems = 50;

Result<std::vector<Agreement>> AgreementsFromJsonDoc(const Json& doc, size_t max) {
  const Json* list = &doc;
  if (doc.is_object()) {
    if (!doc.contains("agreements"))
      return Status::InvalidArgument("body: expected {\"agreements\": [...]} or an array of agreements");
    list = &doc["agreements"];
  }
  if (!list->is_array()) return Status::InvalidArgument("agreements: expected an array");
  if (list->size() > max)
    return Status::TooLarge("agreements: more than " + std::to_string(max) + " in one import");
  std::vector<Agreement> out;
  std::vector<std::string> problems;
  for (size_t i = 0; i < list->size(); ++i) {
    auto a = domain::AgreementFromJson((*list)[i], domain::Decode::kInput,
                                       "agreements[" + std::to_string(i) + "]");
    if (!a.ok()) {
      if (problems.size() < kMaxReportedProblems) problems.push_back(a.status().message());
      continue;
    }
    out.push_back(std::move(a).value());
  }
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
    return Status::InvalidArgument(msg);
  }
  return out;
}

// What an import would do: which records are new, which change, which not.
struct ImportPlan {
  std::vector<std::pair<Agreement, const char*>> writes;  // with revision set
  Json added = Json::array(), changed = Json::array();
  size_t unchanged = 0;

  Json Report() const { return Json{{"added", added}, {"changed", changed}, {"unchanged", unchanged}}; }
};

Result<ImportPlan> PlanImport(const store::Reader& r, const std::vector<Agreement>& incoming) {
  ImportPlan plan;
  for (const auto& in : incoming) {
    NB_ASSIGN_OR_RETURN(auto cur, store::LoadAgreement(r, in.id));
    Agreement next = in;
    next.retired = false;
    if (cur && !cur->retired && cur->SameContent(next)) {
      ++plan.unchanged;
      continue;
    }
    next.revision = cur ? cur->revision + 1 : 1;
    (cur ? plan.changed : plan.added).push_back(in.id);
    plan.writes.emplace_back(std::move(next), cur ? "changed" : "added");
  }
  return plan;
}

// Applies a set of agreements as one dataset revision (seed or import).
Result<Json> ApplyAgreements(store::WriteContext& w, const JobsConfig& jobs,
                             const std::vector<Agreement>& incoming, const char* change, int64_t actor, const std::string& actor_name,
                             const std::string& reason) {
  NB_ASSIGN_OR_RETURN(ImportPlan plan, PlanImport(w, incoming));
  Json report = plan.Report();
  report["dry_run"] = false;
  if (plan.writes.empty()) {
    NB_ASSIGN_OR_RETURN(int64_t rev, store::DatasetRevision(w));
    report["dataset_revision"] = rev;
    return report;
  }
  NB_ASSIGN_OR_RETURN(int64_t ds, store::NextDatasetRevision(w));
  Json changes = Json::array();
  for (const auto& [a, what] : plan.writes) {
    store::WriteAgreementVersion(w, a, ds,
                                 Json{{"change", change},
                                      {"proposal", nullptr},
                                      {"actor", actor},
                                      {"actor_name", actor_name},
                                      {"reason", reason}});
    changes.push_back({{"agreement", a.id}, {"agreement_revision", a.revision}, {"change", what}});
  }
  store::SaveDatasetRevision(w, ds,
                             Json{{"revision", ds},
                                  {"at", w.Now()},
                                  {"actor", actor},
                                  {"actor_name", actor_name},
                                  {"proposal", nullptr},
                                  {"reason", reason},
                                  {"changes", changes}});
  domain::Event e;
  e.type = std::string("dataset.") + change;
  e.actor = actor;
  e.subjects["dataset_revision"] = std::to_string(ds);
  e.payload = domain::Dump(Json{{"dataset_revision", ds},
                                {"added", plan.added.size()},
                                {"changed", plan.changed.size()},
                                {"reason", reason}});
  w.AppendEvent(std::move(e));
  QueueDatasetJobs(w, jobs, ds);
  report["dataset_revision"] = ds;
  return report;
}

// A CSV carries presence, not evidence: keep the evidence and the fields the
// layout has no column for, so a round trip through a spreadsheet loses nothing.
Status KeepWhatCsvCannotCarry(const store::Reader& r, std::vector<Agreement>& list) {
  for (auto& a : list) {
    NB_ASSIGN_OR_RETURN(auto cur, store::LoadAgreement(r, a.id));
    if (!cur) continue;
    for (auto& [element, coding] : a.codings)
      if (auto it = cur->codings.find(element); it != cur->codings.end()) coding = it->second;
    if (a.parties.empty()) a.parties = cur->parties;
    a.metadata_sources = cur->metadata_sources;
    a.bpf_inclusion.years = cur->bpf_inclusion.years;
    a.bpf_inclusion.source = cur->bpf_inclusion.source;
    a.coding_status = cur->coding_status;
    a.notes = cur->notes;
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Agreement>> Importer::Parse(ImportFormat format, const std::string& body) const {
  auto cb = codebook_.Get();
  if (!cb) return Status::Unavailable("no codebook is loaded yet");
  std::vector<Agreement> list;
  if (format == ImportFormat::kCsv) {
    NB_ASSIGN_OR_RETURN(list, domain::AgreementsFromCsv(body, *cb));
    if (list.size() > config_.max_import_agreements)
      return Status::TooLarge("more than " + std::to_string(config_.max_import_agreements) + " rows");
  } else {
    NB_ASSIGN_OR_RETURN(Json doc, domain::ParseJson(body));
    NB_ASSIGN_OR_RETURN(list, AgreementsFromJsonDoc(doc, config_.max_import_agreements));
  }
  std::vector<std::string> problems;
  std::set<std::string> seen;
  for (const auto& a : list) {
    if (!seen.insert(a.id).second) problems.push_back(a.id + ": appears twice in the import");
    if (auto s = domain::ValidateAgreement(a, *cb, config_.limits); !s.ok())
      problems.push_back(a.id + ": " + s.message());
    if (problems.size() >= kMaxReportedProblems) break;
  }
  if (!problems.empty()) {
    std::string msg = "the import was refused, nothing changed: ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    return Status::InvalidArgument(msg);
  }
  return list;
}

void Importer::Import(const domain::User& actor, ImportFormat format, std::string body, bool dry_run,
                      Done<Json> done) {
  if (auto s = RequireRole(actor, domain::Role::kAdmin, "importing"); !s.ok()) return done(s);
  auto parsed = Parse(format, body);
  if (!parsed.ok()) return done(parsed.status());
  auto list = std::make_shared<std::vector<Agreement>>(std::move(parsed).value());
  const bool from_csv = format == ImportFormat::kCsv;
  if (dry_run) {
    // Planned against committed state; nothing is written.
    if (from_csv) {
      if (auto st = KeepWhatCsvCannotCarry(store_, *list); !st.ok()) return done(st);
    }
    auto plan = PlanImport(store_, *list);
    if (!plan.ok()) return done(plan.status());
    Json report = plan->Report();
    report["dry_run"] = true;
    report["dataset_revision"] = nullptr;
    return done(std::move(report));
  }
  SubmitFor<Json>(store_, [this, list, actor, from_csv](store::WriteContext& w) -> Result<Json> {
    // Inside the mutation, so a merge that lands meanwhile is not overwritten.
    if (from_csv) NB_RETURN_IF_ERROR(KeepWhatCsvCannotCarry(w, *list));
    return ApplyAgreements(w, config_.jobs, *list, "imported", actor.id, actor.name, "import by " + actor.name);
  }, std::move(done));
}

Status LoadCodebookIntoCache(const store::Store& store, CodebookCache& cache) {
  NB_ASSIGN_OR_RETURN(auto cb, store::LoadCodebook(store));
  if (cb) cache.Set(std::move(*cb));
  return Status::Ok();
}

Result<bool> SeedIfEmpty(store::Store& store, CodebookCache& cache, const std::string& codebook_json,
                         const std::string& agreements_json, const ServiceConfig& config) {
  NB_ASSIGN_OR_RETURN(auto existing, store::LoadCodebook(store));
  if (existing) {
    cache.Set(std::move(*existing));
    return false;
  }
  NB_ASSIGN_OR_RETURN(Json cbj, domain::ParseJson(codebook_json));
  NB_ASSIGN_OR_RETURN(domain::Codebook cb, domain::CodebookFromJson(cbj));
  NB_ASSIGN_OR_RETURN(Json doc, domain::ParseJson(agreements_json));
  NB_ASSIGN_OR_RETURN(auto list, AgreementsFromJsonDoc(doc, config.max_import_agreements));
  for (const auto& a : list) {
    if (auto s = domain::ValidateAgreement(a, cb, config.limits); !s.ok())
      return Status::Internal("seed agreement " + a.id + " is invalid: " + s.message());
  }
  Status s = store.Commit([&](store::WriteContext& w) -> Status {
    store::SaveCodebook(w, cb);
    return ApplyAgreements(w, config.jobs, list, "seeded", 0, "seed",
                           "seed data (data/seed: codebook " + cb.id + " v" +
                               std::to_string(cb.version) + ", agreements.json)")
        .status();
  });
  NB_RETURN_IF_ERROR(s);
  cache.Set(std::move(cb));
  return true;
}

}  // namespace normbase::service
