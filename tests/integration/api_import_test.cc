// POST /api/v1/import: dry runs that report and write nothing, real imports
// that make one dataset revision, and all-or-nothing refusal of bad input.
#include <gtest/gtest.h>

#include <algorithm>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

class ImportApiTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }

  static HttpClient Admin() { return ClientFor(*server_, server_->admin_token()); }
};

TEST_F(ImportApiTest, JsonDryRunReportsAndChangesNothing) {
  auto admin = Admin();
  json changed = admin.Get("/api/v1/agreements/un-gge-2021").json();
  changed["codings"] = {{"human-rights", {{"evidence", {{{"quote", "q"}}}}}}};
  const json doc{{"agreements", {NewAgreement("import-dry-json-2024"), changed}}};
  const DataSnapshot before = Snapshot(admin, "un-gge-2021");
  auto r = admin.Post("/api/v1/import?dry_run=true", doc);
  ASSERT_TRUE(IsStatus(r, 200));
  const json j = r.json();
  EXPECT_EQ(j["dry_run"], true);
  EXPECT_TRUE(j["dataset_revision"].is_null());
  EXPECT_EQ(j["added"], json::array({"import-dry-json-2024"}));
  EXPECT_EQ(j["changed"], json::array({"un-gge-2021"}));
  EXPECT_EQ(j["unchanged"], 0);
  EXPECT_EQ(Snapshot(admin, "un-gge-2021"), before);
  EXPECT_TRUE(IsProblem(admin.Get("/api/v1/agreements/import-dry-json-2024"), 404));

  // A bare array works too; dry_run=false is an explicit real import (not done here).
  r = admin.Post("/api/v1/import?dry_run=true", json::array({NewAgreement("import-dry-2-2024")}));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["added"], json::array({"import-dry-2-2024"}));
  EXPECT_EQ(Snapshot(admin, "un-gge-2021"), before);
}

TEST_F(ImportApiTest, CsvDryRunReportsAndChangesNothing) {
  auto admin = Admin();
  const std::string csv =
      "id,title,kind,year,human-rights,ransomware\r\n"
      "import-dry-csv-2024,A CSV agreement,bilateral,2024,1,0\r\n"
      "un-gge-2010,\"Report of the GGE (A/65/201)\",multilateral,2010,0,1\r\n";
  const DataSnapshot before = Snapshot(admin, "un-gge-2010");
  auto r = admin.Post("/api/v1/import?dry_run=true", csv, "text/csv");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["dry_run"], true);
  EXPECT_EQ(r.json()["added"], json::array({"import-dry-csv-2024"}));
  EXPECT_EQ(r.json()["changed"], json::array({"un-gge-2010"}));
  EXPECT_EQ(Snapshot(admin, "un-gge-2010"), before);
  // ?format=csv works whatever the Content-Type says.
  r = admin.Post("/api/v1/import?dry_run=true&format=csv", csv, "application/octet-stream");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["added"], json::array({"import-dry-csv-2024"}));
  EXPECT_EQ(Snapshot(admin, "un-gge-2010"), before);
}

TEST_F(ImportApiTest, ExportsReimportUnchanged) {
  auto admin = Admin();
  const DataSnapshot before = Snapshot(admin);
  auto exported = admin.Get("/api/v1/export.json");
  ASSERT_TRUE(IsStatus(exported, 200));
  auto r = admin.Post("/api/v1/import?dry_run=true", exported.body, "application/json");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(r.json()["added"].empty()) << r.body;
  EXPECT_TRUE(r.json()["changed"].empty()) << r.body;
  EXPECT_EQ(r.json()["unchanged"], before.health["agreements"]);

  auto csv = admin.Get("/api/v1/export.csv");
  ASSERT_TRUE(IsStatus(csv, 200));
  r = admin.Post("/api/v1/import?dry_run=true", csv.body, "text/csv");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(r.json()["added"].empty()) << r.body;
  EXPECT_TRUE(r.json()["changed"].empty()) << "a spreadsheet round trip loses nothing: " << r.body;
  EXPECT_EQ(Snapshot(admin), before);
}

TEST_F(ImportApiTest, RealImportMakesOneDatasetRevision) {
  auto admin = Admin();
  auto reader = ClientFor(*server_);
  const json health = reader.Get("/healthz").json();
  const int64_t ds = health["dataset_revision"];
  const uint64_t seq = LastSeq(admin);
  json changed = reader.Get("/api/v1/agreements/gcsc-six-critical-norms").json();
  const json old_version = changed;
  changed["codings"] = {{"public-core", {{"evidence", {{{"quote", "the public core"}}}}}}};
  changed["notes"] = "coded by import";

  auto r = admin.Post("/api/v1/import",
                      json{{"agreements", {NewAgreement("import-real-2024"), changed}}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["dry_run"], false);
  EXPECT_EQ(r.json()["dataset_revision"], ds + 1);
  EXPECT_EQ(r.json()["added"], json::array({"import-real-2024"}));
  EXPECT_EQ(r.json()["changed"], json::array({"gcsc-six-critical-norms"}));

  json a = reader.Get("/api/v1/agreements/import-real-2024").json();
  EXPECT_EQ(a["revision"], 1);
  a = reader.Get("/api/v1/agreements/gcsc-six-critical-norms").json();
  EXPECT_EQ(a["revision"], 2);
  EXPECT_EQ(a["notes"], "coded by import");
  EXPECT_TRUE(a["codings"].contains("public-core"));
  const json after = reader.Get("/healthz").json();
  EXPECT_EQ(after["dataset_revision"], ds + 1);
  EXPECT_EQ(after["agreements"], health["agreements"].get<int>() + 1);
  EXPECT_EQ(after["coded_agreements"], health["coded_agreements"].get<int>() + 2);

  r = reader.Get("/api/v1/agreements/gcsc-six-critical-norms/history");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["versions"][0]["change"], "imported");
  EXPECT_EQ(r.json()["versions"][0]["actor_name"], "admin");
  EXPECT_EQ(reader.Get("/api/v1/agreements/gcsc-six-critical-norms?revision=" + std::to_string(ds))
                .json(),
            old_version);
  r = reader.Get("/api/v1/events?since=" + std::to_string(seq));
  ASSERT_EQ(WorkflowEvents(r.json()["items"]).size(), 1u);
  EXPECT_EQ(r.json()["items"][0]["type"], "dataset.imported");
  EXPECT_EQ(r.json()["items"][0]["payload"]["added"], 1);
  EXPECT_EQ(r.json()["items"][0]["payload"]["changed"], 1);

  // The same import again changes nothing and makes no revision.
  r = admin.Post("/api/v1/import",
                 json{{"agreements", {NewAgreement("import-real-2024"), changed}}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["unchanged"], 2);
  EXPECT_EQ(r.json()["dataset_revision"], ds + 1);
  EXPECT_EQ(reader.Get("/healthz").json()["dataset_revision"], ds + 1);
}

TEST_F(ImportApiTest, CsvImportKeepsEvidenceOfElementsThatStayCoded) {
  auto admin = Admin();
  auto reader = ClientFor(*server_);
  const json before = reader.Get("/api/v1/agreements/charter-of-trust-2018").json();
  ASSERT_TRUE(before["codings"].contains("information-sharing"));
  ASSERT_TRUE(before["codings"].contains("supply-chain-security"));
  // information-sharing stays, supply-chain-security goes, ransomware comes.
  const std::string csv =
      "id,title,kind,year,information-sharing,supply-chain-security,ransomware,"
      "privacy-data-protection\n"
      "charter-of-trust-2018,\"" +
      before["title"].get<std::string>() + "\",industry,2018,1,0,1,1\n";
  auto r = admin.Post("/api/v1/import", csv, "text/csv; charset=utf-8");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["changed"], json::array({"charter-of-trust-2018"}));
  const json after = reader.Get("/api/v1/agreements/charter-of-trust-2018").json();
  EXPECT_EQ(after["revision"], before["revision"].get<int>() + 1);
  EXPECT_EQ(after["codings"]["information-sharing"], before["codings"]["information-sharing"]);
  EXPECT_FALSE(after["codings"].contains("supply-chain-security"));
  ASSERT_TRUE(after["codings"].contains("ransomware"));
  EXPECT_TRUE(after["codings"]["ransomware"]["evidence"].empty());
  EXPECT_EQ(after["metadata_sources"], before["metadata_sources"]);
}

TEST_F(ImportApiTest, OneInvalidRecordRefusesTheWholeImport) {
  auto admin = Admin();
  json bad_element = NewAgreement("import-bad-element-2024");
  bad_element["codings"]["world-peace"] = {{"evidence", json::array()}};
  json bad_kind = NewAgreement("import-bad-kind-2024");
  bad_kind["kind"] = "treaty";
  const DataSnapshot before = Snapshot(admin);
  for (bool dry : {true, false}) {
    const std::string target = std::string("/api/v1/import") + (dry ? "?dry_run=true" : "");
    auto r = admin.Post(target, json::array({NewAgreement("import-good-2024"), bad_element}));
    EXPECT_TRUE(IsProblem(r, 400, "nothing changed")) << target;
    EXPECT_TRUE(IsProblem(r, 400, "import-bad-element-2024: codings.world-peace: unknown element"));
    r = admin.Post(target, json::array({NewAgreement("import-good-2024"), bad_kind, bad_element}));
    EXPECT_TRUE(IsProblem(r, 400, "import-bad-kind-2024: kind: 'treaty'")) << "every problem";
    EXPECT_TRUE(IsProblem(r, 400, "import-bad-element-2024"));
    r = admin.Post(target,
                   json::array({NewAgreement("import-twice"), NewAgreement("import-twice")}));
    EXPECT_TRUE(IsProblem(r, 400, "import-twice: appears twice"));
    json no_title = NewAgreement("import-no-title");
    no_title.erase("title");
    r = admin.Post(target, json::array({no_title}));
    EXPECT_TRUE(IsProblem(r, 400, "agreements[0].title: is required"));
    json unknown_field = NewAgreement("import-unknown-field");
    unknown_field["colour"] = "blue";
    r = admin.Post(target, json::array({unknown_field}));
    EXPECT_TRUE(IsProblem(r, 400, "agreements[0].colour: unknown field"));
    r = admin.Post(target, "id,title,kind,human-rights\nimport-csv-bad,T,bilateral,yes\n",
                   "text/csv");
    EXPECT_TRUE(IsProblem(r, 400, "column 'human-rights'"));
    r = admin.Post(target, "id,title,kind,world-peace\nimport-csv-bad,T,bilateral,1\n", "text/csv");
    EXPECT_TRUE(IsProblem(r, 400, "world-peace"));
    r = admin.Post(target, "title,kind\nT,bilateral\n", "text/csv");
    EXPECT_TRUE(IsProblem(r, 400, "'id'"));
    r = admin.Post(target, json{{"records", json::array()}});
    EXPECT_TRUE(IsProblem(r, 400, "expected {\"agreements\": [...]}"));
    r = admin.Post(target, "{\"agreements\": [", "application/json");
    EXPECT_TRUE(IsProblem(r, 400, "malformed JSON"));
  }
  EXPECT_EQ(Snapshot(admin), before);
  EXPECT_TRUE(IsProblem(admin.Get("/api/v1/agreements/import-good-2024"), 404));
}

TEST_F(ImportApiTest, FormulaLikeTitlesAreExportedAsTextAndImportBackUnchanged) {
  auto admin = Admin();
  json formula = NewAgreement("import-formula-2024");
  formula["title"] = "=HYPERLINK(\"https://evil.example\",\"Click me\")";
  formula["parties"] = "+49 states";
  ASSERT_TRUE(IsStatus(admin.Post("/api/v1/import", json::array({formula})), 200));

  auto csv = admin.Get("/api/v1/export.csv");
  ASSERT_TRUE(IsStatus(csv, 200));
  const auto rows = ParseCsv(csv.body);
  ASSERT_FALSE(rows.empty());
  const auto& header = rows[0];
  const auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const size_t id = column("id"), title = column("title"), parties = column("parties");
  ASSERT_LT(std::max({id, title, parties}), header.size()) << csv.body.substr(0, 300);
  bool found = false;
  for (const auto& row : rows) {
    if (row.size() != header.size() || row[id] != "import-formula-2024") continue;
    found = true;
    EXPECT_EQ(row[title], "'" + formula["title"].get<std::string>())
        << "a spreadsheet would run it";
    EXPECT_EQ(row[parties], "'+49 states");
  }
  EXPECT_TRUE(found) << csv.body;

  // Importing the export gives the original texts back: nothing changes.
  const DataSnapshot before = Snapshot(admin, "import-formula-2024");
  auto r = admin.Post("/api/v1/import?dry_run=true", csv.body, "text/csv");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(r.json()["changed"].empty()) << r.body;
  EXPECT_TRUE(r.json()["added"].empty()) << r.body;
  EXPECT_EQ(Snapshot(admin, "import-formula-2024"), before);
  const json stored = admin.Get("/api/v1/agreements/import-formula-2024").json();
  EXPECT_EQ(stored["title"], formula["title"]);
  EXPECT_EQ(stored["parties"], "+49 states");
}

TEST_F(ImportApiTest, BadParametersAreRefused) {
  auto admin = Admin();
  const DataSnapshot before = Snapshot(admin);
  EXPECT_TRUE(IsProblem(admin.Post("/api/v1/import?format=xlsx", json::array()), 400,
                        "'xlsx' is not csv or json"));
  EXPECT_TRUE(IsProblem(admin.Post("/api/v1/import?dry_run=maybe", json::array()), 400,
                        "dry_run: expected true or false"));
  EXPECT_EQ(Snapshot(admin), before);
}

}  // namespace
}  // namespace normbase::testing
