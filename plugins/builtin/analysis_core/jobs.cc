#include "jobs.h"

#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "cooccurrence.h"
#include "counts.h"
#include "frequency.h"
#include "intercoder.h"
#include "trend.h"

namespace normbase::analysis {

namespace {

// Element frequency keeps only the overall counts as its state.
struct FrequencyState {
  Counts counts;
  explicit FrequencyState(const CodebookIndex& cb = {}) : counts(cb) {}
  void Apply(const Row& row, const CodebookIndex& cb, int sign) { counts.Apply(row, cb, sign); }
  Json ToJson(const CodebookIndex& cb) const {
    return {{"codebook", cb.Tag()}, {"counts", counts.ToJson(cb)}};
  }
  static FrequencyState FromJson(const Json& j, const CodebookIndex& cb) {
    CheckStateTag(j, cb, "previous.result.state");
    FrequencyState s(cb);
    s.counts = Counts::FromJson(Member(j, "counts", "previous.result.state"), cb,
                                "previous.result.state.counts");
    return s;
  }
};

bool NonNegative(const Counts& c) {
  if (c.total < 0 || c.coded < 0 || c.coded > c.total) return false;
  for (int64_t v : c.elements)
    if (v < 0 || v > c.coded) return false;
  for (int64_t v : c.categories)
    if (v < 0 || v > c.coded) return false;
  return true;
}
bool NonNegative(const FrequencyState& s) { return NonNegative(s.counts); }
bool NonNegative(const TrendState& s) {
  for (const auto& [year, c] : s.by_year)
    if (!NonNegative(c)) return false;
  return NonNegative(s.undated);
}
bool NonNegative(const CooccurrenceState& s) {
  for (int64_t v : s.pairs.pairs)
    if (v < 0) return false;
  return NonNegative(s.counts);
}

Json ConfigOf(const Json& input) {
  const Json* config = OptionalMember(input, "config");
  if (config == nullptr) return Json::object();
  if (!config->is_object()) throw InputError("config: expected an object");
  return *config;
}

struct DatasetInput {
  CodebookIndex cb;
  const JobHooks* hooks = nullptr;
  int64_t revision = 0;
  const Json* agreements = nullptr;  // may be absent on the incremental path
  const Json* previous_state = nullptr;
  int64_t previous_revision = 0;
  const Json* changes = nullptr;
  Json config;
};

int64_t Revision(const Json& holder, const std::string& where) {
  const Json& r = Member(holder, "revision", where);
  if (!r.is_number_integer() || r.get<int64_t>() < 0)
    throw InputError(where + ".revision: expected an integer >= 0");
  return r.get<int64_t>();
}

DatasetInput ParseDatasetInput(const Json& input, const char* scope) {
  if (!input.is_object()) throw InputError("job input: expected an object");
  DatasetInput in;
  if (const Json* s = OptionalMember(input, "scope"); s && *s != scope)
    throw InputError(std::string("scope: this plugin runs with scope \"") + scope + "\", not " +
                     s->dump());
  in.cb = CodebookIndex::FromJson(Member(input, "codebook", "input"));
  in.config = ConfigOf(input);
  const Json& dataset = Member(input, "dataset", "input");
  in.revision = Revision(dataset, "dataset");
  in.agreements = OptionalMember(dataset, "agreements");
  if (in.agreements && !in.agreements->is_array())
    throw InputError("dataset.agreements: expected an array");
  const Json* previous = OptionalMember(input, "previous");
  in.changes = OptionalMember(input, "changes");
  if ((previous == nullptr) != (in.changes == nullptr))
    throw InputError(
        "previous and changes come together: both for an incremental update, neither for a full "
        "one");
  if (previous != nullptr) {
    in.previous_revision = Revision(*previous, "previous");
    if (in.previous_revision >= in.revision)
      throw InputError("previous.revision " + std::to_string(in.previous_revision) +
                       " is not before dataset.revision " + std::to_string(in.revision));
    const Json& result = Member(*previous, "result", "previous");
    in.previous_state = OptionalMember(result, "state");
    if (in.previous_state == nullptr && in.agreements == nullptr)
      throw InputError(
          "previous.result.state is missing and dataset.agreements is absent: nothing to compute "
          "from");
  }
  if (in.agreements == nullptr && previous == nullptr)
    throw InputError(
        "dataset.agreements is required (or previous + changes for an incremental update)");
  return in;
}

template <class State>
void ApplyChanges(State* state, const std::vector<Change>& changes, const CodebookIndex& cb) {
  for (const Change& c : changes) {
    if (c.before) state->Apply(*c.before, cb, -1);
    if (c.after) state->Apply(*c.after, cb, +1);
  }
  if (!NonNegative(*state))
    throw InputError(
        "changes do not match previous.result.state (a count would become impossible)");
}

// Builds the state incrementally when possible, else from the records.
template <class State>
State BuildState(const DatasetInput& in, Json* computation, std::vector<Row>* rows,
                 bool* have_rows) {
  if (in.previous_state != nullptr) {
    try {
      State state = State::FromJson(*in.previous_state, in.cb);
      const std::vector<Change> changes = ChangesFromJson(*in.changes, in.cb);
      ApplyChanges(&state, changes, in.cb);
      *computation = {{"mode", "incremental"},
                      {"from_revision", in.previous_revision},
                      {"changes", changes.size()}};
      return state;
    } catch (const InputError& e) {
      if (in.agreements == nullptr) throw;
      (*computation)["fallback"] = e.what();  // say why the full path ran
    }
  }
  *rows = RowsFromRecords(*in.agreements, in.cb, in.hooks);
  *have_rows = true;
  State state(in.cb);
  for (const Row& row : *rows) state.Apply(row, in.cb, +1);
  (*computation)["mode"] = "full";
  return state;
}

Json Wrap(const char* name, const DatasetInput& in, Json doc, Json state, Json computation) {
  Json out = {{"analysis", name}, {"dataset_revision", in.revision}};
  for (auto& [key, value] : doc.items()) out[key] = std::move(value);
  out["computation"] = std::move(computation);
  out["state"] = std::move(state);
  return out;
}

}  // namespace

Json RunFrequencyJob(const Json& input, const JobHooks* hooks) {
  DatasetInput in = ParseDatasetInput(input, "dataset");
  in.hooks = hooks;
  const FrequencyConfig config = FrequencyConfig::FromJson(in.config);
  Json computation = Json::object();
  std::vector<Row> rows;
  bool have_rows = false;
  const auto state = BuildState<FrequencyState>(in, &computation, &rows, &have_rows);
  return Wrap("element-frequency", in, RenderFrequency(state.counts, in.cb, config),
              state.ToJson(in.cb), computation);
}

Json RunTrendJob(const Json& input, const JobHooks* hooks) {
  DatasetInput in = ParseDatasetInput(input, "dataset");
  in.hooks = hooks;
  const TrendConfig config = TrendConfig::FromJson(in.config);
  Json computation = Json::object();
  std::vector<Row> rows;
  bool have_rows = false;
  const auto state = BuildState<TrendState>(in, &computation, &rows, &have_rows);
  return Wrap("trend", in, RenderTrend(state, in.cb, config), state.ToJson(in.cb), computation);
}

Json RunCooccurrenceJob(const Json& input, const JobHooks* hooks) {
  DatasetInput in = ParseDatasetInput(input, "dataset");
  in.hooks = hooks;
  const CooccurrenceConfig config = CooccurrenceConfig::FromJson(in.config);
  Json computation = Json::object();
  std::vector<Row> rows;
  bool have_rows = false;
  const auto state = BuildState<CooccurrenceState>(in, &computation, &rows, &have_rows);
  // Neighbours need every record; they are a scan, not a sufficient
  // statistic, so the records are read only when neighbours are wanted.
  const bool want_nearest =
      !config.nearest_to.empty() || state.counts.coded <= config.nearest_all_max;
  if (!have_rows && want_nearest && in.agreements != nullptr) {
    rows = RowsFromRecords(*in.agreements, in.cb, in.hooks);
    have_rows = true;
  }
  return Wrap("co-occurrence", in,
              RenderCooccurrence(state, in.cb, config, have_rows ? &rows : nullptr),
              state.ToJson(in.cb), computation);
}

Json RunInterCoderJob(const Json& input, const JobHooks* hooks) {
  if (!input.is_object()) throw InputError("job input: expected an object");
  const CodebookIndex cb = CodebookIndex::FromJson(Member(input, "codebook", "input"));
  const Json& dataset = Member(input, "dataset", "input");
  const int64_t revision = Revision(dataset, "dataset");
  const std::vector<CoderCoding> codings =
      CoderCodingsFromJson(Member(input, "codings", "input"), cb);
  int64_t coded = 0, total = 0;
  if (const Json* agreements = OptionalMember(dataset, "agreements")) {
    for (const Row& row : RowsFromRecords(*agreements, cb, hooks)) ++total, coded += row.coded;
  } else {
    // Without the records, coverage is over the agreements the codings name.
    std::set<std::string> ids;
    for (const CoderCoding& c : codings) ids.insert(c.agreement_id);
    total = coded = static_cast<int64_t>(ids.size());
  }
  Json out = {{"analysis", "inter-coder"}, {"dataset_revision", revision}};
  // Cheap to recompute: the cost is in the (few) multiply coded agreements.
  Json doc = RenderInterCoder(codings, cb, coded, total);
  for (auto& [key, value] : doc.items()) out[key] = std::move(value);
  out["computation"] = {{"mode", "full"}};
  return out;
}

// ---- impact ---------------------------------------------------------------

namespace {

std::map<std::string, const Json*> ByKey(const Json& list, const char* key) {
  std::map<std::string, const Json*> out;
  for (const Json& item : list) out[item[key].get<std::string>()] = &item;
  return out;
}

bool Moved(const Json& a, const Json& b, double min_move) {
  if (a.is_null() || b.is_null()) return a.is_null() != b.is_null();
  return std::fabs(a.get<double>() - b.get<double>()) > min_move;
}

// Findings with the same id whose named elements/categories/pairs differ.
Json FlippedFindings(const Json& before, const Json& after) {
  std::map<std::string, Json> b, a;
  for (const Json& f : before) b[f["id"].get<std::string>()] = f;
  for (const Json& f : after) a[f["id"].get<std::string>()] = f;
  std::set<std::string> ids;
  for (const auto& [id, f] : b) ids.insert(id);
  for (const auto& [id, f] : a) ids.insert(id);
  Json out = Json::array();
  for (const std::string& id : ids) {
    const Json fb = b.count(id) ? b[id] : Json(nullptr), fa = a.count(id) ? a[id] : Json(nullptr);
    auto subject = [](const Json& f) {
      if (f.is_null()) return Json(nullptr);
      Json s = Json::object();
      for (const char* key : {"elements", "categories", "pairs", "same_category"})
        if (f.contains(key)) s[key] = f[key];
      return s;
    };
    if (subject(fb) == subject(fa)) continue;
    out.push_back({{"id", id},
                   {"before", fb.is_null() ? Json(nullptr) : fb["text"]},
                   {"after", fa.is_null() ? Json(nullptr) : fa["text"]},
                   {"subject_before", subject(fb)},
                   {"subject_after", subject(fa)}});
  }
  return out;
}

Json DiffRanked(const Json& before, const Json& after, const char* key, double min_move,
                Json* ranks) {
  Json shares = Json::array();
  const auto b = ByKey(before, key);
  for (const Json& item : after) {
    const std::string id = item[key].get<std::string>();
    const Json& old = *b.at(id);
    if (old["rank"] != item["rank"])
      ranks->push_back({{key, id}, {"before", old["rank"]}, {"after", item["rank"]}});
    if (Moved(old["share"], item["share"], min_move))
      shares.push_back({{key, id},
                        {"before", old["share"]},
                        {"after", item["share"]},
                        {"count_before", old["count"]},
                        {"count_after", item["count"]}});
  }
  return shares;
}

Json DiffFrequency(const Json& before, const Json& after, double min_move) {
  Json ranks = Json::array(), category_ranks = Json::array();
  Json shares = DiffRanked(before["elements"], after["elements"], "element", min_move, &ranks);
  Json category_shares =
      DiffRanked(before["categories"], after["categories"], "category", min_move, &category_ranks);
  return {{"ranks", ranks},
          {"shares", shares},
          {"category_ranks", category_ranks},
          {"category_shares", category_shares},
          {"findings", FlippedFindings(before["findings"], after["findings"])}};
}

Json DiffTrend(const Json& before, const Json& after, double min_move) {
  Json directions = Json::array(), slopes = Json::array();
  for (const char* list : {"elements", "categories"}) {
    const char* key = std::string(list) == "elements" ? "element" : "category";
    const auto b = ByKey(before[list], key);
    for (const Json& item : after[list]) {
      const std::string id = item[key].get<std::string>();
      const Json& old = (*b.at(id))["trend"];
      const Json& now = item["trend"];
      if (old["direction"] != now["direction"])
        directions.push_back(
            {{key, id}, {"before", old["direction"]}, {"after", now["direction"]}});
      if (Moved(old["slope"], now["slope"], min_move / 10))
        slopes.push_back({{key, id}, {"before", old["slope"]}, {"after", now["slope"]}});
    }
  }
  return {{"directions", directions},
          {"slopes", slopes},
          {"findings", FlippedFindings(before["findings"], after["findings"])}};
}

Json DiffCooccurrence(const CooccurrenceState& before, const CooccurrenceState& after,
                      const CodebookIndex& cb, const Json& findings_before,
                      const Json& findings_after) {
  Json pairs = Json::array();
  for (size_t a = 0; a < cb.elements(); ++a)
    for (size_t b = a + 1; b < cb.elements(); ++b) {
      const int64_t n0 = before.pairs.At(static_cast<int>(a), static_cast<int>(b)),
                    n1 = after.pairs.At(static_cast<int>(a), static_cast<int>(b));
      if (n0 != n1)
        pairs.push_back(
            {{"a", cb.element_ids[a]}, {"b", cb.element_ids[b]}, {"before", n0}, {"after", n1}});
    }
  return {{"pairs", pairs}, {"findings", FlippedFindings(findings_before, findings_after)}};
}

// The baseline state of one analysis: from its stored result when usable.
template <class State>
State Baseline(const Json* baseline, const char* name, const CodebookIndex& cb,
               const std::function<const std::vector<Row>&()>& rows, Json* how) {
  if (baseline != nullptr) {
    if (const Json* result = OptionalMember(*baseline, name))
      if (const Json* state = OptionalMember(*result, "state")) {
        try {
          State s = State::FromJson(*state, cb);
          (*how)[name] = "baseline state";
          return s;
        } catch (const InputError& e) {
          (*how)[name] = std::string("recomputed: ") + e.what();
        }
      }
  }
  if (!how->contains(name)) (*how)[name] = "recomputed";
  State s(cb);
  for (const Row& row : rows()) s.Apply(row, cb, +1);
  return s;
}

}  // namespace

Json RunImpactJob(const Json& input, const JobHooks* hooks) {
  if (!input.is_object()) throw InputError("job input: expected an object");
  if (const Json* s = OptionalMember(input, "scope"); s && *s != "proposal")
    throw InputError("scope: impact runs with scope \"proposal\", not " + s->dump());
  const CodebookIndex cb = CodebookIndex::FromJson(Member(input, "codebook", "input"));
  const Json config = ConfigOf(input);
  const Json& dataset = Member(input, "dataset", "input");
  const int64_t revision = Revision(dataset, "dataset");
  const Json* agreements = OptionalMember(dataset, "agreements");
  if (agreements && !agreements->is_array())
    throw InputError("dataset.agreements: expected an array");
  const Json& proposal = Member(input, "proposal", "input");
  const Json& kind_json = Member(proposal, "kind", "proposal");
  const std::string kind = kind_json.is_string() ? kind_json.get<std::string>() : "";
  if (kind != "add" && kind != "recode" && kind != "amend" && kind != "retire")
    throw InputError("proposal.kind: expected add, recode, amend or retire");
  const Json* baseline = OptionalMember(input, "baseline");
  if (baseline && !baseline->is_object())
    throw InputError("baseline: expected an object of analysis name -> result");
  double min_move = 0.0;
  if (const Json* m = OptionalMember(config, "min_share_move")) {
    if (!m->is_number() || m->get<double>() < 0)
      throw InputError("config.min_share_move: expected a number >= 0");
    min_move = m->get<double>();
  }
  auto sub_config = [&](const char* name) {
    const Json* c = OptionalMember(config, name);
    return c ? *c : Json::object();
  };

  std::vector<Row> rows;
  bool have_rows = false;
  auto all_rows = [&]() -> const std::vector<Row>& {
    if (!have_rows) {
      if (agreements == nullptr)
        throw InputError("dataset.agreements is required when the baseline has no usable state");
      rows = RowsFromRecords(*agreements, cb, hooks);
      have_rows = true;
    }
    return rows;
  };

  // The change the proposal would make: before = the merged record, after = the proposed one.
  Change change;
  std::string agreement_id;
  if (const Json* id = OptionalMember(proposal, "agreement_id"); id && id->is_string())
    agreement_id = *id;
  const Json* record = OptionalMember(proposal, "record");
  if (kind != "retire") {
    if (record == nullptr) throw InputError("proposal.record: required for " + kind);
    bool retired = false;
    change.after = RowFromRecord(*record, cb, &retired);
    if (agreement_id.empty()) agreement_id = change.after->id;
  }
  if (kind != "add") {
    if (const Json* current = OptionalMember(input, "current")) {
      change.before = RowFromRecord(*current, cb);
    } else {
      if (agreements == nullptr)
        throw InputError("current or dataset.agreements is required to find the agreement");
      for (const Json& r : *agreements)
        if (r.is_object() && r.value("id", "") == agreement_id && !r.value("retired", false))
          change.before = RowFromRecord(r, cb);
    }
    if (!change.before)
      throw InputError("proposal.agreement_id: '" + agreement_id + "' is not in the dataset");
  }

  Json how = Json::object();
  const FrequencyConfig fc = FrequencyConfig::FromJson(sub_config("element-frequency"));
  const TrendConfig tc = TrendConfig::FromJson(sub_config("trend"));
  const CooccurrenceConfig cc = CooccurrenceConfig::FromJson(sub_config("co-occurrence"));
  auto apply = [&](auto state) {
    if (change.before) state.Apply(*change.before, cb, -1);
    if (change.after) state.Apply(*change.after, cb, +1);
    return state;
  };
  const auto freq_before =
      Baseline<FrequencyState>(baseline, "element-frequency", cb, all_rows, &how);
  const auto trend_before = Baseline<TrendState>(baseline, "trend", cb, all_rows, &how);
  const auto cooc_before =
      Baseline<CooccurrenceState>(baseline, "co-occurrence", cb, all_rows, &how);
  const auto freq_after = apply(freq_before);
  if (!NonNegative(freq_after))
    throw InputError("the baseline does not contain the agreement the proposal changes");
  const Json f0 = RenderFrequency(freq_before.counts, cb, fc),
             f1 = RenderFrequency(freq_after.counts, cb, fc);
  const Json t0 = RenderTrend(trend_before, cb, tc, false),
             t1 = RenderTrend(apply(trend_before), cb, tc, false);
  const auto cooc_after = apply(cooc_before);
  const Json c0 = RenderCooccurrence(cooc_before, cb, cc, nullptr, false),
             c1 = RenderCooccurrence(cooc_after, cb, cc, nullptr, false);

  Json analyses = {{"element-frequency", DiffFrequency(f0, f1, min_move)},
                   {"trend", DiffTrend(t0, t1, min_move)},
                   {"co-occurrence",
                    DiffCooccurrence(cooc_before, cooc_after, cb, c0["findings"], c1["findings"])}};
  if (change.after && have_rows) {
    // Where the proposed coding would sit among the others (only when the
    // records were read anyway: it is a scan of the dataset).
    analyses["co-occurrence"]["nearest_after"] = Nearest(rows, *change.after, cc.nearest_k, cb);
  }
  size_t ranks = 0, shares = 0, flips = 0, directions = 0;
  for (const auto& [name, diff] : analyses.items()) {
    if (diff.contains("ranks")) ranks += diff["ranks"].size();
    if (diff.contains("shares")) shares += diff["shares"].size();
    if (diff.contains("directions")) directions += diff["directions"].size();
    flips += diff["findings"].size();
  }
  Json out = {
      {"analysis", "impact"},
      {"dataset_revision", revision},
      {"proposal", proposal.value("id", Json(nullptr))},
      {"proposal_kind", kind},
      {"agreement_id", agreement_id},
      {"coverage", {{"before", f0["coverage"]}, {"after", f1["coverage"]}}},
      {"analyses", analyses},
      {"changes",
       ranks + shares + flips + directions + analyses["co-occurrence"]["pairs"].size() > 0},
      {"summary", "would change " + std::to_string(ranks) + " rank(s), move " +
                      std::to_string(shares) + " share(s), change " + std::to_string(directions) +
                      " trend direction(s), flip " + std::to_string(flips) + " finding(s)"},
      {"computation", how}};
  return out;
}

}  // namespace normbase::analysis
