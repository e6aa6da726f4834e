// Inter-coder agreement against values computed by hand from the definitions
// (Krippendorff 2011, "Computing Krippendorff's alpha-reliability", binary
// example with two observers: alpha = 0.095).
#include "intercoder.h"

#include <gtest/gtest.h>

#include "datasets.h"
#include "jobs.h"

namespace normbase::analysis {
namespace {

Json Coding(const std::string& agreement, const std::string& coder,
            const std::vector<std::string>& elements) {
  Json codings = Json::object();
  for (const std::string& e : elements) codings[e] = {{"evidence", Json::array()}, {"note", ""}};
  return {{"agreement_id", agreement},
          {"coder", coder},
          {"source", "proposal:" + coder},
          {"codings", codings}};
}

Json Job(const Json& codings) {
  return {{"codebook", testing::SeedCodebook()},
          {"scope", "dataset"},
          {"dataset", {{"revision", 7}, {"agreements", Json::array()}}},
          {"codings", codings}};
}

const Json& Element(const Json& doc, const std::string& id) {
  for (const Json& e : doc["elements"])
    if (e["element"] == id) return e;
  static const Json none;
  ADD_FAILURE() << id;
  return none;
}

TEST(InterCoder, KrippendorffBinaryExample) {
  // Observer A: 0 1 0 0 0 0 0 0 1 0, observer B: 1 1 1 0 0 1 0 0 0 0 for
  // human-rights. Both code general-cooperation everywhere so that no coding is
  // empty (an empty coding means "not coded").
  const int a[] = {0, 1, 0, 0, 0, 0, 0, 0, 1, 0}, b[] = {1, 1, 1, 0, 0, 1, 0, 0, 0, 0};
  Json codings = Json::array();
  for (int u = 0; u < 10; ++u) {
    const std::string id = "u" + std::to_string(u);
    std::vector<std::string> ea = {"general-cooperation"}, eb = {"general-cooperation"};
    if (a[u]) ea.push_back("human-rights");
    if (b[u]) eb.push_back("human-rights");
    codings.push_back(Coding(id, "alice", ea));
    codings.push_back(Coding(id, "bob", eb));
  }
  const Json doc = RunInterCoderJob(Job(codings));
  const Json& hr = Element(doc, "human-rights");
  // o00 = 10, o11 = 2, o01 = o10 = 4; n0 = 14, n1 = 6: alpha = 1 - 19 * 8 / (2 * 14 * 6).
  EXPECT_NEAR(hr["alpha"].get<double>(), 1.0 - 19.0 * 8.0 / 168.0, 1e-12);
  EXPECT_NEAR(hr["alpha"].get<double>(), 0.095, 5e-4);
  // p_o = .6, p_e = .2 * .4 + .8 * .6 = .56: kappa = .04 / .44.
  EXPECT_NEAR(hr["kappa"].get<double>(), 0.04 / 0.44, 1e-12);
  EXPECT_EQ(hr["agreements_with_disagreement"], 4);
  // No variation at all: alpha and kappa are undefined, not 1.
  EXPECT_TRUE(Element(doc, "general-cooperation")["alpha"].is_null());
  EXPECT_TRUE(Element(doc, "general-cooperation")["kappa"].is_null());
  EXPECT_EQ(doc["overall"]["agreements"], 10);
  ASSERT_EQ(doc["disagreements"].size(), 4u);
  const Json& first = doc["disagreements"][0];
  EXPECT_EQ(first["agreement_id"], "u0");
  EXPECT_EQ(first["elements"][0]["element"], "human-rights");
  EXPECT_EQ(first["elements"][0]["coded_by"], Json::array({"bob"}));
  EXPECT_EQ(first["elements"][0]["not_coded_by"], Json::array({"alice"}));
  ASSERT_EQ(doc["coders"].size(), 1u);
  EXPECT_EQ(doc["coders"][0]["a"], "alice");
  // Overall pools every element's judgements: only human-rights varies and
  // disagrees, so the pooled alpha is computed over 10 x 26 judgements.
  EXPECT_GT(doc["overall"]["alpha"].get<double>(), hr["alpha"].get<double>());
}

TEST(InterCoder, ThreeCodersInFullAgreement) {
  Json codings = Json::array();
  for (const char* coder : {"a", "b", "c"}) {
    codings.push_back(Coding("x", coder, {"human-rights", "ransomware"}));
    codings.push_back(Coding("y", coder, {"human-rights"}));
  }
  const Json doc = RunInterCoderJob(Job(codings));
  EXPECT_DOUBLE_EQ(Element(doc, "ransomware")["alpha"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(Element(doc, "ransomware")["kappa"].get<double>(), 1.0);
  EXPECT_TRUE(doc["disagreements"].empty());
  EXPECT_EQ(doc["coders"].size(), 3u);  // a-b, a-c, b-c
}

TEST(InterCoder, SingleCodingsAndUncodedEntriesGiveNoMeasure) {
  Json codings = Json::array(
      {Coding("x", "a", {"human-rights"}), Coding("x", "b", {}), Coding("y", "a", {"ransomware"})});
  const Json doc = RunInterCoderJob(Job(codings));
  EXPECT_EQ(doc["overall"]["agreements"], 0);
  EXPECT_TRUE(doc["overall"]["alpha"].is_null());
  EXPECT_EQ(doc["findings"][0]["id"], "no-multiply-coded-agreements");
}

TEST(InterCoder, ALaterCodingOfTheSameCoderReplacesTheEarlier) {
  Json codings = Json::array({Coding("x", "a", {"human-rights"}), Coding("x", "b", {"ransomware"}),
                              Coding("x", "b", {"human-rights"})});
  const Json doc = RunInterCoderJob(Job(codings));
  EXPECT_TRUE(doc["disagreements"].empty());
}

TEST(InterCoder, BadInput) {
  EXPECT_THROW(RunInterCoderJob(Job(Json::array({{{"coder", "a"}, {"codings", Json::object()}}}))),
               InputError);
  EXPECT_THROW(RunInterCoderJob(Job(Json::array({Coding("x", "a", {"no-such-element"})}))),
               InputError);
  EXPECT_THROW(RunInterCoderJob(Job(Json::object())), InputError);
}

}  // namespace
}  // namespace normbase::analysis
