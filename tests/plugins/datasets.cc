#include "datasets.h"

#include <fstream>
#include <stdexcept>

namespace normbase::testing {

namespace {

Json ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  return Json::parse(in);
}

}  // namespace

Json SeedCodebook() { return ReadJson(std::string(NORMBASE_SEED_DIR) + "/codebook.json"); }
Json SeedFile() { return ReadJson(std::string(NORMBASE_SEED_DIR) + "/agreements.json"); }
Json SeedAgreements() { return SeedFile()["agreements"]; }

Json Record(const std::string& id, std::optional<int> year,
            const std::vector<std::string>& elements, const std::string& kind) {
  Json codings = Json::object();
  for (const std::string& e : elements)
    codings[e] = {{"evidence",
                   {{{"quote", "The parties commit to " + e + "."},
                     {"locator", "article 1"},
                     {"source_url", "https://example.org/" + id}}}},
                  {"note", ""}};
  return {{"id", id},
          {"title", "Agreement " + id},
          {"year", year ? Json(*year) : Json(nullptr)},
          {"date", nullptr},
          {"kind", kind},
          {"leading_stakeholders", {"government"}},
          {"parties", "Member states of the example organisation"},
          {"source_url", "https://example.org/" + id},
          {"metadata_sources", Json::array()},
          {"codings", codings}};
}

Json DatasetJob(const Json& agreements, int64_t revision, const Json& config) {
  return {{"job", {{"id", "job-1"}, {"plugin", "test"}, {"attempt", 1}}},
          {"scope", "dataset"},
          {"config", config},
          {"codebook", SeedCodebook()},
          {"dataset", {{"revision", revision}, {"agreements", agreements}}}};
}

Json BpfDataset() {
  const Json codebook = SeedCodebook();
  std::vector<std::string> others;  // every element with no role in the findings
  for (const Json& c : codebook["categories"])
    for (const Json& e : c["elements"]) {
      const std::string id = e["id"];
      if (id != "general-cooperation" && id != "human-rights" && id != "ransomware" &&
          id != "no-harm-to-csirts" && id != "non-proliferation")
        others.push_back(id);
    }
  Json agreements = Json::array();
  int index = 0;
  for (int year = 2010; year <= 2021; ++year) {
    for (int k = 0; k < 2; ++k, ++index) {
      std::vector<std::string> elements;
      // Absent from 2 agreements spread over the years, so the share stays flat-ish.
      if (index != 5 && index != 17) elements.push_back("general-cooperation");
      // 0 in 2010-2011, one of two in 2012-2013, both from 2014: 0+0+1+1+16 = 18.
      if (year >= 2014 || (year >= 2012 && k == 0)) elements.push_back("human-rights");
      if (year >= 2018 && k == 1) elements.push_back("ransomware");  // 4 agreements, share 0 -> .5
      if (year == 2015 && k == 0) elements.push_back("no-harm-to-csirts");
      if (year == 2016 && k == 1) elements.push_back("non-proliferation");
      // Each other element in every 4th agreement (offset by its position): 6 each,
      // two spread-out places at a time, with no drift over the years.
      for (size_t e = 0; e < others.size(); ++e)
        if ((index + static_cast<int>(e)) % 4 == 0) elements.push_back(others[e]);
      agreements.push_back(Record("bpf-" + std::to_string(index), year, elements));
    }
  }
  // Uncoded agreements, concentrated in the early years: counting them would
  // change every share and the trends.
  for (int u = 0; u < 6; ++u)
    agreements.push_back(Record("uncoded-" + std::to_string(u), 2010 + u % 3, {}));
  return agreements;
}

}  // namespace normbase::testing
