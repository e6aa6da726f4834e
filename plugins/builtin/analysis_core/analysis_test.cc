// Known-answer tests of element frequency, trend and co-occurrence, of the
// incremental path (== full recomputation on randomised changes) and of impact.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "cooccurrence.h"
#include "datasets.h"
#include "frequency.h"
#include "jobs.h"
#include "trend.h"

namespace normbase::analysis {
namespace {

using testing::BpfDataset;
using testing::DatasetJob;
using testing::Record;

std::vector<std::string> Ids(const Json& list) { return list.get<std::vector<std::string>>(); }

const Json& Finding(const Json& doc, const std::string& id) {
  for (const Json& f : doc["findings"])
    if (f["id"] == id) return f;
  static const Json none;
  ADD_FAILURE() << "no finding " << id << " in " << doc["findings"].dump();
  return none;
}

bool HasFinding(const Json& doc, const std::string& id) {
  for (const Json& f : doc["findings"])
    if (f["id"] == id) return true;
  return false;
}

const Json& Item(const Json& list, const char* key, const std::string& id) {
  for (const Json& item : list)
    if (item[key] == id) return item;
  static const Json none;
  ADD_FAILURE() << "no " << key << " " << id;
  return none;
}

// ---- element frequency ---------------------------------------------------

TEST(ElementFrequency, StatesTheBpfFindings) {
  const Json doc = RunFrequencyJob(DatasetJob(BpfDataset()));
  EXPECT_EQ(doc["coverage"]["text"], "24 of 30 agreements coded");
  EXPECT_EQ(doc["analysis"], "element-frequency");
  EXPECT_EQ(doc["dataset_revision"], 1);
  EXPECT_EQ(Ids(doc["most_frequent"]),
            (std::vector<std::string>{"general-cooperation", "human-rights"}));
  const Json& least = Finding(doc, "least-frequent");
  auto least_ids = Ids(least["elements"]);
  std::sort(least_ids.begin(), least_ids.end());
  EXPECT_EQ(least_ids, (std::vector<std::string>{"no-harm-to-csirts", "non-proliferation"}));
  EXPECT_TRUE(least["same_category"].get<bool>());
  EXPECT_EQ(least["categories"], Json::array({"restraint"}));
  EXPECT_NE(least["text"].get<std::string>().find("all in the category Restraint"),
            std::string::npos)
      << least["text"];
  EXPECT_FALSE(least["tie"].get<bool>());
}

TEST(ElementFrequency, UncodedAgreementsAreLeftOutOfDenominators) {
  const Json doc = RunFrequencyJob(DatasetJob(BpfDataset()));
  const Json& gc = Item(doc["elements"], "element", "general-cooperation");
  EXPECT_EQ(gc["count"], 22);
  EXPECT_DOUBLE_EQ(gc["share"].get<double>(), 22.0 / 24.0);  // not 22/30
  EXPECT_EQ(gc["rank"], 1);
  EXPECT_EQ(Item(doc["elements"], "element", "human-rights")["rank"], 2);
  // Category share: agreements with at least one restraint element.
  const Json& restraint = Item(doc["categories"], "category", "restraint");
  EXPECT_EQ(restraint["elements"], 4);
  EXPECT_LE(restraint["count"].get<int>(), 24);
}

TEST(ElementFrequency, TiesShareARankAndWidenTheFinding) {
  Json agreements = Json::array();
  agreements.push_back(Record("a", 2015, {"human-rights", "general-cooperation", "ransomware"}));
  agreements.push_back(Record("b", 2016, {"human-rights", "general-cooperation", "ransomware"}));
  agreements.push_back(Record("c", 2017, {"human-rights", "attribution"}));
  const Json doc = RunFrequencyJob(DatasetJob(agreements));
  EXPECT_EQ(Item(doc["elements"], "element", "human-rights")["rank"], 1);
  EXPECT_EQ(Item(doc["elements"], "element", "general-cooperation")["rank"], 2);
  EXPECT_EQ(Item(doc["elements"], "element", "ransomware")["rank"], 2);
  EXPECT_EQ(Item(doc["elements"], "element", "attribution")["rank"], 4);
  const Json& most = Finding(doc, "most-frequent");
  EXPECT_TRUE(most["tie"].get<bool>());
  EXPECT_EQ(most["elements"].size(), 3u);
  // Every element with no coding ties for last place.
  const Json& least = Finding(doc, "least-frequent");
  EXPECT_TRUE(least["tie"].get<bool>());
  EXPECT_EQ(least["elements"].size(), 26u - 4u);
  EXPECT_FALSE(least["same_category"].get<bool>());
  // Without zeros: attribution (1) is last, general-cooperation and
  // ransomware (2) tie for the second-last place, so all three are named.
  const Json present = RunFrequencyJob(DatasetJob(agreements, 1, {{"least_includes_zero", false}}));
  EXPECT_EQ(Ids(present["least_frequent"]),
            (std::vector<std::string>{"attribution", "general-cooperation", "ransomware"}));
  const Json one =
      RunFrequencyJob(DatasetJob(agreements, 1, {{"least_includes_zero", false}, {"top_k", 1}}));
  EXPECT_EQ(Ids(one["least_frequent"]), (std::vector<std::string>{"attribution"}));
  EXPECT_EQ(Ids(one["most_frequent"]), (std::vector<std::string>{"human-rights"}));
}

TEST(ElementFrequency, NoCodedAgreementsStatesNothing) {
  Json agreements = Json::array({Record("a", 2015, {}), Record("b", 2016, {})});
  const Json doc = RunFrequencyJob(DatasetJob(agreements));
  EXPECT_EQ(doc["coverage"]["text"], "0 of 2 agreements coded");
  EXPECT_TRUE(doc["most_frequent"].empty());
  EXPECT_TRUE(doc["least_frequent"].empty());
  EXPECT_TRUE(Item(doc["elements"], "element", "human-rights")["share"].is_null());
  EXPECT_TRUE(HasFinding(doc, "no-coded-agreements"));
  const Json empty = RunFrequencyJob(DatasetJob(Json::array()));
  EXPECT_EQ(empty["coverage"]["text"], "0 of 0 agreements coded");
}

TEST(ElementFrequency, SeedCoverageMatchesTheSeedFile) {
  const Json seed = testing::SeedFile();
  const Json doc = RunFrequencyJob(DatasetJob(seed["agreements"]));
  EXPECT_EQ(doc["coverage"]["coded"], seed["counts"]["coded_agreements"]);
  EXPECT_EQ(doc["coverage"]["total"], seed["counts"]["agreements"]);
  int64_t codings = 0;
  for (const Json& e : doc["elements"]) codings += e["count"].get<int64_t>();
  EXPECT_EQ(codings, seed["counts"]["codings"]);
}

// ---- trend ----------------------------------------------------------------

TEST(Trend, FitSlopeMatchesTheTextbookValues) {
  // y = 0 0 1 1 on x = 1..4: slope 0.4, residuals .1 -.3 .3 -.1, SSR .2, SE sqrt(.2/2/5).
  const Slope s = FitSlope({1, 2, 3, 4}, {0, 0, 1, 1}, 2.0);
  ASSERT_TRUE(s.slope && s.std_error);
  EXPECT_NEAR(*s.slope, 0.4, 1e-12);
  EXPECT_NEAR(*s.std_error, std::sqrt(0.02), 1e-12);
  EXPECT_EQ(s.direction, "growing");  // t = 2.83
  EXPECT_EQ(FitSlope({1, 2, 3, 4}, {0, 0, 1, 1}, 3.0).direction, "no-clear-trend");
  EXPECT_EQ(FitSlope({1, 2, 3}, {0.5, 0.5, 0.5}, 2.0).direction, "flat");
  EXPECT_EQ(FitSlope({1, 2}, {0, 1}, 2.0).direction, "insufficient-data");
  EXPECT_FALSE(FitSlope({1}, {0}, 2.0).slope);
}

TEST(Trend, HumanRightsAndRansomwareGrow) {
  const Json doc = RunTrendJob(DatasetJob(BpfDataset()));
  EXPECT_EQ(doc["coverage"]["text"], "24 of 30 agreements coded");
  const Json& growing = Finding(doc, "growing");
  const auto ids = Ids(growing["elements"]);
  EXPECT_NE(std::find(ids.begin(), ids.end(), "human-rights"), ids.end()) << growing.dump();
  EXPECT_NE(std::find(ids.begin(), ids.end(), "ransomware"), ids.end()) << growing.dump();
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "general-cooperation"), ids.end());
  const Json& hr = Item(doc["elements"], "element", "human-rights");
  EXPECT_EQ(hr["trend"]["direction"], "growing");
  EXPECT_GT(hr["trend"]["slope"].get<double>(), 2 * hr["trend"]["std_error"].get<double>());
  EXPECT_EQ(hr["trend"]["years"], 12);
  // Shares by year use coded agreements only: 2012 has 2 coded and 2 uncoded agreements.
  const auto years = doc["years"].get<std::vector<int>>();
  const size_t i2012 = std::find(years.begin(), years.end(), 2012) - years.begin();
  EXPECT_EQ(doc["coded_by_year"][i2012], 2);
  EXPECT_EQ(doc["total_by_year"][i2012], 4);
  EXPECT_DOUBLE_EQ(hr["by_year"]["share"][i2012].get<double>(), 0.5);
  // Cumulative share at the last year is the overall share.
  EXPECT_DOUBLE_EQ(hr["cumulative"]["share"].back().get<double>(), 18.0 / 24.0);
  // Periods of 5 years from 1990: 2010-2014, 2015-2019, 2020-2024.
  ASSERT_EQ(doc["periods"].size(), 3u);
  EXPECT_EQ(doc["periods"][0]["id"], "2010-2014");
  EXPECT_EQ(doc["periods"][0]["coded"], 10);
  EXPECT_DOUBLE_EQ(hr["by_period"]["share"][2].get<double>(), 1.0);
}

TEST(Trend, SingleYearHasNoTrend) {
  Json agreements =
      Json::array({Record("a", 2018, {"human-rights"}), Record("b", 2018, {"ransomware"}),
                   Record("c", 2018, {"human-rights"})});
  const Json doc = RunTrendJob(DatasetJob(agreements));
  EXPECT_EQ(doc["years"], Json::array({2018}));
  for (const Json& e : doc["elements"]) EXPECT_EQ(e["trend"]["direction"], "insufficient-data");
  EXPECT_FALSE(HasFinding(doc, "growing"));
  EXPECT_TRUE(HasFinding(doc, "insufficient-years"));
  EXPECT_DOUBLE_EQ(
      Item(doc["elements"], "element", "human-rights")["by_year"]["share"][0].get<double>(),
      2.0 / 3);
}

TEST(Trend, UndatedAndUncodedAgreementsAreCountedButNotCharted) {
  Json agreements = Json::array({Record("a", std::nullopt, {"human-rights"}), Record("b", 2019, {}),
                                 Record("c", 2019, {"ransomware"})});
  const Json doc = RunTrendJob(DatasetJob(agreements));
  EXPECT_EQ(doc["coverage"]["text"], "2 of 3 agreements coded");
  EXPECT_EQ(doc["coverage"]["undated"], 1);
  EXPECT_DOUBLE_EQ(
      Item(doc["elements"], "element", "ransomware")["by_year"]["share"][0].get<double>(), 1.0);
}

// ---- co-occurrence ----------------------------------------------------------

TEST(Cooccurrence, CountsJaccardLiftAndNearest) {
  Json agreements =
      Json::array({Record("a", 2015, {"human-rights", "privacy-data-protection"}),
                   Record("b", 2016, {"human-rights", "privacy-data-protection", "ransomware"}),
                   Record("c", 2017, {"human-rights"}), Record("d", 2018, {"ransomware"}),
                   Record("e", 2018, {})});
  const Json doc = RunCooccurrenceJob(DatasetJob(agreements));
  EXPECT_EQ(doc["coverage"]["text"], "4 of 5 agreements coded");
  const Json& top = doc["pairs"][0];
  EXPECT_EQ(top["a"], "human-rights");
  EXPECT_EQ(top["b"], "privacy-data-protection");
  EXPECT_EQ(top["count"], 2);
  EXPECT_DOUBLE_EQ(top["jaccard"].get<double>(), 2.0 / 3.0);  // both 2, either 3
  EXPECT_DOUBLE_EQ(top["lift"].get<double>(), 2.0 / (3.0 * 2.0 / 4.0));
  const Json& nearest_a = doc["nearest"]["a"];
  ASSERT_GE(nearest_a.size(), 2u);
  EXPECT_EQ(nearest_a[0]["id"], "b");  // 2 shared of 3
  EXPECT_DOUBLE_EQ(nearest_a[0]["score"].get<double>(), 2.0 / 3.0);
  EXPECT_EQ(nearest_a[1]["id"], "c");
  EXPECT_FALSE(doc["nearest"].contains("e"));  // uncoded agreements have no neighbours
}

// ---- incremental == full -------------------------------------------------------

Json WithoutComputation(Json doc) {
  doc.erase("computation");
  return doc;
}

TEST(Incremental, EqualsFullRecomputationOnRandomChanges) {
  const Json codebook = testing::SeedCodebook();
  std::vector<std::string> elements;
  for (const Json& c : codebook["categories"])
    for (const Json& e : c["elements"]) elements.push_back(e["id"]);
  std::mt19937 rng(20240611);
  auto random_record = [&](const std::string& id) {
    std::vector<std::string> coded;
    if (rng() % 5 != 0)  // a fifth uncoded
      for (const std::string& e : elements)
        if (rng() % 4 == 0) coded.push_back(e);
    std::optional<int> year;
    if (rng() % 10 != 0) year = 1990 + static_cast<int>(rng() % 41);
    return Record(id, year, coded);
  };
  std::map<std::string, Json> dataset;
  for (int i = 0; i < 150; ++i)
    dataset["a" + std::to_string(i)] = random_record("a" + std::to_string(i));
  auto as_array = [&]() {
    Json a = Json::array();
    for (const auto& [id, r] : dataset) a.push_back(r);
    return a;
  };
  using JobFn = Json (*)(const Json&);
  const std::vector<std::pair<std::string, JobFn>> analyses = {
      {"element-frequency", [](const Json& j) { return RunFrequencyJob(j); }},
      {"trend", [](const Json& j) { return RunTrendJob(j); }},
      {"co-occurrence", [](const Json& j) { return RunCooccurrenceJob(j); }}};
  std::map<std::string, Json> previous;
  for (const auto& [name, fn] : analyses) previous[name] = fn(DatasetJob(as_array(), 1));
  int next_id = 1000;
  for (int revision = 2; revision <= 25; ++revision) {
    Json changes = Json::array();
    const int n = 1 + static_cast<int>(rng() % 3);
    for (int c = 0; c < n; ++c) {
      const int what = static_cast<int>(rng() % 3);
      auto it = std::next(dataset.begin(), static_cast<long>(rng() % dataset.size()));
      if (what == 0) {  // add
        const std::string id = "n" + std::to_string(next_id++);
        dataset[id] = random_record(id);
        changes.push_back({{"id", id}, {"before", nullptr}, {"after", dataset[id]}});
      } else if (what == 1) {  // recode / amend
        Json before = it->second;
        it->second = random_record(it->first);
        changes.push_back({{"id", it->first}, {"before", before}, {"after", it->second}});
      } else {  // retire
        Json before = it->second;
        dataset.erase(it);
        changes.push_back({{"id", before["id"]}, {"before", before}, {"after", nullptr}});
      }
    }
    for (const auto& [name, fn] : analyses) {
      Json job = DatasetJob(as_array(), revision);
      const Json full = fn(job);
      job["previous"] = {{"revision", revision - 1}, {"result", previous[name]}};
      job["changes"] = changes;
      const Json incremental = fn(job);
      ASSERT_EQ(incremental["computation"]["mode"], "incremental") << name;
      ASSERT_EQ(full["computation"]["mode"], "full");
      ASSERT_EQ(WithoutComputation(incremental), WithoutComputation(full))
          << name << " at revision " << revision;
      // Without the records the incremental path gives the same result (less nearest).
      job["dataset"].erase("agreements");
      Json lean = fn(job);
      Json expected = WithoutComputation(full);
      expected.erase("nearest");
      ASSERT_EQ(WithoutComputation(lean), expected) << name;
      previous[name] = incremental;
    }
  }
}

TEST(Incremental, RejectsChangesThatDoNotMatchTheState) {
  Json agreements = Json::array({Record("a", 2015, {"human-rights"})});
  const Json first = RunFrequencyJob(DatasetJob(agreements));
  Json job = DatasetJob(Json::array(), 2);
  job["dataset"].erase("agreements");
  job["previous"] = {{"revision", 1}, {"result", first}};
  // Removing an agreement with ransomware that was never counted.
  job["changes"] = {
      {{"id", "x"}, {"before", Record("x", 2015, {"ransomware"})}, {"after", nullptr}}};
  EXPECT_THROW(RunFrequencyJob(job), InputError);
  // A state from another codebook is not reused; without records that is bad input.
  Json other = first;
  other["state"]["codebook"] = "other v9";
  job["previous"]["result"] = other;
  job["changes"] = Json::array();
  EXPECT_THROW(RunFrequencyJob(job), InputError);
  // With the records, the full path runs and says why.
  job["dataset"]["agreements"] = agreements;
  const Json redone = RunFrequencyJob(job);
  EXPECT_EQ(redone["computation"]["mode"], "full");
  EXPECT_TRUE(redone["computation"].contains("fallback"));
}

TEST(Jobs, ALongJobNoticesCancellationAndReportsProgress) {
  Json agreements = Json::array();
  for (int i = 0; i < 10000; ++i)
    agreements.push_back(Record("a" + std::to_string(i), 2000 + i % 20, {"human-rights"}));
  const Json job = DatasetJob(agreements);
  std::vector<double> progress;
  JobHooks hooks;
  hooks.progress = [&](double f) { progress.push_back(f); };
  const Json done = RunTrendJob(job, &hooks);
  EXPECT_EQ(done["coverage"]["coded"], 10000);
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_LT(progress.back(), 1.0);
  int polls = 0;
  hooks.cancelled = [&] { return ++polls >= 2; };
  EXPECT_THROW(RunTrendJob(job, &hooks), Cancelled);
  EXPECT_EQ(polls, 2);  // stopped at the second check, not at the end
}

TEST(Jobs, BadInputNamesTheMember) {
  try {
    RunTrendJob(Json{{"codebook", testing::SeedCodebook()}, {"dataset", {{"revision", "x"}}}});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset.revision"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RunTrendJob(Json{{"dataset", {{"revision", 1}, {"agreements", Json::array()}}}}),
               InputError);
  EXPECT_THROW(RunFrequencyJob(DatasetJob(Json::array({{{"title", "no id"}}}))), InputError);
  EXPECT_THROW(RunFrequencyJob(DatasetJob(Json::array(), 1, {{"top_k", 0}})), InputError);
  Json job = DatasetJob(Json::array());
  job["scope"] = "proposal";
  EXPECT_THROW(RunFrequencyJob(job), InputError);
}

// ---- impact -----------------------------------------------------------------

Json ImpactJob(const Json& agreements, const Json& proposal, const Json& baseline = nullptr) {
  Json job = DatasetJob(agreements);
  job["scope"] = "proposal";
  job["proposal"] = proposal;
  if (!baseline.is_null()) job["baseline"] = baseline;
  return job;
}

TEST(Impact, ARecodeThatFlipsTheMostFrequentElement) {
  Json agreements =
      Json::array({Record("a", 2015, {"human-rights", "ransomware"}),
                   Record("b", 2016, {"human-rights", "ransomware"}),
                   Record("c", 2017, {"human-rights"}), Record("d", 2018, {"attribution"})});
  // Recoding c from human-rights to ransomware swaps their counts (3/2 -> 2/3).
  const Json proposal = {{"id", 12},
                         {"kind", "recode"},
                         {"revision", 1},
                         {"agreement_id", "c"},
                         {"base_dataset_revision", 1},
                         {"record", Record("c", 2017, {"ransomware"})}};
  const Json doc = RunImpactJob(ImpactJob(agreements, proposal));
  EXPECT_EQ(doc["analysis"], "impact");
  EXPECT_EQ(doc["proposal"], 12);
  EXPECT_TRUE(doc["changes"].get<bool>());
  const Json& freq = doc["analyses"]["element-frequency"];
  const Json& hr = Item(freq["ranks"], "element", "human-rights");
  EXPECT_EQ(hr["before"], 1);
  EXPECT_EQ(hr["after"], 2);
  EXPECT_EQ(Item(freq["ranks"], "element", "ransomware")["after"], 1);
  const Json& flip = Item(freq["findings"], "id", "most-frequent");
  EXPECT_EQ(flip["subject_before"]["elements"][0], "human-rights");
  EXPECT_EQ(flip["subject_after"]["elements"][0], "ransomware");
  // Coverage unchanged: a recode of a coded agreement.
  EXPECT_EQ(doc["coverage"]["before"], doc["coverage"]["after"]);
  // The shares of the two elements moved, nothing else did.
  EXPECT_EQ(freq["shares"].size(), 2u);
  // Pair counts: human-rights+ransomware unchanged (2), no new pair.
  EXPECT_TRUE(doc["analyses"]["co-occurrence"]["pairs"].empty());
}

TEST(Impact, WithBaselineStatesEqualsRecomputation) {
  const Json agreements = BpfDataset();
  Json baseline = {{"element-frequency", RunFrequencyJob(DatasetJob(agreements))},
                   {"trend", RunTrendJob(DatasetJob(agreements))},
                   {"co-occurrence", RunCooccurrenceJob(DatasetJob(agreements))}};
  const Json proposal = {
      {"id", 3},
      {"kind", "add"},
      {"agreement_id", "new"},
      {"record", Record("new", 2021, {"no-harm-to-csirts", "non-proliferation", "ransomware"})}};
  Json with = RunImpactJob(ImpactJob(agreements, proposal, baseline));
  Json without = RunImpactJob(ImpactJob(agreements, proposal));
  EXPECT_EQ(with["computation"]["trend"], "baseline state");
  EXPECT_EQ(without["computation"]["trend"], "recomputed");
  with.erase("computation"), without.erase("computation");
  without["analyses"]["co-occurrence"].erase("nearest_after");
  EXPECT_EQ(with, without);
  EXPECT_EQ(with["coverage"]["after"]["text"], "25 of 31 agreements coded");
  const Json& csirts =
      Item(with["analyses"]["element-frequency"]["shares"], "element", "no-harm-to-csirts");
  EXPECT_EQ(csirts["count_before"], 1);
  EXPECT_EQ(csirts["count_after"], 2);
  EXPECT_DOUBLE_EQ(csirts["after"].get<double>(), 2.0 / 25.0);
  // Both restraint elements still share the bottom: that finding does not flip.
  for (const Json& f : with["analyses"]["element-frequency"]["findings"])
    EXPECT_NE(f["id"], "least-frequent");
}

TEST(Impact, RetireAndUnknownAgreement) {
  const Json agreements =
      Json::array({Record("a", 2015, {"human-rights"}), Record("b", 2016, {"ransomware"})});
  const Json retire = {{"id", 4}, {"kind", "retire"}, {"agreement_id", "b"}, {"record", nullptr}};
  const Json doc = RunImpactJob(ImpactJob(agreements, retire));
  EXPECT_EQ(doc["coverage"]["after"]["text"], "1 of 1 agreements coded");
  Json unknown = retire;
  unknown["agreement_id"] = "zzz";
  EXPECT_THROW(RunImpactJob(ImpactJob(agreements, unknown)), InputError);
}

}  // namespace
}  // namespace normbase::analysis
