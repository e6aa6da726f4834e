// Accounts, tokens and authorisation: who may do what, and that every
// refused request says why and changes nothing.
#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <regex>
#include <string>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

class AccountsApiTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    ASSERT_FALSE(server_->admin_token().empty());
  }

  static HttpClient Admin() { return ClientFor(*server_, server_->admin_token()); }
  static HttpClient As(const TestUser& u) { return ClientFor(*server_, u.token); }
  static HttpClient Anonymous() { return ClientFor(*server_); }
};

TEST_F(AccountsApiTest, BootstrapAdminIsWhoAmI) {
  auto admin = Admin();
  auto r = admin.Get("/api/v1/whoami");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["name"], "admin");
  EXPECT_EQ(r.json()["role"], "admin");
  EXPECT_EQ(r.json()["id"], 1);
  EXPECT_EQ(server_->admin_token().rfind("nb_", 0), 0u);
}

TEST_F(AccountsApiTest, AdminCreatesContributorsAndModerators) {
  auto admin = Admin();
  const std::string name = UniqueName("carol");
  auto r = admin.Post(
      "/api/v1/users",
      json{{"name", name}, {"role", "contributor"}, {"stakeholder_group", "civil-society"}});
  ASSERT_TRUE(IsStatus(r, 201));
  const json u = r.json();
  EXPECT_EQ(u["name"], name);
  EXPECT_EQ(u["role"], "contributor");
  EXPECT_EQ(u["stakeholder_group"], "civil-society");
  EXPECT_EQ(u["disabled"], false);
  const int64_t id = u["id"];

  r = admin.Post("/api/v1/users", json{{"name", UniqueName("mod")},
                                       {"role", "moderator"},
                                       {"stakeholder_group", "government"}});
  ASSERT_TRUE(IsStatus(r, 201));
  EXPECT_EQ(r.json()["role"], "moderator");

  // Users are readable; moderators and admins may list them.
  r = Anonymous().Get("/api/v1/users/" + std::to_string(id));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["name"], name);
  r = admin.Get("/api/v1/users");
  ASSERT_TRUE(IsStatus(r, 200));
  bool found = false;
  for (const json page = r.json(); const auto& x : page["items"]) found |= x["name"] == name;
  EXPECT_TRUE(found);
  EXPECT_TRUE(IsProblem(Anonymous().Get("/api/v1/users/999999"), 404, "user 999999"));
}

TEST_F(AccountsApiTest, IssuedTokenWorksAndIsNeverShownAgain) {
  auto admin = Admin();
  TestUser u = CreateUser(admin, "contributor", "academia", "dana");
  auto r = admin.Post("/api/v1/users/" + std::to_string(u.id) + "/tokens", json{{"label", "cli"}});
  ASSERT_TRUE(IsStatus(r, 201));
  const json t = r.json();
  const std::string token = t["token"];
  EXPECT_EQ(token.rfind("nb_", 0), 0u);
  EXPECT_EQ(t["user_id"], u.id);
  EXPECT_EQ(t["label"], "cli");
  EXPECT_EQ(t["revoked"], false);

  auto me = ClientFor(*server_, token);
  r = me.Get("/api/v1/whoami");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["name"], u.name);
  EXPECT_EQ(r.json()["role"], "contributor");

  // Listing shows the tokens' ids and labels, never a token or its hash.
  for (HttpClient* c : {&admin, &me}) {
    r = c->Get("/api/v1/users/" + std::to_string(u.id) + "/tokens");
    ASSERT_TRUE(IsStatus(r, 200));
    const json items = r.json()["items"];
    ASSERT_EQ(items.size(), 2u);
    for (const auto& item : items) {
      EXPECT_FALSE(item.contains("token")) << item.dump();
      EXPECT_FALSE(item.contains("hash")) << item.dump();
      EXPECT_FALSE(item.contains("token_hash")) << item.dump();
    }
    EXPECT_EQ(r.body.find(token), std::string::npos);
    EXPECT_EQ(r.body.find(u.token), std::string::npos);
    EXPECT_FALSE(std::regex_search(r.body, std::regex("[0-9a-fA-F]{64}"))) << r.body;
    EXPECT_EQ(r.body.find("nb_"), std::string::npos) << r.body;
  }
}

TEST_F(AccountsApiTest, RevokedTokenGets401) {
  auto admin = Admin();
  TestUser u = CreateUser(admin, "contributor", "technical-community", "erin");
  auto me = As(u);
  ASSERT_TRUE(IsStatus(me.Get("/api/v1/whoami"), 200));
  auto list = admin.Get("/api/v1/users/" + std::to_string(u.id) + "/tokens");
  ASSERT_TRUE(IsStatus(list, 200));
  const int64_t token_id = list.json()["items"][0]["id"];

  auto r =
      admin.Delete("/api/v1/users/" + std::to_string(u.id) + "/tokens/" + std::to_string(token_id));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["revoked"], true);
  EXPECT_FALSE(r.json().contains("token"));

  r = me.Get("/api/v1/whoami");
  EXPECT_TRUE(IsProblem(r, 401, "unknown or revoked"));
  EXPECT_NE(r.header("www-authenticate").find("Bearer"), std::string::npos);
  EXPECT_TRUE(IsProblem(me.Post("/api/v1/proposals", json{{"kind", "retire"}}), 401, "revoked"));

  // Revoking twice, or a token that does not exist, is refused.
  const uint64_t seq = LastSeq(admin);
  EXPECT_TRUE(IsProblem(
      admin.Delete("/api/v1/users/" + std::to_string(u.id) + "/tokens/" + std::to_string(token_id)),
      409, "already revoked"));
  EXPECT_TRUE(IsProblem(admin.Delete("/api/v1/users/" + std::to_string(u.id) + "/tokens/99999"),
                        404, "no token 99999"));
  EXPECT_EQ(LastSeq(admin), seq);
}

TEST_F(AccountsApiTest, UsersMayRevokeTheirOwnTokensButNotOthers) {
  auto admin = Admin();
  TestUser a = CreateUser(admin, "contributor", "academia", "fred");
  TestUser b = CreateUser(admin, "contributor", "academia", "gina");
  auto me = As(a);
  auto mine = me.Get("/api/v1/users/" + std::to_string(a.id) + "/tokens");
  ASSERT_TRUE(IsStatus(mine, 200));
  auto theirs = admin.Get("/api/v1/users/" + std::to_string(b.id) + "/tokens");
  ASSERT_TRUE(IsStatus(theirs, 200));
  const int64_t their_token = theirs.json()["items"][0]["id"];

  const DataSnapshot before = Snapshot(admin);
  EXPECT_TRUE(IsProblem(me.Get("/api/v1/users/" + std::to_string(b.id) + "/tokens"), 403,
                        "needs the admin role"));
  EXPECT_TRUE(IsProblem(
      me.Delete("/api/v1/users/" + std::to_string(b.id) + "/tokens/" + std::to_string(their_token)),
      403, "admin role"));
  EXPECT_TRUE(
      IsProblem(me.Post("/api/v1/users/" + std::to_string(a.id) + "/tokens", json::object()), 403,
                "issuing a token needs the admin role"));
  EXPECT_EQ(Snapshot(admin), before);
  ASSERT_TRUE(IsStatus(As(b).Get("/api/v1/whoami"), 200));

  const int64_t my_token = mine.json()["items"][0]["id"];
  auto r =
      me.Delete("/api/v1/users/" + std::to_string(a.id) + "/tokens/" + std::to_string(my_token));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(IsProblem(me.Get("/api/v1/whoami"), 401));
}

TEST_F(AccountsApiTest, DisabledUserGets401UntilEnabledAgain) {
  auto admin = Admin();
  TestUser u = CreateUser(admin, "contributor", "private-sector", "hank");
  auto me = As(u);
  ASSERT_TRUE(IsStatus(me.Get("/api/v1/whoami"), 200));

  auto r = admin.Patch("/api/v1/users/" + std::to_string(u.id), json{{"disabled", true}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["disabled"], true);
  EXPECT_TRUE(IsProblem(me.Get("/api/v1/whoami"), 401, "disabled"));
  const DataSnapshot before = Snapshot(admin);
  EXPECT_TRUE(IsProblem(me.Post("/api/v1/proposals", RecodeBody(before.agreement, "ransomware")),
                        401, "disabled"));
  EXPECT_EQ(Snapshot(admin), before);

  r = admin.Patch("/api/v1/users/" + std::to_string(u.id), json{{"disabled", false}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(IsStatus(me.Get("/api/v1/whoami"), 200));
}

TEST_F(AccountsApiTest, PatchChangesRoleAndGroupAndRefusesNonsense) {
  auto admin = Admin();
  TestUser u = CreateUser(admin, "contributor", "academia", "ivan");
  const std::string path = "/api/v1/users/" + std::to_string(u.id);
  auto r = admin.Patch(path, json{{"role", "moderator"}, {"stakeholder_group", "government"}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["role"], "moderator");
  EXPECT_EQ(r.json()["stakeholder_group"], "government");
  EXPECT_EQ(As(u).Get("/api/v1/whoami").json()["role"], "moderator");

  const DataSnapshot before = Snapshot(admin);
  EXPECT_TRUE(IsProblem(admin.Patch(path, json{{"role", "king"}}), 400, "role"));
  EXPECT_TRUE(IsProblem(admin.Patch(path, json{{"stakeholder_group", "aliens"}}), 400,
                        "stakeholder_group"));
  EXPECT_TRUE(IsProblem(admin.Patch(path, json{{"disabled", "yes"}}), 400, "true or false"));
  EXPECT_TRUE(IsProblem(admin.Patch(path, json{{"name", "renamed"}}), 400, "unknown field"));
  EXPECT_TRUE(IsProblem(admin.Patch(path, json::array()), 400, "JSON object"));
  EXPECT_TRUE(IsProblem(admin.Patch("/api/v1/users/424242", json{{"disabled", true}}), 404,
                        "user 424242 does not exist"));
  EXPECT_TRUE(IsProblem(As(u).Patch(path, json{{"role", "admin"}}), 403, "admin role"));
  EXPECT_EQ(Snapshot(admin), before);
}

TEST_F(AccountsApiTest, CreateUserRefusesBadInput) {
  auto admin = Admin();
  TestUser existing = CreateUser(admin, "contributor", "academia", "jill");
  const DataSnapshot before = Snapshot(admin);
  struct Case {
    json body;
    int status;
    const char* detail;
  } cases[] = {
      {json{{"name", existing.name}, {"role", "contributor"}, {"stakeholder_group", "academia"}},
       409, "exists already"},
      {json{{"name", "has space"}, {"role", "contributor"}, {"stakeholder_group", "academia"}}, 400,
       "must be 1-64 characters"},
      {json{{"name", ""}, {"stakeholder_group", "academia"}}, 400, "name"},
      {json{{"role", "contributor"}, {"stakeholder_group", "academia"}}, 400, "name: is required"},
      {json{{"name", 42}, {"stakeholder_group", "academia"}}, 400, "name: is required"},
      {json{{"name", UniqueName("k")}, {"role", "overlord"}, {"stakeholder_group", "academia"}},
       400, "'overlord' is not one of contributor, moderator, admin"},
      {json{{"name", UniqueName("k")}, {"role", "contributor"}, {"stakeholder_group", "aliens"}},
       400, "'aliens' is not a stakeholder group"},
      {json{{"name", UniqueName("k")}, {"role", "contributor"}}, 400,
       "stakeholder_group: is required"},
      {json{{"name", UniqueName("k")},
            {"role", "contributor"},
            {"stakeholder_group", "academia"},
            {"email", "k@example.org"}},
       400, "email: unknown field"},
      {json::array({"x"}), 400, "expected a JSON object"},
  };
  for (const auto& c : cases)
    EXPECT_TRUE(IsProblem(admin.Post("/api/v1/users", c.body), c.status, c.detail))
        << c.body.dump();
  EXPECT_TRUE(IsProblem(admin.Post("/api/v1/users/987654/tokens", json::object()), 404,
                        "user 987654 does not exist"));
  EXPECT_EQ(Snapshot(admin), before);
}

TEST_F(AccountsApiTest, ContributorCannotAdministerImportMergeOrReject) {
  auto admin = Admin();
  TestUser contributor = CreateUser(admin, "contributor", "civil-society", "kim");
  auto c = As(contributor);
  // A proposal to merge or reject, by someone else.
  const json paris = admin.Get(std::string("/api/v1/agreements/") + kParisCall).json();
  auto p = admin.Post("/api/v1/proposals", RecodeBody(paris, "ransomware"));
  ASSERT_TRUE(IsStatus(p, 201));
  const std::string pid = std::to_string(p.json()["id"].get<int64_t>());

  const DataSnapshot before = Snapshot(admin);
  EXPECT_TRUE(IsProblem(c.Post("/api/v1/users", json{{"name", UniqueName("x")},
                                                     {"role", "contributor"},
                                                     {"stakeholder_group", "academia"}}),
                        403, "creating a user needs the admin role"));
  EXPECT_TRUE(IsProblem(c.Get("/api/v1/users"), 403, "needs the moderator role"));
  EXPECT_TRUE(IsProblem(c.Post("/api/v1/import?dry_run=true", json::array()), 403,
                        "importing needs the admin role"));
  EXPECT_TRUE(IsProblem(c.Post("/api/v1/import", json::array()), 403, "importing"));
  EXPECT_TRUE(IsProblem(c.Post("/api/v1/proposals/" + pid + "/merge", json::object()), 403,
                        "merging needs the moderator role"));
  EXPECT_TRUE(IsProblem(
      c.Post("/api/v1/proposals/" + pid + "/reject", json{{"reason", "I do not like it"}}), 403,
      "rejecting needs the moderator role"));
  EXPECT_TRUE(IsProblem(c.Post("/api/v1/proposals/" + pid + "/withdraw", json::object()), 403,
                        "only the author"));
  EXPECT_TRUE(
      IsProblem(c.Patch("/api/v1/users/" + std::to_string(contributor.id), json{{"role", "admin"}}),
                403, "admin role"));
  EXPECT_EQ(Snapshot(admin), before);
  EXPECT_EQ(admin.Get("/api/v1/proposals/" + pid).json()["status"], "open");
}

TEST_F(AccountsApiTest, ModeratorCannotCreateUsersOrImport) {
  auto admin = Admin();
  TestUser moderator = CreateUser(admin, "moderator", "government", "lee");
  auto m = As(moderator);
  const DataSnapshot before = Snapshot(admin);
  EXPECT_TRUE(IsProblem(
      m.Post("/api/v1/users", json{{"name", UniqueName("y")},
                                   {"role", "contributor"},
                                   {"stakeholder_group", "academia"}}),
      403, "creating a user needs the admin role; user '" + moderator.name + "' is a moderator"));
  EXPECT_TRUE(IsProblem(m.Post("/api/v1/import", json::array()), 403, "importing"));
  EXPECT_TRUE(IsProblem(m.Post("/api/v1/users/1/tokens", json::object()), 403, "admin role"));
  EXPECT_EQ(Snapshot(admin), before);
  // What a moderator may do: list users.
  EXPECT_TRUE(IsStatus(m.Get("/api/v1/users"), 200));
}

TEST_F(AccountsApiTest, WritesNeedAValidBearerToken) {
  auto admin = Admin();
  const json paris = admin.Get(std::string("/api/v1/agreements/") + kParisCall).json();
  const std::string proposal = RecodeBody(paris, "ransomware").dump();
  const std::string user =
      json{{"name", UniqueName("z")}, {"role", "contributor"}, {"stakeholder_group", "academia"}}
          .dump();
  struct Case {
    std::string authorization;  // empty: none sent
    const char* detail;
  } cases[] = {
      {"", "send 'Authorization: Bearer <token>'"},
      {"Bearer nb_thisTokenDoesNotExist000000000000000000000", "unknown or revoked"},
      {"Bearer " + server_->admin_token() + "x", "unknown or revoked"},
      {"Basic YWRtaW46YWRtaW4=", "must be 'Bearer <token>'"},
      {"Bearer", "must be 'Bearer <token>'"},
      {"Bearer ", "must be 'Bearer <token>'"},
      {server_->admin_token(), "must be 'Bearer <token>'"},
      {"Token " + server_->admin_token(), "must be 'Bearer <token>'"},
  };
  const DataSnapshot before = Snapshot(admin);
  HttpClient c(server_->base_url());
  for (const auto& k : cases) {
    // Empty string means "do not send the header".
    const std::map<std::string, std::string> h = {{"Authorization", k.authorization}};
    auto r = c.Request("POST", "/api/v1/proposals", proposal, h);
    EXPECT_TRUE(IsProblem(r, 401, k.detail)) << "Authorization: " << k.authorization;
    EXPECT_NE(r.header("www-authenticate").find("Bearer"), std::string::npos);
    EXPECT_TRUE(IsProblem(c.Request("POST", "/api/v1/users", user, h), 401))
        << "Authorization: " << k.authorization;
    EXPECT_TRUE(IsProblem(c.Request("POST", "/api/v1/import?dry_run=true", "[]", h), 401));
    EXPECT_TRUE(IsProblem(c.Request("GET", "/api/v1/whoami", "", h), 401));
  }
  EXPECT_EQ(Snapshot(admin), before);
}

TEST_F(AccountsApiTest, TheBearerSchemeIsCaseInsensitive) {
  // RFC 9110 section 11.1: the scheme name is case-insensitive; the token is not.
  HttpClient c(server_->base_url());
  for (const std::string scheme : {"bearer ", "BEARER ", "bEaReR "}) {
    const std::map<std::string, std::string> h = {
        {"Authorization", scheme + server_->admin_token()}};
    auto r = c.Request("GET", "/api/v1/whoami", "", h);
    ASSERT_TRUE(IsStatus(r, 200)) << "Authorization: " << scheme << "<token>";
    EXPECT_EQ(r.json()["name"], "admin");
    // A write, too: the same check guards every authed route.
    const json user{
        {"name", UniqueName("lower")}, {"role", "contributor"}, {"stakeholder_group", "academia"}};
    EXPECT_TRUE(IsStatus(c.Request("POST", "/api/v1/users", user.dump(), h), 201)) << scheme;
  }
  const std::string lowered_token = [] {
    std::string t = server_->admin_token();
    for (auto& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return t;
  }();
  ASSERT_NE(lowered_token, server_->admin_token()) << "the token has no upper-case letter";
  EXPECT_TRUE(IsProblem(
      c.Request("GET", "/api/v1/whoami", "", {{"Authorization", "bearer " + lowered_token}}), 401,
      "unknown or revoked"));

  const DataSnapshot before = Snapshot(c);
  auto r = c.Request("GET", "/api/v1/whoami", "", {{"Authorization", "Basic x"}});
  EXPECT_TRUE(IsProblem(r, 401, "must be 'Bearer <token>'"));
  EXPECT_NE(r.header("www-authenticate").find("Bearer"), std::string::npos);
  EXPECT_TRUE(IsProblem(c.Request("POST", "/api/v1/users",
                                  json{{"name", UniqueName("basic")},
                                       {"role", "contributor"},
                                       {"stakeholder_group", "academia"}}
                                      .dump(),
                                  {{"Authorization", "Basic x"}}),
                        401, "must be 'Bearer <token>'"));
  EXPECT_EQ(Snapshot(c), before);
}

TEST_F(AccountsApiTest, TheLastActiveAdminCannotBeDemotedOrDisabled) {
  auto admin = Admin();
  const json me = admin.Get("/api/v1/whoami").json();
  const std::string self = "/api/v1/users/" + std::to_string(me["id"].get<int64_t>());

  // The bootstrap admin is the only admin: neither change is allowed.
  DataSnapshot before = Snapshot(admin);
  EXPECT_TRUE(IsProblem(admin.Patch(self, json{{"role", "moderator"}}), 409, "last active admin"));
  EXPECT_TRUE(IsProblem(admin.Patch(self, json{{"disabled", true}}), 409, "last active admin"));
  EXPECT_TRUE(
      IsProblem(admin.Patch(self, json{{"role", "contributor"}, {"stakeholder_group", "academia"}}),
                409, "make another admin first"));
  EXPECT_EQ(Snapshot(admin), before);
  auto r = admin.Get(self);
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["role"], "admin");
  EXPECT_EQ(r.json()["disabled"], false);
  EXPECT_TRUE(IsStatus(admin.Get("/api/v1/whoami"), 200));

  // With a second admin, demoting one of the two works ...
  TestUser second = CreateUser(admin, "admin", "government", "second-admin");
  r = admin.Patch("/api/v1/users/" + std::to_string(second.id), json{{"role", "moderator"}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["role"], "moderator");
  EXPECT_EQ(As(second).Get("/api/v1/whoami").json()["role"], "moderator");
  // ... and an admin may demote itself while another remains.
  TestUser third = CreateUser(admin, "admin", "government", "third-admin");
  r = As(third).Patch("/api/v1/users/" + std::to_string(third.id), json{{"role", "moderator"}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["role"], "moderator");

  // A disabled admin is not an active one: it does not let the last active admin go.
  TestUser disabled = CreateUser(admin, "admin", "government", "disabled-admin");
  ASSERT_TRUE(IsStatus(
      admin.Patch("/api/v1/users/" + std::to_string(disabled.id), json{{"disabled", true}}), 200));
  before = Snapshot(admin);
  EXPECT_TRUE(IsProblem(admin.Patch(self, json{{"disabled", true}}), 409, "last active admin"));
  EXPECT_TRUE(IsProblem(admin.Patch(self, json{{"role", "moderator"}}), 409, "last active admin"));
  EXPECT_EQ(Snapshot(admin), before);
  EXPECT_EQ(admin.Get("/api/v1/whoami").json()["role"], "admin");
}

// Without moderator_merge, whoever approved the current revision may merge;
// a contributor without such an approval may not.
TEST(ApproverMergeTest, AnApproverOfTheCurrentRevisionMergesOthersGet403) {
  ServerProcess server({"--policy.moderator_merge", "false"});
  ASSERT_TRUE(server.Start()) << server.output();
  auto admin = ClientFor(server, server.admin_token());
  const TestUser author = CreateUser(admin, "contributor", "academia", "author");
  const TestUser gov = CreateUser(admin, "contributor", "government", "gov");
  const TestUser biz = CreateUser(admin, "contributor", "private-sector", "biz");
  const TestUser bystander = CreateUser(admin, "contributor", "civil-society", "bystander");
  auto as = [&](const TestUser& u) { return ClientFor(server, u.token); };

  const json paris = admin.Get(std::string("/api/v1/agreements/") + kParisCall).json();
  auto r = as(author).Post("/api/v1/proposals", RecodeBody(paris, "ransomware"));
  ASSERT_TRUE(IsStatus(r, 201));
  const std::string path = "/api/v1/proposals/" + std::to_string(r.json()["id"].get<int64_t>());
  for (const TestUser* u : {&gov, &biz})
    ASSERT_TRUE(IsStatus(as(*u).Post(path + "/reviews", json{{"verdict", "approve"}}), 201));
  ASSERT_EQ(admin.Get(path).json()["review"]["can_merge"], true) << admin.Get(path).body;

  // A new revision makes the approvals stale: approving revision 1 is not enough.
  json revision = RecodeBody(paris, "ransomware", "a better reason");
  revision["codings"]["ransomware"]["note"] = "revised";
  revision.erase("kind");
  revision.erase("agreement_id");
  ASSERT_TRUE(IsStatus(as(author).Post(path + "/revisions", revision), 201));
  ASSERT_TRUE(IsStatus(as(bystander).Post(path + "/reviews", json{{"verdict", "approve"}}), 201));
  ASSERT_TRUE(IsStatus(as(biz).Post(path + "/reviews", json{{"verdict", "approve"}}), 201));
  ASSERT_EQ(admin.Get(path).json()["review"]["can_merge"], true) << admin.Get(path).body;

  const DataSnapshot before = Snapshot(admin);
  EXPECT_TRUE(IsProblem(as(gov).Post(path + "/merge", json::object()), 403,
                        "an approval of its current revision"))
      << "gov approved revision 1 only";
  EXPECT_TRUE(IsProblem(as(author).Post(path + "/merge", json::object()), 403, "approval"));
  EXPECT_EQ(Snapshot(admin), before);
  EXPECT_EQ(admin.Get(path).json()["status"], "approved") << "still open, ready to merge";

  r = as(bystander).Post(path + "/merge", json::object());
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.json()["status"], "merged");
  const json after = admin.Get(std::string("/api/v1/agreements/") + kParisCall).json();
  EXPECT_EQ(after["revision"], paris["revision"].get<int>() + 1);
  EXPECT_TRUE(after["codings"].contains("ransomware"));
}

}  // namespace
}  // namespace normbase::testing
