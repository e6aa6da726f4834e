#include "service/catalog.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/csv.h"
#include "store/records.h"

namespace normbase::service {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool Matches(const domain::Agreement& a, const AgreementQuery& q, const std::string& needle) {
  if (!q.kind.empty() && a.kind != q.kind) return false;
  if (!q.element.empty() && !a.codings.count(q.element)) return false;
  if (q.year_from && (!a.year || *a.year < *q.year_from)) return false;
  if (q.year_to && (!a.year || *a.year > *q.year_to)) return false;
  if (!needle.empty()) {
    const std::string hay = Lower(a.id + "\n" + a.title + "\n" + a.parties);
    if (hay.find(needle) == std::string::npos) return false;
  }
  return true;
}

constexpr size_t kMaxEventsPage = 1000;

// Length-prefixed, so that no two different values compose the same key.
void AppendField(std::string& key, const std::string& v) {
  key += std::to_string(v.size());
  key += ':';
  key += v;
}

void AppendField(std::string& key, std::optional<int> v) {
  AppendField(key, v ? std::to_string(*v) : std::string());
}

// What a list answer depends on besides the revision, normalised as the
// answer sees it: "limit=0" and no limit, or "q=Paris" and "q=paris", share
// an entry; parameters the route ignores never reach the key.
std::string ListKey(const AgreementQuery& q, size_t page) {
  std::string key = "list ";
  AppendField(key, q.kind);
  AppendField(key, q.element);
  AppendField(key, q.year_from);
  AppendField(key, q.year_to);
  AppendField(key, Lower(q.q));
  AppendField(key, q.cursor);
  AppendField(key, std::to_string(page));
  key += q.include_retired ? 'R' : '-';
  return key;
}

}  // namespace

Result<Json> Catalog::Codebook() const {
  auto cb = codebook_.Get();
  if (!cb) return Status::Unavailable("no codebook is loaded yet");
  return domain::ToJson(*cb);
}

Status Catalog::ForEachAgreementAt(std::optional<int64_t> revision, const std::string& after,
                                   const std::function<bool(domain::Agreement&&)>& fn) const {
  if (!revision) return store::ForEachAgreement(store_, after, fn);
  // Past revisions: every id that exists now (retired ones too) as it was then.
  Status err;
  NB_RETURN_IF_ERROR(store::ForEachAgreement(store_, after, [&](domain::Agreement&& now) {
    auto then = store::LoadAgreementAt(store_, now.id, *revision);
    if (!then.ok()) {
      err = then.status();
      return false;
    }
    if (!*then) return true;
    return fn(std::move(**then));
  }));
  return err;
}

Result<Json> Catalog::ListAgreements(const AgreementQuery& q) const {
  NB_ASSIGN_OR_RETURN(int64_t current, store::DatasetRevision(store_));
  if (q.revision && (*q.revision < 1 || *q.revision > current))
    return Status::NotFound("dataset revision " + std::to_string(*q.revision) +
                            " does not exist (revisions are 1.." + std::to_string(current) + ")");
  auto cb = codebook_.Get();
  if (!q.kind.empty() && cb && !cb->HasKind(q.kind))
    return Status::InvalidArgument("kind: '" + q.kind + "' is not an agreement kind of the codebook");
  if (!q.element.empty() && cb && !cb->HasElement(q.element))
    return Status::InvalidArgument("element: '" + q.element + "' is not an element of the codebook");
  const size_t limit = PageSize(config_, q.limit);
  const std::string needle = Lower(q.q);
  Json items = Json::array();
  std::string last;
  bool more = false;
  size_t total = 0, coded = 0;
  // One pass: the page, and the coverage of everything that matches (users
  // must always see how much of what they look at is coded).
  NB_RETURN_IF_ERROR(ForEachAgreementAt(q.revision, "", [&](domain::Agreement&& a) {
    if (a.retired && !q.include_retired) return true;
    if (!Matches(a, q, needle)) return true;
    ++total;
    if (a.IsCoded()) ++coded;
    if (!q.cursor.empty() && a.id <= q.cursor) return true;
    if (items.size() < limit) {
      last = a.id;
      items.push_back(domain::ToJson(a));
    } else {
      more = true;
    }
    return true;
  }));
  return Json{{"items", items},
              {"next_cursor", more ? Json(last) : Json(nullptr)},
              {"dataset_revision", q.revision.value_or(current)},
              {"coverage", {{"agreements", total}, {"coded", coded}, {"uncoded", total - coded}}}};
}

Result<Json> Catalog::GetAgreement(const std::string& id, std::optional<int64_t> revision) const {
  std::optional<domain::Agreement> a;
  if (revision) {
    // As in ListAgreements: a revision that does not exist yet is not "now".
    NB_ASSIGN_OR_RETURN(int64_t current, store::DatasetRevision(store_));
    if (*revision < 1 || *revision > current)
      return Status::NotFound("dataset revision " + std::to_string(*revision) +
                              " does not exist (revisions are 1.." + std::to_string(current) + ")");
    NB_ASSIGN_OR_RETURN(a, store::LoadAgreementAt(store_, id, *revision));
    if (!a)
      return Status::NotFound("agreement '" + id + "' did not exist at dataset revision " +
                              std::to_string(*revision));
  } else {
    NB_ASSIGN_OR_RETURN(a, store::LoadAgreement(store_, id));
    if (!a) return Status::NotFound("agreement '" + id + "' does not exist");
  }
  return domain::ToJson(*a);
}

Result<AnswerPtr> Catalog::CachedAnswer(std::optional<int64_t> revision, const std::string& key,
                                        const std::function<Result<Json>()>& compute) const {
  if (!answers_.enabled()) {
    NB_ASSIGN_OR_RETURN(Json j, compute());
    return MakeAnswer(domain::Dump(j));
  }
  NB_ASSIGN_OR_RETURN(int64_t head, store::DatasetRevision(store_));
  // A revision past the head is refused now and valid after the next merge:
  // neither looked up nor kept (compute() refuses it).
  const bool cacheable = !revision || (*revision >= 1 && *revision <= head);
  const int64_t at = revision.value_or(head);
  if (cacheable)
    if (auto hit = answers_.Find(at, !revision, key)) return hit;
  NB_ASSIGN_OR_RETURN(Json j, compute());
  AnswerPtr answer = MakeAnswer(domain::Dump(j));
  if (!cacheable) return answer;
  if (revision) {
    answers_.Insert(at, false, key, answer);  // a past revision's answer never changes
    return answer;
  }
  // Every merge and import advances the revision in the same atomic batch as
  // its data: the same revision before and after means the answer was read
  // between two commits, i.e. it is exactly revision `head`'s.
  NB_ASSIGN_OR_RETURN(int64_t after, store::DatasetRevision(store_));
  if (after == head) answers_.Insert(head, true, key, answer);
  return answer;
}

Result<AnswerPtr> Catalog::ListAgreementsAnswer(const AgreementQuery& q) const {
  return CachedAnswer(q.revision, ListKey(q, PageSize(config_, q.limit)),
                      [&] { return ListAgreements(q); });
}

Result<AnswerPtr> Catalog::AgreementAnswer(const std::string& id,
                                           std::optional<int64_t> revision) const {
  return CachedAnswer(revision, "agreement " + id, [&] { return GetAgreement(id, revision); });
}

Result<Json> Catalog::History(const std::string& id) const {
  NB_ASSIGN_OR_RETURN(auto entries, store::LoadHistory(store_, id));
  if (entries.empty()) return Status::NotFound("agreement '" + id + "' does not exist");
  // Provenance per element: walk the versions and note who added, changed
  // or removed each coding, with the evidence given.
  Json provenance = Json::object();
  Json prev = Json::object();
  for (const auto& e : entries) {
    const Json& agreement = e["agreement"];
    const Json codings = agreement.is_null() ? Json::object() : agreement.value("codings", Json::object());
    auto note = [&](const std::string& element, const char* change, const Json& coding) {
      provenance[element].push_back({{"change", change},
                                     {"agreement_revision", e.value("agreement_revision", int64_t{0})},
                                     {"dataset_revision", e.value("dataset_revision", int64_t{0})},
                                     {"proposal", e.value("proposal", Json(nullptr))},
                                     {"actor_name", e.value("actor_name", Json(nullptr))},
                                     {"author_name", e.value("author_name", Json(nullptr))},
                                     {"at", e.value("at", int64_t{0})},  // ms: an int default truncates
                                     {"evidence", coding.is_null() ? Json(nullptr) : coding["evidence"]}});
    };
    for (auto it = codings.begin(); it != codings.end(); ++it) {
      if (!prev.contains(it.key()))
        note(it.key(), "added", *it);
      else if (prev[it.key()] != *it)
        note(it.key(), "changed", *it);
    }
    for (auto it = prev.begin(); it != prev.end(); ++it)
      if (!codings.contains(it.key())) note(it.key(), "removed", Json(nullptr));
    prev = codings;
  }
  Json versions = Json::array();
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) versions.push_back(*it);
  return Json{{"agreement_id", id}, {"versions", versions}, {"provenance", provenance}};
}

Result<Json> Catalog::Events(uint64_t since, std::optional<size_t> limit, bool include_private) const {
  const size_t n = std::min(limit.value_or(100) == 0 ? 100 : limit.value_or(100), kMaxEventsPage);
  Json items = Json::array();
  uint64_t scanned = since;
  // Read in pages until the page is full or the log ends; private events are skipped.
  while (items.size() < n) {
    NB_ASSIGN_OR_RETURN(auto events, store_.ReadEvents(scanned, n));
    for (const auto& e : events) {
      scanned = e.seq;
      if (domain::IsPrivateEventType(e.type) && !include_private) continue;
      items.push_back(domain::ToJson(e));
      if (items.size() == n) break;
    }
    if (events.size() < n) break;
  }
  return Json{{"items", items}, {"last_seq", store_.LastEventSeq()}, {"next_since", scanned}};
}

Result<Json> Catalog::DatasetRevisionInfo(int64_t revision) const {
  NB_ASSIGN_OR_RETURN(auto r, store::LoadDatasetRevision(store_, revision));
  if (!r) return Status::NotFound("dataset revision " + std::to_string(revision) + " does not exist");
  return *r;
}

Result<Json> Catalog::ExportJson() const {
  auto cb = codebook_.Get();
  if (!cb) return Status::Unavailable("no codebook is loaded yet");
  NB_ASSIGN_OR_RETURN(int64_t rev, store::DatasetRevision(store_));
  Json agreements = Json::array();
  size_t coded = 0, codings = 0, quotes = 0;
  NB_RETURN_IF_ERROR(store::ForEachAgreement(store_, "", [&](domain::Agreement&& a) {
    if (a.retired) return true;
    if (a.IsCoded()) ++coded;
    codings += a.codings.size();
    for (const auto& [k, c] : a.codings) quotes += c.evidence.size();
    agreements.push_back(domain::ToJson(a));
    return true;
  }));
  return Json{{"about", "Normbase dataset export. codings: {} means not coded, not 'contains no element'."},
              {"codebook", {{"id", cb->id}, {"version", cb->version}}},
              {"dataset_revision", rev},
              {"counts",
               {{"agreements", agreements.size()},
                {"coded_agreements", coded},
                {"codings", codings},
                {"evidence_quotes", quotes}}},
              {"agreements", agreements}};
}

Result<std::string> Catalog::ExportCsv() const {
  auto cb = codebook_.Get();
  if (!cb) return Status::Unavailable("no codebook is loaded yet");
  std::vector<domain::Agreement> all;
  NB_RETURN_IF_ERROR(store::ForEachAgreement(store_, "", [&](domain::Agreement&& a) {
    if (!a.retired) all.push_back(std::move(a));
    return true;
  }));
  return domain::ExportAgreementsCsv(all, *cb);
}

Result<Catalog::Counts> Catalog::CountsNow() const {
  NB_ASSIGN_OR_RETURN(int64_t rev, store::DatasetRevision(store_));
  {
    std::lock_guard lk(counts_mu_);
    if (counts_.revision == rev) return counts_;
  }
  Counts c;
  c.revision = rev;
  NB_RETURN_IF_ERROR(store::ForEachAgreement(store_, "", [&](domain::Agreement&& a) {
    if (a.retired) {
      ++c.retired;
      return true;
    }
    ++c.total;
    if (a.IsCoded()) ++c.coded;
    return true;
  }));
  // Agreements change only with the revision (CachedAnswer says why): the
  // same revision after the scan means the counts are exactly that revision's.
  NB_ASSIGN_OR_RETURN(int64_t after, store::DatasetRevision(store_));
  if (after == rev) {
    std::lock_guard lk(counts_mu_);
    if (rev > counts_.revision) counts_ = c;
  }
  return c;
}

Result<Json> Catalog::Summary() const {
  NB_ASSIGN_OR_RETURN(Counts c, CountsNow());
  return Json{{"dataset_revision", c.revision},
              {"agreements", c.total},
              {"coded_agreements", c.coded},
              {"retired_agreements", c.retired},
              {"last_event_seq", store_.LastEventSeq()}};
}

}  // namespace normbase::service
