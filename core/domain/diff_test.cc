#include "domain/diff.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace normbase::domain {
namespace {

Agreement Base() {
  Agreement a;
  a.id = "paris-call-2018";
  a.title = "Paris Call";
  a.year = 2018;
  a.kind = "multistakeholder";
  a.leading_stakeholders = {"government"};
  a.codings["general-cooperation"] = Coding{{Evidence{"cooperate", "p. 1", ""}}, ""};
  a.codings["no-harm-to-csirts"] = Coding{{Evidence{"csirts", "p. 2", ""}}, ""};
  a.revision = 3;
  return a;
}

// The entry of `list` whose `key` is `name`, or null.
Json Find(const Json& list, const char* key, const std::string& name) {
  for (const auto& e : list)
    if (e[key] == name) return e;
  return Json(nullptr);
}

TEST(DiffAgreementsTest, IdenticalContentHasNoEntries) {
  Agreement a = Base(), b = Base();
  b.revision = 9;  // bookkeeping is not content
  b.retired = true;
  const Json d = DiffAgreements(&a, &b);
  EXPECT_EQ(d["fields"], Json::array());
  EXPECT_EQ(d["elements"], Json::array());
  EXPECT_EQ(DiffAgreements(nullptr, nullptr),
            (Json{{"fields", Json::array()}, {"elements", Json::array()}}));
}

TEST(DiffAgreementsTest, ChangedFields) {
  Agreement a = Base(), b = Base();
  b.title = "Paris Call for Trust and Security in Cyberspace";
  b.year.reset();
  b.leading_stakeholders.push_back("private-sector");
  const Json d = DiffAgreements(&a, &b);
  ASSERT_EQ(d["fields"].size(), 3u) << d.dump();
  EXPECT_EQ(Find(d["fields"], "field", "title"),
            (Json{{"field", "title"},
                  {"from", "Paris Call"},
                  {"to", "Paris Call for Trust and Security in Cyberspace"}}));
  const Json year = Find(d["fields"], "field", "year");
  EXPECT_EQ(year["from"], 2018);
  EXPECT_TRUE(year["to"].is_null());
  EXPECT_EQ(Find(d["fields"], "field", "leading_stakeholders")["to"],
            (Json{"government", "private-sector"}));
  EXPECT_EQ(d["elements"], Json::array());
}

TEST(DiffAgreementsTest, AddedRemovedAndChangedElements) {
  Agreement a = Base(), b = Base();
  b.codings.erase("no-harm-to-csirts");
  b.codings["information-sharing"] = Coding{{Evidence{"share", "p. 4", ""}}, ""};
  b.codings["general-cooperation"].note = "stronger wording";
  const Json d = DiffAgreements(&a, &b);
  EXPECT_EQ(d["fields"], Json::array());
  ASSERT_EQ(d["elements"].size(), 3u) << d.dump();

  const Json added = Find(d["elements"], "element", "information-sharing");
  EXPECT_EQ(added["change"], "added");
  EXPECT_TRUE(added["from"].is_null());
  EXPECT_EQ(added["to"]["evidence"][0]["quote"], "share");

  const Json removed = Find(d["elements"], "element", "no-harm-to-csirts");
  EXPECT_EQ(removed["change"], "removed");
  EXPECT_TRUE(removed["to"].is_null());

  const Json changed = Find(d["elements"], "element", "general-cooperation");
  EXPECT_EQ(changed["change"], "changed");
  EXPECT_EQ(changed["from"]["note"], "");
  EXPECT_EQ(changed["to"]["note"], "stronger wording");
}

TEST(DiffAgreementsTest, AbsentSides) {
  const Agreement a = Base();
  const Json added = DiffAgreements(nullptr, &a);
  EXPECT_EQ(Find(added["fields"], "field", "title")["to"], "Paris Call");
  EXPECT_TRUE(Find(added["fields"], "field", "title")["from"].is_null());
  ASSERT_EQ(added["elements"].size(), 2u);
  for (const auto& e : added["elements"]) EXPECT_EQ(e["change"], "added");

  const Json removed = DiffAgreements(&a, nullptr);
  ASSERT_EQ(removed["elements"].size(), 2u);
  for (const auto& e : removed["elements"]) EXPECT_EQ(e["change"], "removed");
}

TEST(ThreeWayDiffTest, UnchangedHasNoEntries) {
  const Agreement a = Base();
  const Json d = ThreeWayDiff(&a, &a, &a);
  EXPECT_EQ(d["fields"], Json::array());
  EXPECT_EQ(d["elements"], Json::array());
}

TEST(ThreeWayDiffTest, ChangesOnDifferentFieldsDoNotConflict) {
  Agreement base = Base(), current = Base(), proposed = Base();
  current.title = "Paris Call (renamed)";
  proposed.year = 2019;
  const Json d = ThreeWayDiff(&base, &current, &proposed);
  ASSERT_EQ(d["fields"].size(), 2u) << d.dump();
  const Json title = Find(d["fields"], "field", "title");
  EXPECT_EQ(title, (Json{{"field", "title"},
                         {"base", "Paris Call"},
                         {"current", "Paris Call (renamed)"},
                         {"proposed", "Paris Call"},
                         {"conflict", false}}));
  EXPECT_EQ(Find(d["fields"], "field", "year")["conflict"], false);
  EXPECT_EQ(d["elements"], Json::array());
}

TEST(ThreeWayDiffTest, DifferentChangesToOneFieldConflict) {
  Agreement base = Base(), current = Base(), proposed = Base();
  current.title = "One title";
  proposed.title = "Another title";
  const Json d = ThreeWayDiff(&base, &current, &proposed);
  ASSERT_EQ(d["fields"].size(), 1u);
  EXPECT_EQ(d["fields"][0]["conflict"], true);
}

TEST(ThreeWayDiffTest, TheSameChangeOnBothSidesIsNotAConflict) {
  Agreement base = Base(), current = Base(), proposed = Base();
  current.title = "Same";
  proposed.title = "Same";
  const Json d = ThreeWayDiff(&base, &current, &proposed);
  ASSERT_EQ(d["fields"].size(), 1u);
  EXPECT_EQ(d["fields"][0]["conflict"], false);
}

TEST(ThreeWayDiffTest, Elements) {
  Agreement base = Base(), current = Base(), proposed = Base();
  // Removed now, changed by the proposal: a conflict.
  current.codings.erase("general-cooperation");
  proposed.codings["general-cooperation"].note = "sharper";
  // Added by the proposal only: no conflict.
  proposed.codings["information-sharing"] = Coding{};
  // Changed now only: no conflict.
  current.codings["no-harm-to-csirts"].note = "reviewed";
  const Json d = ThreeWayDiff(&base, &current, &proposed);
  ASSERT_EQ(d["elements"].size(), 3u) << d.dump();

  const Json gc = Find(d["elements"], "element", "general-cooperation");
  EXPECT_EQ(gc["conflict"], true);
  EXPECT_TRUE(gc["current"].is_null());
  EXPECT_EQ(gc["proposed"]["note"], "sharper");

  const Json is = Find(d["elements"], "element", "information-sharing");
  EXPECT_EQ(is["conflict"], false);
  EXPECT_TRUE(is["base"].is_null());
  EXPECT_TRUE(is["current"].is_null());

  const Json nh = Find(d["elements"], "element", "no-harm-to-csirts");
  EXPECT_EQ(nh["conflict"], false);
  EXPECT_EQ(nh["current"]["note"], "reviewed");
}

TEST(ThreeWayDiffTest, AddedOnBothSidesDifferentlyConflicts) {
  Agreement current = Base(), proposed = Base();
  proposed.title = "Other";
  const Json d = ThreeWayDiff(nullptr, &current, &proposed);
  EXPECT_EQ(Find(d["fields"], "field", "title")["conflict"], true);
  EXPECT_EQ(Find(d["fields"], "field", "kind")["conflict"], false);  // both added the same
  EXPECT_TRUE(Find(d["fields"], "field", "kind")["base"].is_null());
}

TEST(ThreeWayDiffTest, RetireProposesNothing) {
  const Agreement base = Base(), current = Base();
  const Json d = ThreeWayDiff(&base, &current, nullptr);
  const Json title = Find(d["fields"], "field", "title");
  EXPECT_TRUE(title["proposed"].is_null());
  EXPECT_EQ(title["conflict"], false);
}

}  // namespace
}  // namespace normbase::domain
