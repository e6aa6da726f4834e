// The four checks on seed records and on records broken on purpose: the
// status, and that each finding names its field (and element).
#include "checks.h"

#include <gtest/gtest.h>

#include "datasets.h"

namespace normbase::analysis {
namespace {

Json SeedRecord(const std::string& id) {
  for (const Json& a : testing::SeedAgreements())
    if (a["id"] == id) return a;
  ADD_FAILURE() << id;
  return nullptr;
}

Json Summaries() {
  Json out = Json::array();
  for (const Json& a : testing::SeedAgreements())
    out.push_back({{"id", a["id"]},
                   {"title", a["title"]},
                   {"year", a["year"]},
                   {"date", a["date"]},
                   {"kind", a["kind"]},
                   {"parties", a["parties"]},
                   {"leading_stakeholders", a["leading_stakeholders"]}});
  return out;
}

Json CheckJob(const std::string& kind, const Json& record, const Json& current = nullptr,
              const Json& config = Json::object()) {
  return {{"job", {{"id", "j"}, {"plugin", "check"}, {"attempt", 1}}},
          {"config", config},
          {"codebook", testing::SeedCodebook()},
          {"proposal",
           {{"id", 9},
            {"kind", kind},
            {"revision", 1},
            {"agreement_id", record.is_object() ? record["id"] : Json("x")},
            {"base_dataset_revision", 1},
            {"record", record}}},
          {"current", current},
          {"dataset", {{"revision", 1}, {"agreements", Summaries()}}}};
}

bool HasFinding(const Json& doc, const std::string& severity, const std::string& field,
                const std::string& element = {}) {
  for (const Json& f : doc["findings"])
    if (f["severity"] == severity && f["field"] == field &&
        (element.empty() || f.value("element", "") == element))
      return true;
  return false;
}

TEST(CodebookCheck, SeedRecordsPass) {
  for (const Json& a : testing::SeedAgreements()) {
    const Json doc = RunCodebookCheck(CheckJob("recode", a, a));
    EXPECT_EQ(doc["status"], "passed") << a["id"] << doc.dump();
  }
}

TEST(CodebookCheck, FindsEveryProblemAndNamesTheField) {
  Json r = SeedRecord("paris-call-2018");
  r["year"] = 1850;
  r["kind"] = "treaty";
  r["leading_stakeholders"] = {"government", "aliens"};
  r["source_url"] = "ftp://example.org";
  r["title"] = "";
  r["codings"]["made-up"] = {{"evidence", {{{"quote", "x"}, {"locator", "p. 1"}}}}};
  r["codings"]["human-rights"] = {{"evidence", Json::array()}, {"note", ""}};
  const Json doc = RunCodebookCheck(CheckJob("add", r));
  EXPECT_EQ(doc["status"], "failed");
  EXPECT_TRUE(HasFinding(doc, "error", "year"));
  EXPECT_TRUE(HasFinding(doc, "error", "kind"));
  EXPECT_TRUE(HasFinding(doc, "error", "leading_stakeholders[1]"));
  EXPECT_TRUE(HasFinding(doc, "error", "source_url"));
  EXPECT_TRUE(HasFinding(doc, "error", "title"));
  EXPECT_TRUE(HasFinding(doc, "error", "codings.made-up", "made-up"));
  EXPECT_TRUE(HasFinding(doc, "error", "codings.human-rights.evidence", "human-rights"));
  EXPECT_NE(doc["summary"].get<std::string>().find("error"), std::string::npos);
}

TEST(CodebookCheck, CodebookVersionTheProposalNames) {
  Json job = CheckJob("add", SeedRecord("un-gge-2015"));
  job["proposal"]["codebook"] = {{"id", "normbase-starter"}, {"version", 2}};
  const Json doc = RunCodebookCheck(job);
  EXPECT_TRUE(HasFinding(doc, "error", "codebook"));
  job["proposal"]["codebook"]["version"] = 1;
  EXPECT_EQ(RunCodebookCheck(job)["status"], "passed");
}

TEST(CodebookCheck, RetireHasNothingToCheckAndBadJobsThrow) {
  EXPECT_EQ(RunCodebookCheck(CheckJob("retire", nullptr))["status"], "passed");
  EXPECT_THROW(RunCodebookCheck(Json{{"codebook", testing::SeedCodebook()}}), InputError);
  Json job = CheckJob("merge", SeedRecord("un-gge-2015"));
  EXPECT_THROW(RunCodebookCheck(job), InputError);
}

TEST(EvidenceCheck, Strictness) {
  Json r = SeedRecord("paris-call-2018");
  EXPECT_EQ(RunEvidenceCheck(CheckJob("recode", r, r))["status"], "passed");
  r["codings"]["general-cooperation"]["evidence"][0]["locator"] = "";
  const Json standard = RunEvidenceCheck(CheckJob("recode", r));
  EXPECT_EQ(standard["status"], "failed");
  EXPECT_TRUE(HasFinding(standard, "error", "codings.general-cooperation.evidence[0].locator",
                         "general-cooperation"));
  const Json lenient =
      RunEvidenceCheck(CheckJob("recode", r, nullptr, {{"strictness", "lenient"}}));
  EXPECT_EQ(lenient["status"], "passed");
  EXPECT_TRUE(HasFinding(lenient, "warning", "codings.general-cooperation.evidence[0].locator"));
  r["codings"]["general-cooperation"]["evidence"][0]["locator"] = "somewhere in the middle";
  EXPECT_EQ(RunEvidenceCheck(CheckJob("recode", r))["status"], "passed");
  const Json strict = RunEvidenceCheck(CheckJob("recode", r, nullptr, {{"strictness", "strict"}}));
  EXPECT_TRUE(HasFinding(strict, "error", "codings.general-cooperation.evidence[0].locator"));
  r["codings"]["general-cooperation"]["evidence"][0]["locator"] = "Paragraph 4";
  EXPECT_EQ(RunEvidenceCheck(CheckJob("recode", r, nullptr, {{"strictness", "strict"}}))["status"],
            "passed");
  r["codings"]["human-rights"] = {{"evidence", Json::array()}};
  EXPECT_TRUE(HasFinding(RunEvidenceCheck(CheckJob("recode", r)), "error",
                         "codings.human-rights.evidence"));
  EXPECT_THROW(RunEvidenceCheck(CheckJob("recode", r, nullptr, {{"strictness", "harsh"}})),
               InputError);
}

TEST(DuplicatesCheck, FlagsALookAlikeWithTheMatchAndScore) {
  Json r = SeedRecord("paris-call-2018");
  r["id"] = "paris-call-for-trust";
  r["title"] = "The Paris Call for Trust & Security in Cyberspace";
  const Json doc = RunDuplicatesCheck(CheckJob("add", r));
  ASSERT_FALSE(doc["findings"].empty()) << doc.dump();
  const Json& f = doc["findings"][0];
  EXPECT_EQ(f["match"]["id"], "paris-call-2018");
  EXPECT_GE(f["score"].get<double>(), 0.75);
  EXPECT_EQ(f["field"], "title");
  // A different title, year and parties is no match.
  Json other = testing::Record("ransomware-pledge-2029", 2029, {"ransomware"});
  other["title"] = "International Counter Ransomware Initiative Statement";
  EXPECT_EQ(RunDuplicatesCheck(CheckJob("add", other))["findings"].size(), 0u);
  // Reusing an existing id is an error.
  const Json same_id = RunDuplicatesCheck(CheckJob("add", SeedRecord("un-gge-2015")));
  EXPECT_EQ(same_id["status"], "failed");
  EXPECT_TRUE(HasFinding(same_id, "error", "id"));
  // Only adds are compared.
  EXPECT_EQ(RunDuplicatesCheck(CheckJob("recode", SeedRecord("un-gge-2015")))["status"], "passed");
}

TEST(DuplicatesCheck, TitleSimilarity) {
  EXPECT_DOUBLE_EQ(TitleSimilarity("The Paris Call!", "the paris call"), 1.0);
  EXPECT_GT(TitleSimilarity("UN GGE report 2015", "UN GGE 2015 report"), 0.99);  // same words
  EXPECT_LT(TitleSimilarity("Budapest Convention", "Christchurch Call"), 0.3);
}

TEST(ConsistencyCheck, DateYearPartiesAndNoOpRecode) {
  Json r = SeedRecord("un-gge-2015");
  EXPECT_EQ(RunConsistencyCheck(CheckJob("amend", r, SeedRecord("paris-call-2018")))["status"],
            "passed");
  r["date"] = "2014-07-22";
  EXPECT_TRUE(HasFinding(RunConsistencyCheck(CheckJob("add", r)), "error", "date"));
  r["date"] = "2015-02-30";
  EXPECT_TRUE(HasFinding(RunConsistencyCheck(CheckJob("add", r)), "error", "date"));
  r["date"] = "2015-07-22";
  r["parties"] = "  ";
  EXPECT_TRUE(HasFinding(RunConsistencyCheck(CheckJob("add", r)), "error", "parties"));
  r["kind"] = "industry";  // an industry pledge may name no parties
  EXPECT_FALSE(HasFinding(RunConsistencyCheck(CheckJob("add", r)), "error", "parties"));
  const Json same = SeedRecord("un-gge-2015");
  const Json noop = RunConsistencyCheck(CheckJob("recode", same, same));
  EXPECT_EQ(noop["status"], "passed");
  EXPECT_TRUE(HasFinding(noop, "warning", "codings"));
  EXPECT_EQ(
      RunConsistencyCheck(CheckJob("recode", same, same, {{"no_op_severity", "error"}}))["status"],
      "failed");
  EXPECT_TRUE(HasFinding(RunConsistencyCheck(CheckJob("amend", same, same)), "warning", "record"));
  EXPECT_TRUE(
      HasFinding(RunConsistencyCheck(CheckJob("recode", same, nullptr)), "error", "agreement_id"));
}

}  // namespace
}  // namespace normbase::analysis
