// Datasets with known answers for the plugin tests: the seed codebook and
// agreements, records built from element lists, and a "BPF-shaped" dataset
// whose findings are known by construction (which elements are most and least
// frequent, which grow over time).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace normbase::testing {

using Json = nlohmann::json;

Json SeedCodebook();
Json SeedAgreements();  // the "agreements" array of data/seed/agreements.json
Json SeedFile();        // the whole data/seed/agreements.json

// A full agreement record coded with `elements` (one evidence quote each, with
// a locator); `codings: {}` when elements is empty.
Json Record(const std::string& id, std::optional<int> year,
            const std::vector<std::string>& elements, const std::string& kind = "regional");

// {"job", "scope": "dataset", "config", "codebook", "dataset": {revision, agreements}}
Json DatasetJob(const Json& agreements, int64_t revision = 1, const Json& config = Json::object());

// The known-answer dataset (see datasets.cc for how it is built):
//   - 24 coded agreements, two a year 2010-2021, and 6 uncoded ones;
//   - general-cooperation in 22 and human-rights in 18 coded agreements: the
//     two most frequent; every other element in 2..10 except
//   - no-harm-to-csirts and non-proliferation (restraint) in 1 each: the two
//     least frequent;
//   - human-rights' yearly share rises 0, 0, .5, .5, 1, ... and ransomware's is
//     0 before 2018 and .5 from 2018: both grow; general-cooperation's is flat.
Json BpfDataset();

}  // namespace normbase::testing
