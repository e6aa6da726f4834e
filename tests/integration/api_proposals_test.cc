// The review workflow over HTTP: proposals of every kind, revisions,
// comments, reviews, withdraw, reject, listing, and the full flow in which two
// reviewers from different stakeholder groups approve and a moderator merges.
// One server for the suite; each test works on its own agreements.
#include <gtest/gtest.h>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

class ProposalsApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start()) << server_->output();
    HttpClient admin = ClientFor(*server_, server_->admin_token());
    author_ = new TestUser(CreateUser(admin, "contributor", "civil-society", "author"));
    gov_ = new TestUser(CreateUser(admin, "contributor", "government", "gov"));
    industry_ = new TestUser(CreateUser(admin, "contributor", "private-sector", "industry"));
    academic_ = new TestUser(CreateUser(admin, "contributor", "academia", "academic"));
    moderator_ = new TestUser(CreateUser(admin, "moderator", "technical-community", "mod"));
  }
  static void TearDownTestSuite() {
    for (TestUser* u : {author_, gov_, industry_, academic_, moderator_}) delete u;
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static HttpClient As(const TestUser* u) { return ClientFor(*server_, u->token); }
  static HttpClient Admin() { return ClientFor(*server_, server_->admin_token()); }
  static HttpClient Anonymous() { return ClientFor(*server_); }

  static json Agreement(const std::string& id) {
    auto c = Anonymous();
    auto r = c.Get("/api/v1/agreements/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  static std::string ProposalPath(const json& proposal, const std::string& action = "") {
    return "/api/v1/proposals/" + std::to_string(proposal["id"].get<int64_t>()) +
           (action.empty() ? "" : "/" + action);
  }
  static json Create(HttpClient& c, const json& body) {
    auto r = c.Post("/api/v1/proposals", body);
    EXPECT_TRUE(IsStatus(r, 201)) << body.dump();
    return r.json();
  }
  static json Create(HttpClient&& c, const json& body) { return Create(c, body); }
  // The proposal's summary after the vote (the answer is {review, proposal}).
  static json Review(const TestUser* u, const json& proposal, const std::string& verdict) {
    auto c = As(u);
    auto r = c.Post(ProposalPath(proposal, "reviews"), json{{"verdict", verdict}});
    EXPECT_TRUE(IsStatus(r, 201)) << u->name << " " << verdict;
    const json answer = r.json();
    EXPECT_EQ(answer["review"]["verdict"], verdict);
    EXPECT_EQ(answer["review"]["reviewer_name"], u->name);
    return answer["proposal"];
  }

  static ServerProcess* server_;
  static TestUser *author_, *gov_, *industry_, *academic_, *moderator_;
};

ServerProcess* ProposalsApiTest::server_ = nullptr;
TestUser* ProposalsApiTest::author_ = nullptr;
TestUser* ProposalsApiTest::gov_ = nullptr;
TestUser* ProposalsApiTest::industry_ = nullptr;
TestUser* ProposalsApiTest::academic_ = nullptr;
TestUser* ProposalsApiTest::moderator_ = nullptr;

TEST_F(ProposalsApiTest, CreateAddProposal) {
  auto c = As(author_);
  const uint64_t seq = LastSeq(c);
  const json body{{"kind", "add"},
                  {"agreement", NewAgreement("test-add-accord-2024")},
                  {"rationale", "a new bilateral agreement"}};
  const json p = Create(c, body);
  EXPECT_GT(p["id"].get<int64_t>(), 0);
  EXPECT_EQ(p["kind"], "add");
  EXPECT_EQ(p["status"], "open");
  EXPECT_EQ(p["agreement_id"], "test-add-accord-2024");
  EXPECT_EQ(p["author_name"], author_->name);
  EXPECT_EQ(p["revision"], 1);
  ASSERT_EQ(p["revisions"].size(), 1u);
  EXPECT_EQ(p["revisions"][0]["rationale"], "a new bilateral agreement");
  EXPECT_EQ(p["revisions"][0]["proposed"]["title"], "Test agreement test-add-accord-2024");
  EXPECT_EQ(p["review"]["can_merge"], false);
  ASSERT_FALSE(p["review"]["missing"].empty());
  EXPECT_NE(p["review"]["missing"][0].get<std::string>().find("needs 2 more approvals"),
            std::string::npos);

  // It is readable, it is in the event log, and the dataset did not change yet.
  auto r = c.Get(ProposalPath(p));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["id"], p["id"]);
  r = c.Get("/api/v1/events?since=" + std::to_string(seq));
  ASSERT_TRUE(IsStatus(r, 200));
  const json events = WorkflowEvents(r.json()["items"]);
  ASSERT_EQ(events.size(), 1u);
  const json e = events[0];
  EXPECT_EQ(e["type"], "proposal.created");
  // Its checks were queued in the same batch, right after it.
  EXPECT_EQ(r.json()["items"][1]["type"], "check.queued");
  EXPECT_EQ(e["subjects"]["proposal"], std::to_string(p["id"].get<int64_t>()));
  EXPECT_EQ(e["subjects"]["agreement"], "test-add-accord-2024");
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/agreements/test-add-accord-2024"), 404));
  r = c.Get(ProposalPath(p, "diff"));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["kind"], "add");
  EXPECT_EQ(r.json()["conflicted"], false);
}

TEST_F(ProposalsApiTest, CreateRecodeAmendAndRetire) {
  auto c = As(author_);
  const json a = Agreement("g20-antalya-communique-2015");
  json p = Create(c, RecodeBody(a, "intellectual-property"));
  EXPECT_EQ(p["kind"], "recode");
  EXPECT_EQ(p["revisions"][0]["base_revision"], a["revision"]);
  EXPECT_EQ(p["revisions"][0]["proposed"]["codings"].size(), 1u);
  EXPECT_TRUE(p["revisions"][0]["proposed"]["codings"].contains("intellectual-property"));

  p = Create(
      c, json{{"kind", "amend"},
              {"agreement_id", a["id"]},
              {"base_revision", a["revision"]},
              {"fields", {{"title", "G20 Leaders' Communiqué, Antalya Summit"}, {"year", 2015}}},
              {"rationale", "official title"}});
  EXPECT_EQ(p["kind"], "amend");
  EXPECT_EQ(p["revisions"][0]["proposed"]["title"], "G20 Leaders' Communiqué, Antalya Summit");
  EXPECT_EQ(p["revisions"][0]["proposed"]["codings"], a["codings"]) << "amend keeps codings";
  auto r = c.Get(ProposalPath(p, "diff"));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_NE(r.json()["diff"].dump().find("title"), std::string::npos) << r.body;

  p = Create(c, json{{"kind", "retire"},
                     {"agreement_id", a["id"]},
                     {"base_revision", a["revision"]},
                     {"rationale", "a communiqué is not an agreement"}});
  EXPECT_EQ(p["kind"], "retire");
  ASSERT_FALSE(p["review"]["missing"].empty());
  EXPECT_NE(p["review"]["missing"][0].get<std::string>().find("3 more approvals"),
            std::string::npos)
      << "retiring needs 3 approvals from 3 groups: " << p["review"].dump();

  // Three open proposals on one agreement; the agreement itself is unchanged.
  EXPECT_EQ(Agreement("g20-antalya-communique-2015"), a);
  r = c.Get("/api/v1/proposals?agreement=g20-antalya-communique-2015");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["items"].size(), 3u);
}

TEST_F(ProposalsApiTest, AmendRefusesFieldsItCannotChange) {
  auto c = As(author_);
  const json a = Agreement("oas-cicte-cyber-cbms");
  const DataSnapshot before = Snapshot(c, "oas-cicte-cyber-cbms");
  auto amend = [&](const json& fields) {
    return c.Post("/api/v1/proposals", json{{"kind", "amend"},
                                            {"agreement_id", a["id"]},
                                            {"base_revision", a["revision"]},
                                            {"fields", fields},
                                            {"rationale", "r"}});
  };
  EXPECT_TRUE(IsProblem(amend(json{{"codings", json::object()}}), 400, "use a recode proposal"));
  EXPECT_TRUE(IsProblem(amend(json{{"id", "other-id"}}), 400, "an agreement's id cannot change"));
  EXPECT_TRUE(IsProblem(amend(json{{"revision", 7}}), 400, "not a field that can be amended"));
  EXPECT_TRUE(IsProblem(amend(json{{"year", "2019"}}), 400, "year: expected an integer"));
  EXPECT_TRUE(IsProblem(amend(json{{"kind", "treaty"}}), 400, "'treaty' is not an agreement kind"));
  EXPECT_TRUE(IsProblem(amend(json{{"year", 1800}}), 400, "outside 1900-2100"));
  EXPECT_TRUE(IsProblem(amend("title"), 400, "fields: is required"));
  EXPECT_EQ(Snapshot(c, "oas-cicte-cyber-cbms"), before);
}

TEST_F(ProposalsApiTest, StaleOrMissingBaseRevisionIsRefused) {
  auto c = As(author_);
  const json a = Agreement("osce-cbms-2013");
  const DataSnapshot before = Snapshot(c);
  json body = RecodeBody(a, "confidence-building");
  body["base_revision"] = a["revision"].get<int>() + 1;
  EXPECT_TRUE(IsProblem(c.Post("/api/v1/proposals", body), 409, "is stale"));
  body.erase("base_revision");
  EXPECT_TRUE(IsProblem(c.Post("/api/v1/proposals", body), 400, "base_revision: is required"));
  body["agreement_id"] = "no-such-agreement";
  body["base_revision"] = 1;
  EXPECT_TRUE(IsProblem(c.Post("/api/v1/proposals", body), 404,
                        "agreement 'no-such-agreement' does not exist"));
  EXPECT_EQ(Snapshot(c), before);
}

TEST_F(ProposalsApiTest, RevisionsByTheAuthorOnly) {
  auto c = As(author_);
  const json a = Agreement("osce-cbms-2016");
  json p = Create(c, RecodeBody(a, "confidence-building"));
  const std::string revisions = ProposalPath(p, "revisions");

  json next = RecodeBody(a, "information-sharing", "read the annex too");
  next.erase("kind");
  next.erase("agreement_id");
  auto r = c.Post(revisions, next);
  ASSERT_TRUE(IsStatus(r, 201));
  p = r.json();
  EXPECT_EQ(p["revision"], 2);
  ASSERT_EQ(p["revisions"].size(), 2u);
  EXPECT_EQ(p["revisions"][1]["number"], 2);
  EXPECT_EQ(p["revisions"][1]["rationale"], "read the annex too");
  EXPECT_TRUE(p["revisions"][1]["proposed"]["codings"].contains("information-sharing"));
  EXPECT_TRUE(p["revisions"][0]["proposed"]["codings"].contains("confidence-building"));

  const DataSnapshot before = Snapshot(c);
  auto other = As(gov_);
  EXPECT_TRUE(IsProblem(other.Post(revisions, next), 403, "only the author"));
  EXPECT_TRUE(IsProblem(c.Post(revisions, next), 400, "changes nothing"));
  EXPECT_TRUE(IsProblem(c.Post(revisions, json{{"kind", "recode"}}), 400, "kind: unknown field"));
  EXPECT_TRUE(IsProblem(c.Post(revisions, json::array()), 400, "expected a JSON object"));
  EXPECT_EQ(Snapshot(c), before);
  EXPECT_EQ(c.Get(ProposalPath(p)).json()["revision"], 2);
}

TEST_F(ProposalsApiTest, VotesOnAnOlderRevisionAreShownButNotCounted) {
  auto c = As(author_);
  const json a = Agreement("christchurch-call-2019");
  json p = Create(c, RecodeBody(a, "disinformation"));
  Review(gov_, p, "approve");
  p = c.Get(ProposalPath(p)).json();
  EXPECT_EQ(p["review"]["approvals"], 1);

  // A rationale-only revision keeps the votes (the default policy) ...
  auto r = c.Post(ProposalPath(p, "revisions"),
                  json{{"base_revision", a["revision"]},
                       {"codings", p["revisions"][0]["proposed"]["codings"]},
                       {"rationale", "better wording of the rationale"}});
  ASSERT_TRUE(IsStatus(r, 201));
  EXPECT_EQ(r.json()["review"]["approvals"], 1);
  // ... a change of content does not.
  json next = RecodeBody(a, "human-rights", "different coding");
  next.erase("kind");
  next.erase("agreement_id");
  r = c.Post(ProposalPath(p, "revisions"), next);
  ASSERT_TRUE(IsStatus(r, 201));
  EXPECT_EQ(r.json()["revision"], 3);
  EXPECT_EQ(r.json()["review"]["approvals"], 0);
  ASSERT_EQ(r.json()["review"]["stale_votes"].size(), 1u);
  EXPECT_EQ(r.json()["review"]["stale_votes"][0]["reviewer_name"], gov_->name);

  // Reviewing a revision that is not current is refused.
  const DataSnapshot before = Snapshot(c);
  EXPECT_TRUE(IsProblem(
      As(gov_).Post(ProposalPath(p, "reviews"), json{{"verdict", "approve"}, {"revision", 1}}), 409,
      "review the new revision"));
  EXPECT_EQ(Snapshot(c), before);
}

TEST_F(ProposalsApiTest, CommentsAndResolve) {
  auto c = As(author_);
  const json a = Agreement("un-gge-2013");
  json p = Create(c, RecodeBody(a, "international-law"));
  auto reviewer = As(gov_);
  auto r = reviewer.Post(ProposalPath(p, "comments"),
                         json{{"text", "Which paragraph?"}, {"element", "international-law"}});
  ASSERT_TRUE(IsStatus(r, 201));
  // The answer is the comment and the proposal's summary; GET shows it too.
  const json comment = r.json()["comment"];
  EXPECT_EQ(r.json()["proposal"]["id"], p["id"]);
  EXPECT_EQ(r.json()["proposal"]["state"], "open");
  ASSERT_EQ(c.Get("/api/v1/proposals/" + std::to_string(p["id"].get<int64_t>())).json()["comments"],
            json::array({comment}));
  EXPECT_EQ(comment["text"], "Which paragraph?");
  EXPECT_EQ(comment["author_name"], gov_->name);
  EXPECT_EQ(comment["element"], "international-law");
  EXPECT_EQ(comment["revision"], 1);
  EXPECT_EQ(comment["resolved"], false);
  const std::string resolve =
      ProposalPath(p, "comments/" + std::to_string(comment["id"].get<int64_t>()) + "/resolve");

  const DataSnapshot before = Snapshot(c);
  EXPECT_TRUE(
      IsProblem(As(industry_).Post(resolve, json::object()), 403, "only the comment's author"));
  EXPECT_TRUE(IsProblem(reviewer.Post(ProposalPath(p, "comments"), json{{"text", ""}}), 400,
                        "text: is required"));
  EXPECT_TRUE(IsProblem(
      reviewer.Post(ProposalPath(p, "comments"), json{{"text", "x"}, {"element", "world-peace"}}),
      400, "'world-peace' is not an element"));
  EXPECT_TRUE(IsProblem(
      reviewer.Post(ProposalPath(p, "comments"), json{{"text", "x"}, {"field", "colour"}}), 400,
      "'colour' is not a field"));
  EXPECT_TRUE(
      IsProblem(reviewer.Post(ProposalPath(p, "comments"), json{{"text", "x"}, {"mood", "grumpy"}}),
                400, "mood: unknown field"));
  EXPECT_TRUE(IsProblem(c.Post(ProposalPath(p, "comments/999999/resolve"), json::object()), 404,
                        "has no comment 999999"));
  EXPECT_EQ(Snapshot(c), before);

  r = c.Post(resolve, json::object());  // the proposal's author may resolve it
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["comment"]["resolved"], true);
  EXPECT_EQ(r.json()["comment"]["resolved_by"], author_->id);
  const json after = c.Get("/api/v1/proposals/" + std::to_string(p["id"].get<int64_t>())).json();
  EXPECT_EQ(after["comments"][0]["resolved"], true);
  EXPECT_TRUE(IsProblem(c.Post(resolve, json::object()), 409, "already resolved"));
}

TEST_F(ProposalsApiTest, WithdrawByTheAuthorClosesTheProposal) {
  auto c = As(author_);
  const json a = Agreement("un-gge-2010");
  json p = Create(c, RecodeBody(a, "confidence-building"));
  EXPECT_TRUE(IsProblem(As(gov_).Post(ProposalPath(p, "withdraw"), json::object()), 403,
                        "only the author"));
  auto r = c.Post(ProposalPath(p, "withdraw"), json{{"reason", "duplicate"}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["status"], "withdrawn");
  EXPECT_EQ(r.json()["close_reason"], "duplicate");

  // Closed proposals do not change any more.
  const DataSnapshot before = Snapshot(c);
  EXPECT_TRUE(IsProblem(c.Post(ProposalPath(p, "withdraw"), json::object()), 409, "is withdrawn"));
  EXPECT_TRUE(IsProblem(As(gov_).Post(ProposalPath(p, "reviews"), json{{"verdict", "approve"}}),
                        409, "only open proposals can change"));
  EXPECT_TRUE(
      IsProblem(As(moderator_).Post(ProposalPath(p, "merge"), json::object()), 409, "withdrawn"));
  json next = RecodeBody(a, "human-rights");
  next.erase("kind");
  next.erase("agreement_id");
  EXPECT_TRUE(IsProblem(c.Post(ProposalPath(p, "revisions"), next), 409, "withdrawn"));
  EXPECT_EQ(Snapshot(c), before);
}

TEST_F(ProposalsApiTest, RejectNeedsAModeratorAndAReason) {
  auto c = As(author_);
  const json a = Agreement("us-china-cyber-understanding-2015");
  json p = Create(c, RecodeBody(a, "intellectual-property"));
  auto m = As(moderator_);
  const DataSnapshot before = Snapshot(c);
  EXPECT_TRUE(
      IsProblem(m.Post(ProposalPath(p, "reject"), json::object()), 400, "reason: is required"));
  EXPECT_TRUE(IsProblem(m.Post(ProposalPath(p, "reject"), json{{"reason", 5}}), 400,
                        "reason: expected a string"));
  EXPECT_TRUE(IsProblem(As(gov_).Post(ProposalPath(p, "reject"), json{{"reason", "no"}}), 403,
                        "moderator"));
  EXPECT_EQ(Snapshot(c), before);
  auto r = m.Post(ProposalPath(p, "reject"), json{{"reason", "no evidence in the text"}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["status"], "rejected");
  EXPECT_EQ(r.json()["close_reason"], "no evidence in the text");
  EXPECT_TRUE(
      IsProblem(m.Post(ProposalPath(p, "reject"), json{{"reason", "again"}}), 409, "is rejected"));
}

TEST_F(ProposalsApiTest, ReviewRules) {
  auto c = As(author_);
  const json a = Agreement("un-oewg-2021");
  json p = Create(c, RecodeBody(a, "capacity-building"));
  const DataSnapshot before = Snapshot(c);
  EXPECT_TRUE(IsProblem(c.Post(ProposalPath(p, "reviews"), json{{"verdict", "approve"}}), 403,
                        "authors cannot vote on their own proposal"));
  EXPECT_TRUE(IsProblem(As(gov_).Post(ProposalPath(p, "reviews"), json{{"verdict", "yes"}}), 400,
                        "'yes' is not one of approve, request_changes, comment"));
  EXPECT_TRUE(IsProblem(As(gov_).Post(ProposalPath(p, "reviews"), json::object()), 400,
                        "verdict: is required"));
  // The admin has no stakeholder group, so cannot vote.
  EXPECT_TRUE(IsProblem(Admin().Post(ProposalPath(p, "reviews"), json{{"verdict", "approve"}}), 403,
                        "no stakeholder group"));
  EXPECT_EQ(Snapshot(c), before);

  // Two approvals from ONE group are not enough.
  HttpClient admin = Admin();
  const TestUser second_gov = CreateUser(admin, "contributor", "government", "gov2");
  Review(gov_, p, "approve");
  json v = Review(&second_gov, p, "approve");
  EXPECT_EQ(v["review"]["approvals"], 2);
  EXPECT_EQ(v["review"]["distinct_groups"], 1);
  EXPECT_EQ(v["review"]["can_merge"], false);
  ASSERT_FALSE(v["review"]["missing"].empty());
  EXPECT_NE(v["review"]["missing"][0].get<std::string>().find("other than Government"),
            std::string::npos)
      << v["review"].dump();
  const DataSnapshot before_merge = Snapshot(c);
  EXPECT_TRUE(IsProblem(As(moderator_).Post(ProposalPath(p, "merge"), json::object()), 409,
                        "cannot merge yet"));
  EXPECT_EQ(Snapshot(c), before_merge);

  // A request for changes from another group blocks, even with enough approvals.
  Review(industry_, p, "request_changes");
  Review(academic_, p, "approve");
  v = As(author_).Get(ProposalPath(p)).json();
  EXPECT_EQ(v["review"]["distinct_groups"], 2);
  EXPECT_EQ(v["review"]["can_merge"], false);
  EXPECT_NE(v["review"].dump().find("requests changes"), std::string::npos);
  // Changing one's mind: the latest vote counts.
  v = Review(industry_, p, "approve");
  EXPECT_EQ(v["review"]["can_merge"], true);
  EXPECT_EQ(v["status"], "approved");
}

TEST_F(ProposalsApiTest, FullFlowTwoGroupsApproveAndAModeratorMerges) {
  auto c = As(author_);
  auto reader = Anonymous();
  const std::string id = "commonwealth-cyber-declaration-2018";
  const json before = Agreement(id);
  ASSERT_EQ(before["revision"], 1);
  ASSERT_TRUE(before["codings"].empty());
  const int64_t ds_before = reader.Get("/healthz").json()["dataset_revision"];
  const int coded_before = reader.Get("/healthz").json()["coded_agreements"];

  json p = Create(c, RecodeBody(before, "capacity-building", "the declaration commits to it"));
  // Another open proposal on the same agreement, to become conflicted.
  json rival = Create(As(academic_), RecodeBody(before, "human-rights"));

  json v = Review(gov_, p, "approve");
  EXPECT_EQ(v["status"], "open");
  EXPECT_EQ(v["review"]["missing"][0],
            "needs 1 more approval from a stakeholder group other "
            "than Government");
  EXPECT_TRUE(IsProblem(As(moderator_).Post(ProposalPath(p, "merge"), json::object()), 409,
                        "needs 1 more approval"));
  v = Review(industry_, p, "approve");
  EXPECT_EQ(v["status"], "approved");
  EXPECT_EQ(v["review"]["approvals"], 2);
  EXPECT_EQ(v["review"]["distinct_groups"], 2);
  EXPECT_EQ(v["review"]["can_merge"], true);
  EXPECT_TRUE(v["review"]["missing"].empty());

  // Contributors may not merge, even approvers; a stale "revision" is refused.
  const DataSnapshot pre = Snapshot(reader, id);
  EXPECT_TRUE(IsProblem(As(gov_).Post(ProposalPath(p, "merge"), json::object()), 403,
                        "merging needs the moderator role"));
  EXPECT_TRUE(IsProblem(As(moderator_).Post(ProposalPath(p, "merge"), json{{"revision", 2}}), 409,
                        "is at revision 1"));
  EXPECT_EQ(Snapshot(reader, id), pre);

  const uint64_t seq = LastSeq(reader);
  auto r = As(moderator_).Post(ProposalPath(p, "merge"), json{{"revision", 1}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["status"], "merged");
  EXPECT_EQ(r.json()["merged_dataset_revision"], ds_before + 1);
  EXPECT_EQ(r.json()["closed_by"], moderator_->id);

  // The agreement has a new revision with the proposed codings.
  const json after = Agreement(id);
  EXPECT_EQ(after["revision"], 2);
  EXPECT_EQ(after["coded"], true);
  EXPECT_EQ(after["codings"], p["revisions"][0]["proposed"]["codings"]);
  const json health = reader.Get("/healthz").json();
  EXPECT_EQ(health["dataset_revision"], ds_before + 1);
  EXPECT_EQ(health["coded_agreements"], coded_before + 1);

  // History: who, when, which proposal, why, with the approvers.
  r = reader.Get("/api/v1/agreements/" + id + "/history");
  ASSERT_TRUE(IsStatus(r, 200));
  const json h = r.json();
  ASSERT_EQ(h["versions"].size(), 2u);
  const json& latest = h["versions"][0];
  EXPECT_EQ(latest["change"], "recoded");
  EXPECT_EQ(latest["proposal"], p["id"]);
  EXPECT_EQ(latest["agreement_revision"], 2);
  EXPECT_EQ(latest["dataset_revision"], ds_before + 1);
  EXPECT_EQ(latest["actor_name"], moderator_->name);
  EXPECT_EQ(latest["author_name"], author_->name);
  EXPECT_EQ(latest["reason"], "the declaration commits to it");
  ASSERT_EQ(latest["approvers"].size(), 2u);
  std::set<std::string> groups;
  for (const auto& ap : latest["approvers"]) groups.insert(ap["group"]);
  EXPECT_EQ(groups, (std::set<std::string>{"government", "private-sector"}));
  EXPECT_EQ(h["versions"][1]["change"], "seeded");
  ASSERT_TRUE(h["provenance"].contains("capacity-building"));
  EXPECT_EQ(h["provenance"]["capacity-building"][0]["proposal"], p["id"]);
  EXPECT_EQ(h["provenance"]["capacity-building"][0]["at"], latest["at"]);

  // The old dataset revision still shows the old version.
  const std::string old_rev = std::to_string(ds_before);
  r = reader.Get("/api/v1/agreements?limit=500&revision=" + old_rev);
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["dataset_revision"], ds_before);
  bool seen = false;
  for (const json page = r.json(); const auto& x : page["items"])
    if (x["id"] == id) {
      seen = true;
      EXPECT_EQ(x["revision"], 1);
      EXPECT_TRUE(x["codings"].empty());
    }
  EXPECT_TRUE(seen);
  r = reader.Get("/api/v1/agreements?element=capacity-building&limit=500&revision=" + old_rev);
  EXPECT_FALSE(Ids(r.json()["items"]).count(id));
  r = reader.Get("/api/v1/agreements?element=capacity-building&limit=500");
  EXPECT_TRUE(Ids(r.json()["items"]).count(id));
  // Dataset revision 1 (the seed) shows it uncoded too.
  r = reader.Get("/api/v1/agreements?revision=1&limit=500&q=" + id);
  ASSERT_TRUE(IsStatus(r, 200));
  ASSERT_EQ(r.json()["items"].size(), 1u);
  EXPECT_EQ(r.json()["items"][0]["revision"], 1);
  EXPECT_TRUE(r.json()["items"][0]["codings"].empty());
  EXPECT_EQ(r.json()["dataset_revision"], 1);
  r = reader.Get("/api/v1/agreements/" + id + "?revision=" + old_rev);
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json(), before);
  r = reader.Get("/api/v1/dataset/revisions/" + std::to_string(ds_before + 1));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["proposal"], p["id"]);

  // Events: the merge, the agreement change and the rival's conflict.
  r = reader.Get("/api/v1/events?since=" + std::to_string(seq));
  ASSERT_TRUE(IsStatus(r, 200));
  std::vector<std::string> types;
  for (const json page = WorkflowEvents(r.json()["items"]); const auto& e : page) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"proposal.merged", "agreement.changed",
                                             "proposal.conflicted"}));

  // The rival is now conflicted, cannot merge, and its diff is three-way.
  r = reader.Get(ProposalPath(rival));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["status"], "conflicted");
  EXPECT_EQ(r.json()["review"]["conflicted"], true);
  r = reader.Get("/api/v1/proposals?status=conflicted");
  EXPECT_TRUE(r.json().dump().find("\"id\":" + std::to_string(rival["id"].get<int64_t>())) !=
              std::string::npos);
  r = reader.Get(ProposalPath(rival, "diff"));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["conflicted"], true);
  EXPECT_EQ(r.json()["current_revision"], 2);
  EXPECT_TRUE(r.json().contains("three_way"));
  Review(gov_, rival, "approve");
  Review(industry_, rival, "approve");
  EXPECT_TRUE(IsProblem(As(moderator_).Post(ProposalPath(rival, "merge"), json::object()), 409,
                        "conflicted"));
  EXPECT_EQ(Agreement(id), after);

  // Merging twice is refused.
  EXPECT_TRUE(
      IsProblem(As(moderator_).Post(ProposalPath(p, "merge"), json::object()), 409, "is merged"));
}

TEST_F(ProposalsApiTest, MergedAddCreatesTheAgreement) {
  auto c = As(author_);
  auto reader = Anonymous();
  const int agreements = reader.Get("/healthz").json()["agreements"];
  json p = Create(c, json{{"kind", "add"},
                          {"agreement", NewAgreement("test-merged-accord-2023", 2023)},
                          {"rationale", "found in the 2023 records"}});
  // Adding the same id again is fine while nothing is merged; a duplicate title conflicts at merge.
  Review(gov_, p, "approve");
  Review(academic_, p, "approve");
  auto r = As(moderator_).Post(ProposalPath(p, "merge"), json::object());
  ASSERT_TRUE(IsStatus(r, 200));
  const json a = Agreement("test-merged-accord-2023");
  EXPECT_EQ(a["revision"], 1);
  EXPECT_EQ(a["year"], 2023);
  EXPECT_TRUE(a["codings"].contains("human-rights"));
  EXPECT_EQ(reader.Get("/healthz").json()["agreements"], agreements + 1);
  r = reader.Get("/api/v1/agreements/test-merged-accord-2023/history");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["versions"][0]["change"], "added");

  // Now its id exists: another add with that id is refused.
  const DataSnapshot before = Snapshot(reader);
  EXPECT_TRUE(IsProblem(
      c.Post("/api/v1/proposals", json{{"kind", "add"},
                                       {"agreement", NewAgreement("test-merged-accord-2023")},
                                       {"rationale", "again"}}),
      409, "exists already"));
  EXPECT_EQ(Snapshot(reader), before);
}

TEST_F(ProposalsApiTest, RetireNeedsThreeGroupsAndHidesTheAgreement) {
  auto c = As(author_);
  auto reader = Anonymous();
  const std::string id = "asean-us-leaders-statement-cybersecurity-2018";
  const json before = Agreement(id);
  const json health = reader.Get("/healthz").json();
  json p = Create(c, json{{"kind", "retire"},
                          {"agreement_id", id},
                          {"base_revision", before["revision"]},
                          {"rationale", "a statement, not an agreement"}});
  Review(gov_, p, "approve");
  json v = Review(industry_, p, "approve");
  EXPECT_EQ(v["review"]["can_merge"], false) << "two groups are not enough to retire";
  EXPECT_TRUE(IsProblem(As(moderator_).Post(ProposalPath(p, "merge"), json::object()), 409,
                        "needs 1 more approval"));
  v = Review(academic_, p, "approve");
  EXPECT_EQ(v["review"]["can_merge"], true);
  auto r = As(moderator_).Post(ProposalPath(p, "merge"), json::object());
  ASSERT_TRUE(IsStatus(r, 200));

  // Retired: kept and readable, but out of the listing, counts and exports.
  const json after = Agreement(id);
  EXPECT_EQ(after["retired"], true);
  EXPECT_EQ(after["revision"], before["revision"].get<int>() + 1);
  const json h = reader.Get("/healthz").json();
  EXPECT_EQ(h["agreements"], health["agreements"].get<int>() - 1);
  EXPECT_EQ(h["retired_agreements"], health["retired_agreements"].get<int>() + 1);
  EXPECT_FALSE(Ids(AllAgreements(reader)).count(id));
  EXPECT_TRUE(Ids(AllAgreements(reader, "&include_retired=true")).count(id));
  EXPECT_FALSE(Ids(reader.Get("/api/v1/export.json").json()["agreements"]).count(id));
  EXPECT_EQ(reader.Get("/api/v1/export.csv").body.find(id), std::string::npos);
  EXPECT_EQ(reader.Get("/api/v1/agreements/" + id + "/history").json()["versions"][0]["change"],
            "retired");
  // The previous dataset revision still has it.
  r = reader.Get("/api/v1/agreements/" + id +
                 "?revision=" + std::to_string(health["dataset_revision"].get<int64_t>()));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json(), before);
  // Nothing more can be proposed on it.
  const DataSnapshot snap = Snapshot(reader);
  EXPECT_TRUE(
      IsProblem(c.Post("/api/v1/proposals", RecodeBody(after, "ransomware")), 409, "is retired"));
  EXPECT_EQ(Snapshot(reader), snap);
}

TEST_F(ProposalsApiTest, ListFiltersAndCursorPagination) {
  auto admin = Admin();
  TestUser lister = CreateUser(admin, "contributor", "academia", "lister");
  auto c = As(&lister);
  const json a = Agreement("g7-dinard-declaration-2019");
  std::set<int64_t> mine;
  for (const char* element :
       {"ransomware", "attribution", "due-diligence", "cyber-hygiene", "no-harm-to-csirts"}) {
    mine.insert(Create(c, RecodeBody(a, element))["id"].get<int64_t>());
  }
  const int64_t withdrawn = *mine.begin();
  ASSERT_TRUE(IsStatus(
      c.Post("/api/v1/proposals/" + std::to_string(withdrawn) + "/withdraw", json::object()), 200));

  auto list = [&](const std::string& query) {
    auto r = c.Get("/api/v1/proposals?" + query);
    EXPECT_TRUE(IsStatus(r, 200)) << query;
    std::set<int64_t> ids;
    for (const json page = r.json(); const auto& p : page["items"])
      ids.insert(p["id"].get<int64_t>());
    return ids;
  };
  EXPECT_EQ(list("author=" + lister.name), mine);
  EXPECT_EQ(list("author=" + lister.name + "&status=withdrawn"), std::set<int64_t>{withdrawn});
  std::set<int64_t> open = mine;
  open.erase(withdrawn);
  EXPECT_EQ(list("author=" + lister.name + "&status=open"), open);
  EXPECT_EQ(list("agreement=g7-dinard-declaration-2019"), mine);
  EXPECT_EQ(list("agreement=g7-dinard-declaration-2019&kind=recode"), mine);
  EXPECT_TRUE(list("agreement=g7-dinard-declaration-2019&kind=retire").empty());
  EXPECT_TRUE(list("author=nobody-has-this-name").empty());
  for (const json page = c.Get("/api/v1/proposals?author=" + lister.name).json();
       const auto& p : page["items"]) {
    EXPECT_EQ(p["author_name"], lister.name);
    EXPECT_EQ(p["agreement_id"], "g7-dinard-declaration-2019");
    EXPECT_TRUE(p.contains("review"));
  }

  // Pages of 2 over every proposal of the server: each exactly once, in id order.
  auto all = c.Get("/api/v1/proposals?limit=500");
  ASSERT_TRUE(IsStatus(all, 200));
  const size_t total = all.json()["items"].size();
  ASSERT_GE(total, 5u);
  std::vector<int64_t> seen;
  std::string cursor;
  for (int guard = 0; guard < 500; ++guard) {
    auto r = c.Get("/api/v1/proposals?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_TRUE(IsStatus(r, 200));
    EXPECT_LE(r.json()["items"].size(), 2u);
    for (const json page = r.json(); const auto& p : page["items"]) seen.push_back(p["id"]);
    if (r.json()["next_cursor"].is_null()) break;
    cursor = r.json()["next_cursor"];
  }
  ASSERT_EQ(seen.size(), total);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1], seen[i]);

  // Filter and pagination together.
  seen.clear();
  cursor.clear();
  for (int guard = 0; guard < 50; ++guard) {
    auto r = c.Get("/api/v1/proposals?limit=1&author=" + lister.name +
                   (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_TRUE(IsStatus(r, 200));
    for (const json page = r.json(); const auto& p : page["items"]) seen.push_back(p["id"]);
    if (r.json()["next_cursor"].is_null()) break;
    cursor = r.json()["next_cursor"];
  }
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()), mine);
  EXPECT_EQ(seen.size(), mine.size());

  EXPECT_TRUE(
      IsProblem(c.Get("/api/v1/proposals?status=pending"), 400, "'pending' is not one of open"));
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/proposals?kind=delete"), 400, "'delete' is not one of"));
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/proposals?cursor=abc"), 400, "not a cursor"));
}

}  // namespace
}  // namespace normbase::testing
