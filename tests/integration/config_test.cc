// Configuration files: TOML sections and JSON objects set the same options as
// the flags, and a flag on the command line wins over the file.
#include <gtest/gtest.h>

#include <filesystem>

#include <fstream>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// The review status of a fresh retire and a fresh amend proposal.
std::pair<json, json> PolicyAsSeen(ServerProcess& server) {
  HttpClient admin = ClientFor(server, server.admin_token());
  const json paris = admin.Get("/api/v1/agreements/paris-call-2018").json();
  auto retire = admin.Post("/api/v1/proposals", json{{"kind", "retire"},
                                                     {"agreement_id", "paris-call-2018"},
                                                     {"base_revision", paris["revision"]},
                                                     {"rationale", "config test"}});
  auto amend = admin.Post("/api/v1/proposals", json{{"kind", "amend"},
                                                    {"agreement_id", "paris-call-2018"},
                                                    {"base_revision", paris["revision"]},
                                                    {"fields", {{"notes", "config test"}}},
                                                    {"rationale", "config test"}});
  EXPECT_EQ(retire.status, 201) << retire.body;
  EXPECT_EQ(amend.status, 201) << amend.body;
  return {retire.json()["review"]["missing"], amend.json()["review"]["missing"]};
}

TEST(ConfigFile, TomlSectionsSetDottedOptionsAndFlagsWin) {
  const std::string file = WriteTemp("normbase-config.toml",
                                     "# review policy\n[policy]\napprovals = 3\n"
                                     "[policy.retire]\napprovals = 5\ndistinct_groups = 4\n");
  ServerProcess server({"--config", file, "--policy.retire.approvals", "6"});
  ASSERT_TRUE(server.Start()) << server.output();
  auto [retire, amend] = PolicyAsSeen(server);
  EXPECT_EQ(amend, json::array({"needs 3 more approvals from 2 different stakeholder groups"}));
  EXPECT_EQ(retire, json::array({"needs 6 more approvals from 4 different stakeholder groups"}))
      << "the flag (6) must win over the file (5)";
}

TEST(ConfigFile, JsonObjectsWorkToo) {
  const std::string file = WriteTemp(
      "normbase-config.json", R"({"policy": {"distinct_groups": 1, "amend": {"approvals": 1}}})");
  ServerProcess server({"--config", file});
  ASSERT_TRUE(server.Start()) << server.output();
  auto [retire, amend] = PolicyAsSeen(server);
  EXPECT_EQ(amend, json::array({"needs 1 more approval"}));
  EXPECT_EQ(retire, json::array({"needs 3 more approvals from 3 different stakeholder groups"}));
}

TEST(ConfigFile, MalformedOrUnknownIsAClearStartupError) {
  auto [code, out] = ServerProcess::RunBinary(
      {"--config", WriteTemp("bad.toml", "[policy]\nno_such_option = 1\n"), "--data",
       ::testing::TempDir() + "cfg-unused"});
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("policy.no_such_option"), std::string::npos) << out;
  std::tie(code, out) = ServerProcess::RunBinary({"--config", "/nonexistent/normbase.toml"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("cannot read"), std::string::npos) << out;
}

TEST(ConfigFile, AJobListWithSomethingNoPluginCanBeCalledIsRefused) {
  const std::string data = ::testing::TempDir() + "cfg-bad-plugin";
  auto [code, out] = ServerProcess::RunBinary({"--jobs.checks", "codebook,Evil Name", "--data", data});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("'Evil Name' is not a plugin name"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(data + "/db")) << "nothing was created";
}

}  // namespace
}  // namespace normbase::testing
