// The normbase CLI against a real server: every command, its exit codes, its
// text and --json output, and the server state it leaves (checked through
// the API, not through the CLI itself).
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_runner.h"
#include "cli/tcp_relay.h"
#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The CLI's documented exit codes (docs/cli.md).
constexpr int kOk = 0, kFailed = 1, kUsage = 2, kUnreachable = 3, kAuth = 4, kConflict = 5;
// A port nothing listens on (tcpmux, never served on a test machine).
constexpr char kDeadServer[] = "http://127.0.0.1:1";

std::string Describe(const CliResult& r) {
  return "exit " + std::to_string(r.code) + "\n--- stdout\n" + r.out + "\n--- stderr\n" + r.err;
}

json Parse(const CliResult& r) {
  auto j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "stdout is not JSON:\n" << Describe(r);
  return j;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

class CliTest : public SharedServerTest {
 protected:
  // No local workers: the CLI tests do not need checks to run, and idle
  // workers would only compete for the CPU.
  static void SetUpTestSuite() { StartShared({"--workers", "0"}); }

  void SetUp() override {
    SharedServerTest::SetUp();
    admin_ = std::make_unique<HttpClient>(ClientFor(*server_, server_->admin_token()));
    cli_ = std::make_unique<CliRunner>();
    // Signed in as the admin unless a test passes --token.
    auto r =
        cli_->Run({"login", "--server", server_->base_url(), "--token", server_->admin_token()});
    ASSERT_EQ(r.code, kOk) << Describe(r);
  }

  CliResult As(const TestUser& u, std::vector<std::string> args) {
    args.insert(args.begin(), {"--token", u.token});
    return cli_->Run(args);
  }
  std::string File(const std::string& name, const std::string& text) {
    const std::string path = cli_->home() + "/" + name;
    WriteFile(path, text);
    return path;
  }
  json Proposal(int64_t id) {
    auto r = admin_->Get("/api/v1/proposals/" + std::to_string(id));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }

  std::unique_ptr<HttpClient> admin_;
  std::unique_ptr<CliRunner> cli_;
};

// ---- configuration and sign-in ------------------------------------------------------

TEST_F(CliTest, LoginStoresServerAndTokenInAPrivateFile) {
  struct stat st {};
  ASSERT_EQ(::stat(cli_->config_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(fs::path(cli_->config_path()).parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::ifstream in(cli_->config_path());
  const json stored = json::parse(in);
  EXPECT_EQ(stored["server"], server_->base_url());
  EXPECT_EQ(stored["token"], server_->admin_token());

  auto r = cli_->Run({"whoami", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_EQ(Parse(r)["name"], "admin");
  r = cli_->Run({"whoami"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_NE(r.out.find("admin"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("from " + cli_->config_path()), std::string::npos) << r.out;
}

TEST_F(CliTest, EnvironmentOverridesTheFileAndFlagsOverrideTheEnvironment) {
  const TestUser ana = CreateUser(*admin_, "contributor", "civil-society", "ana");
  cli_->SetEnv("NORMBASE_TOKEN", ana.token);
  auto r = cli_->Run({"whoami", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_EQ(Parse(r)["name"], ana.name);
  r = cli_->Run({"--token", server_->admin_token(), "whoami", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_EQ(Parse(r)["name"], "admin");

  cli_->SetEnv("NORMBASE_SERVER", kDeadServer);
  r = cli_->Run({"whoami"});
  EXPECT_EQ(r.code, kUnreachable) << Describe(r);
  EXPECT_NE(r.err.find("NORMBASE_SERVER"), std::string::npos)
      << "says where the URL came from: " << r.err;
  r = cli_->Run({"whoami", "--server", server_->base_url()});
  EXPECT_EQ(r.code, kOk) << Describe(r);
}

TEST_F(CliTest, LoginWithABadTokenSavesNothingAndLogoutForgetsTheToken) {
  CliRunner fresh;
  auto r = fresh.Run({"login", "--server", server_->base_url(), "--token", "nb_not-a-real-token"});
  EXPECT_EQ(r.code, kAuth) << Describe(r);
  EXPECT_NE(r.err.find("not saved"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(fresh.config_path()));
  r = fresh.Run({"login", "--server", "ftp://example", "--token", "x"});
  EXPECT_EQ(r.code, kUsage) << Describe(r);
  EXPECT_FALSE(fs::exists(fresh.config_path()));

  // The token can come from standard input (not the shell history), and
  // XDG_CONFIG_HOME moves the file.
  fresh.SetEnv("XDG_CONFIG_HOME", fresh.home() + "/xdg");
  r = fresh.Run({"login", "--server", server_->base_url(), "--token", "-"},
                server_->admin_token() + "\n");
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_TRUE(fs::exists(fresh.home() + "/xdg/normbase/config.json"));

  r = fresh.Run({"logout"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  r = fresh.Run({"whoami"});
  EXPECT_EQ(r.code, kAuth) << Describe(r);
  EXPECT_NE(r.err.find("normbase login"), std::string::npos) << "tells how to sign in: " << r.err;
}

TEST_F(CliTest, WarnsWhenTheConfigFileIsReadableByOthers) {
  ASSERT_EQ(::chmod(cli_->config_path().c_str(), 0644), 0);
  auto r = cli_->Run({"whoami"});
  EXPECT_EQ(r.code, kOk) << Describe(r);
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
  WriteFile(cli_->config_path(), "{not json");
  r = cli_->Run({"whoami"});
  EXPECT_EQ(r.code, kUsage) << Describe(r);
  EXPECT_NE(r.err.find("normbase login"), std::string::npos) << r.err;
}

// ---- usage, help, exit codes --------------------------------------------------------

TEST_F(CliTest, UsageErrorsExitTwoAndChangeNothing) {
  const DataSnapshot before = Snapshot(*admin_);
  const std::string bad_yaml = File("bad.yaml", "id: x\ntitle: a: b\nyear: 2024\n");
  const std::string not_object = File("list.json", "[1, 2]");
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"no-such-command"},
      {"show"},
      {"show", "twelve"},
      {"review", "1"},
      {"review", "1", "--approve", "--request-changes"},
      {"reject", "1"},
      {"propose", "add", cli_->home() + "/missing.yaml"},
      {"propose", "add", bad_yaml},
      {"propose", "add", not_object},
      {"propose", "recode", kParisCall, bad_yaml},
      {"import", bad_yaml, "--dry-run"},
      {"export", "--csv", "--json"},
      {"agreements", "--limit", "0"},
      {"completion", "fish"},
  };
  for (const auto& args : cases) {
    auto r = cli_->Run(args);
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    EXPECT_EQ(r.code, kUsage) << cmd << "\n" << Describe(r);
    EXPECT_FALSE(r.err.empty()) << cmd << ": a usage error says what is wrong";
  }
  auto r = cli_->Run({"propose", "add", bad_yaml});
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << "names the line: " << r.err;
  EXPECT_EQ(Snapshot(*admin_), before);
}

TEST_F(CliTest, HelpOnEveryCommand) {
  // Every command the completion script knows, so a new command cannot skip --help.
  auto script = cli_->Run({"completion", "bash"});
  ASSERT_EQ(script.code, kOk) << Describe(script);
  std::vector<std::vector<std::string>> paths;
  std::istringstream in(script.out);
  for (std::string line; std::getline(in, line);) {
    // Lines of the command table look like:  ['normbase propose add']='...'
    if (line.rfind("  ['", 0) != 0 || line.find("']='") == std::string::npos) continue;
    const std::string path = line.substr(4, line.find("']='") - 4);
    std::vector<std::string> words;
    std::istringstream ws(path);
    for (std::string w; ws >> w;) words.push_back(w);
    if (words.size() > 1) paths.push_back(std::vector<std::string>(words.begin() + 1, words.end()));
  }
  ASSERT_GT(paths.size(), 30u) << script.out;
  for (auto args : paths) {
    args.push_back("--help");
    auto r = cli_->Run(args);
    EXPECT_EQ(r.code, kOk) << args[0] << "\n" << Describe(r);
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << args[0] << "\n" << r.out;
  }
  auto r = cli_->Run({"--help"});
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
}

TEST_F(CliTest, AnUnreachableServerExitsThree) {
  auto r = cli_->Run({"--server", kDeadServer, "agreements"});
  EXPECT_EQ(r.code, kUnreachable) << Describe(r);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << "one readable line: " << r.err;
  r = cli_->Run({"--server", kDeadServer, "--json", "proposals"});
  EXPECT_EQ(r.code, kUnreachable);
  EXPECT_EQ(Parse(r)["exit_code"], kUnreachable);
}

// ---- the review workflow ------------------------------------------------------------

TEST_F(CliTest, AddFromYamlIsReviewedByTwoGroupsAndMerged) {
  const TestUser ana = CreateUser(*admin_, "contributor", "civil-society", "ana");
  const TestUser mo = CreateUser(*admin_, "moderator", "government", "mo");
  const TestUser pat = CreateUser(*admin_, "contributor", "private-sector", "pat");
  const std::string id = UniqueName("cli-add") + "-2024";
  const std::string file =
      File("add.yaml", "id: " + id +
                           "\n"
                           "title: A YAML declaration\n"
                           "year: 2024\n"
                           "kind: bilateral\n"
                           "leading_stakeholders: [government]\n"
                           "parties: \"1990\"  # quoted: stays a string\n"
                           "codings:\n"
                           "  human-rights:\n"
                           "    evidence:\n"
                           "      - quote: Both parties respect human rights online.\n"
                           "        locator: art. 1\n"
                           "    note: operative\n");
  auto r = As(ana, {"propose", "add", file, "-m", "read in full", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  const int64_t pid = Parse(r)["id"].get<int64_t>();
  const std::string p = std::to_string(pid);
  json proposal = Proposal(pid);
  EXPECT_EQ(proposal["kind"], "add");
  const json proposed = proposal["revisions"][0]["proposed"];
  EXPECT_EQ(proposed["year"], 2024);
  EXPECT_EQ(proposed["parties"], "1990");
  EXPECT_EQ(proposed["codings"]["human-rights"]["evidence"][0]["locator"], "art. 1");
  EXPECT_EQ(proposal["revisions"][0]["rationale"], "read in full");

  r = cli_->Run({"show", p});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_NE(r.out.find("+ human-rights"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Both parties respect human rights online."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("can merge: no"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("missing: "), std::string::npos) << r.out;
  if (proposal["checks"].empty()) {
    EXPECT_NE(r.out.find("no checks yet"), std::string::npos) << r.out;
  } else {
    for (const auto& c : proposal["checks"])
      EXPECT_NE(r.out.find(c["plugin"].get<std::string>()), std::string::npos) << r.out;
  }
  EXPECT_EQ(r.out.find("\x1b["), std::string::npos) << "no colours off a terminal";
  r = cli_->Run({"show", p, "--color", "always"});
  EXPECT_NE(r.out.find("\x1b["), std::string::npos) << "colours when asked";

  r = As(mo, {"review", p, "--approve", "-m", "sources check out"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_NE(r.out.find("missing"), std::string::npos) << r.out;
  r = As(pat, {"review", "#" + p, "--approve"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  r = cli_->Run({"show", p, "--json"});
  ASSERT_EQ(r.code, kOk);
  EXPECT_EQ(Parse(r)["proposal"]["review"]["can_merge"], true);
  EXPECT_EQ(Parse(r)["diff"]["diff"]["elements"][0]["element"], "human-rights");

  r = As(mo, {"merge", p});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_NE(r.out.find("Merged proposal #" + p), std::string::npos) << r.out;
  EXPECT_EQ(Proposal(pid)["state"], "merged");
  auto a = admin_->Get("/api/v1/agreements/" + id);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json()["revision"], 1);

  r = cli_->Run({"history", id, "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_EQ(Parse(r)["versions"][0]["change"], "added");
  r = cli_->Run({"history", id});
  EXPECT_NE(r.out.find(ana.name), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(mo.name), std::string::npos) << r.out;
  r = cli_->Run({"agreements", "-q", id, "--json"});
  ASSERT_EQ(r.code, kOk);
  ASSERT_EQ(Parse(r)["items"].size(), 1u);
  r = cli_->Run({"proposals", "--agreement", id, "--status", "merged"});
  EXPECT_NE(r.out.find("#" + p), std::string::npos) << r.out;
}

TEST_F(CliTest, AMergeThePolicyRefusesExitsFiveWithTheReasonAndChangesNothing) {
  const TestUser ana = CreateUser(*admin_, "contributor", "civil-society", "ana");
  const TestUser mo = CreateUser(*admin_, "moderator", "government", "mo");
  HttpClient as_ana = ClientFor(*server_, ana.token);
  auto created =
      as_ana.Post("/api/v1/proposals",
                  RecodeBody(admin_->Get(std::string("/api/v1/agreements/") + kTechAccord).json(),
                             "human-rights"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string p = std::to_string(created.json()["id"].get<int64_t>());
  auto r = As(mo, {"review", p, "--approve"});
  ASSERT_EQ(r.code, kOk) << Describe(r);

  const DataSnapshot before = Snapshot(*admin_);
  r = As(mo, {"merge", p});
  EXPECT_EQ(r.code, kConflict) << Describe(r);
  EXPECT_EQ(Lines(r.err), 1) << "one readable line: " << r.err;
  EXPECT_NE(r.err.find("cannot merge yet"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("needs 1 more approval"), std::string::npos)
      << "says what is missing: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  r = As(mo, {"merge", p, "--json"});
  EXPECT_EQ(r.code, kConflict);
  const json problem = Parse(r);
  EXPECT_EQ(problem["status"], 409);
  EXPECT_EQ(problem["exit_code"], kConflict);
  EXPECT_NE(problem["detail"].get<std::string>().find("cannot merge yet"), std::string::npos);

  r = As(ana, {"merge", p});  // not a moderator, not an approver
  EXPECT_EQ(r.code, kAuth) << Describe(r);
  EXPECT_EQ(Snapshot(*admin_), before);
  EXPECT_EQ(Proposal(std::stoll(p))["state"], "open");
}

TEST_F(CliTest, RecodeFromJsonThenReviseCommentReviewAndWithdraw) {
  const TestUser ana = CreateUser(*admin_, "contributor", "civil-society", "ana");
  const TestUser mo = CreateUser(*admin_, "moderator", "government", "mo");
  const json codings = {
      {"human-rights",
       {{"evidence", {{{"quote", "We respect human rights online."}, {"locator", "principle 1"}}}},
        {"note", "first reading"}}}};
  const std::string file = File("codings.json", codings.dump(2));
  auto r = As(ana, {"propose", "recode", kTechAccord, file, "-m", "first coding", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  const int64_t pid = Parse(r)["id"].get<int64_t>();
  const std::string p = std::to_string(pid);
  const json agreement = admin_->Get(std::string("/api/v1/agreements/") + kTechAccord).json();
  json proposal = Proposal(pid);
  EXPECT_EQ(proposal["kind"], "recode");
  EXPECT_EQ(proposal["revisions"][0]["base_revision"], agreement["revision"]);
  EXPECT_EQ(proposal["revisions"][0]["proposed"]["codings"]["human-rights"]["evidence"][0]["quote"],
            "We respect human rights online.");

  r = As(ana, {"revise", p, "-m", "second thoughts"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  proposal = Proposal(pid);
  ASSERT_EQ(proposal["revisions"].size(), 2u);
  EXPECT_EQ(proposal["revisions"][1]["rationale"], "second thoughts");
  EXPECT_EQ(proposal["revisions"][1]["proposed"]["codings"],
            proposal["revisions"][0]["proposed"]["codings"]);

  const std::string yaml = File("more.yml",
                                "human-rights:\n  evidence:\n    - {quote: We respect human rights "
                                "online., locator: principle 1}\n"
                                "general-cooperation:\n  evidence:\n    - quote: \"We will work "
                                "together.\"\n      locator: principle 4\n");
  r = As(ana, {"revise", p, yaml});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  proposal = Proposal(pid);
  ASSERT_EQ(proposal["revisions"].size(), 3u);
  EXPECT_TRUE(proposal["revisions"][2]["proposed"]["codings"].contains("general-cooperation"));

  r = As(mo, {"comment", p, "-m", "Which principle?", "--element", "general-cooperation"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  r = As(mo, {"review", p, "--request-changes", "-m", "quote the exact principle"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  proposal = Proposal(pid);
  ASSERT_EQ(proposal["comments"].size(), 1u);
  EXPECT_EQ(proposal["comments"][0]["element"], "general-cooperation");
  EXPECT_EQ(proposal["review"]["request_changes"], 1);
  r = cli_->Run({"show", p});
  EXPECT_NE(r.out.find("request_changes by " + mo.name), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Which principle?"), std::string::npos) << r.out;

  r = As(mo, {"withdraw", p});  // only the author may
  EXPECT_EQ(r.code, kAuth) << Describe(r);
  r = As(ana, {"withdraw", p, "-m", "will redo"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_EQ(Proposal(pid)["state"], "withdrawn");
  r = As(ana, {"withdraw", p});  // closed already
  EXPECT_EQ(r.code, kConflict) << Describe(r);
}

TEST_F(CliTest, RejectNeedsAModerator) {
  const TestUser ana = CreateUser(*admin_, "contributor", "civil-society", "ana");
  const TestUser mo = CreateUser(*admin_, "moderator", "government", "mo");
  const std::string file = File("a.json", NewAgreement(UniqueName("cli-reject") + "-2024").dump());
  auto r = As(ana, {"propose", "add", file, "-m", "to be rejected", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  const int64_t pid = Parse(r)["id"].get<int64_t>();
  r = As(ana, {"reject", std::to_string(pid), "-m", "no"});
  EXPECT_EQ(r.code, kAuth) << Describe(r);
  r = As(mo, {"reject", std::to_string(pid), "-m", "out of scope: not about cybersecurity"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  const json p = Proposal(pid);
  EXPECT_EQ(p["state"], "rejected");
  EXPECT_EQ(p["close_reason"], "out of scope: not about cybersecurity");
}

TEST_F(CliTest, AgreementEditOpensTheEditorAndProposesTheRecode) {
  const std::string editor = cli_->home() + "/editor.sh";
  // The "person" at the editor replaces the coding with one element, in YAML.
  WriteFile(editor,
            "#!/bin/sh\ncat > \"$1\" <<'EOF'\n"
            "# edited\nno-attacks-on-critical-infrastructure:\n  evidence:\n    - quote: \"States "
            "should not conduct or knowingly support ICT activity.\"\n"
            "      locator: norm 13(f)\n  note: edited in the CLI test\nEOF\n");
  fs::permissions(editor, fs::perms::owner_all);
  cli_->SetEnv("EDITOR", editor);
  const json before_agreement = admin_->Get(std::string("/api/v1/agreements/") + kParisCall).json();
  auto r =
      cli_->Run({"agreement", "get", kParisCall, "--edit", "-m", "narrower reading", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  const int64_t pid = Parse(r)["id"].get<int64_t>();
  const json p = Proposal(pid);
  EXPECT_EQ(p["kind"], "recode");
  EXPECT_EQ(p["agreement_id"], kParisCall);
  EXPECT_EQ(p["revisions"][0]["base_revision"], before_agreement["revision"]);
  EXPECT_EQ(p["revisions"][0]["rationale"], "narrower reading");
  const json codings = p["revisions"][0]["proposed"]["codings"];
  ASSERT_EQ(codings.size(), 1u) << codings.dump();
  EXPECT_EQ(codings["no-attacks-on-critical-infrastructure"]["evidence"][0]["locator"],
            "norm 13(f)");

  // An editor that changes nothing, one that leaves a broken file, one that
  // fails: nothing is submitted.
  const uint64_t seq = LastSeq(*admin_);
  cli_->SetEnv("EDITOR", "true");
  r = cli_->Run({"agreement", "get", kParisCall, "--edit"});
  EXPECT_EQ(r.code, kOk) << Describe(r);
  EXPECT_NE(r.out.find("No change"), std::string::npos) << r.out;
  WriteFile(editor, "#!/bin/sh\necho 'restraint: {evidence: [' > \"$1\"\n");
  cli_->SetEnv("EDITOR", editor);
  r = cli_->Run({"agreement", "get", kParisCall, "--edit"});
  EXPECT_EQ(r.code, kUsage) << Describe(r);
  EXPECT_NE(r.err.find("kept in"), std::string::npos) << r.err;
  cli_->SetEnv("EDITOR", "false");
  r = cli_->Run({"agreement", "get", kParisCall, "--edit"});
  EXPECT_EQ(r.code, kUsage) << Describe(r);
  EXPECT_EQ(LastSeq(*admin_), seq);
}

// ---- reads ----------------------------------------------------------------------------

TEST_F(CliTest, ListsAndReadsMatchTheApi) {
  auto r = cli_->Run({"agreements", "--element", "human-rights", "--all", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  const json listed = Parse(r);
  auto api = admin_->Get("/api/v1/agreements?element=human-rights&limit=500").json();
  EXPECT_EQ(Ids(listed["items"]), Ids(api["items"]));
  EXPECT_EQ(listed["coverage"], api["coverage"]);
  r = cli_->Run({"agreements", "--limit", "3"});
  ASSERT_EQ(r.code, kOk);
  EXPECT_EQ(Lines(r.out), 1 + 3 + 2) << "header, 3 rows, coverage and its caveat:\n" << r.out;
  EXPECT_NE(r.out.find("not coded"), std::string::npos) << r.out;

  r = cli_->Run({"agreement", "get", kParisCall, "--json"});
  ASSERT_EQ(r.code, kOk);
  EXPECT_EQ(Parse(r), admin_->Get(std::string("/api/v1/agreements/") + kParisCall).json());
  r = cli_->Run({"agreement", "get", kTechAccord});
  EXPECT_NE(r.out.find("Not coded yet"), std::string::npos) << r.out;
  r = cli_->Run({"agreement", "get", "no-such-agreement"});
  EXPECT_EQ(r.code, kFailed) << Describe(r);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;

  // Every open proposal, with the same filter semantics as the API.
  const TestUser ana = CreateUser(*admin_, "contributor", "civil-society", "ana");
  ASSERT_EQ(As(ana, {"propose", "add",
                     File("l.json", NewAgreement(UniqueName("cli-list") + "-2024").dump()), "-m",
                     "listed"})
                .code,
            kOk);
  r = cli_->Run({"proposals", "--status", "open", "--all", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  const json open = Parse(r)["items"];
  std::set<int64_t> cli_ids, api_ids;
  for (const auto& p : open) cli_ids.insert(p["id"].get<int64_t>());
  const json api_open = admin_->Get("/api/v1/proposals?status=open&limit=500").json();
  ASSERT_TRUE(api_open["next_cursor"].is_null()) << "one page holds them all";
  for (const auto& p : api_open["items"]) api_ids.insert(p["id"].get<int64_t>());
  EXPECT_EQ(cli_ids, api_ids);
  r = cli_->Run({"proposals", "--author", ana.name, "--json"});
  ASSERT_EQ(Parse(r)["items"].size(), 1u) << r.out;
  EXPECT_EQ(Parse(r)["items"][0]["author_name"], ana.name);
  r = cli_->Run({"proposals", "--author", "nobody-by-this-name"});
  EXPECT_EQ(r.code, kOk);
  EXPECT_NE(r.out.find("No proposals"), std::string::npos) << r.out;
}

TEST_F(CliTest, AnalysesShowTheServersAnswerOrItsProblem) {
  auto api = admin_->Get("/api/v1/analyses/no-such-analysis");
  auto r = cli_->Run({"analyses", "no-such-analysis"});
  ASSERT_GE(api.status, 400) << "a name no plugin has: the server refuses";
  EXPECT_EQ(r.code, api.status == 409 ? kConflict : kFailed) << Describe(r);
  EXPECT_NE(r.err.find(api.json().value("detail", "?")), std::string::npos)
      << "shows the server's detail:\n"
      << r.err << "\nvs " << api.body;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  r = cli_->Run({"analyses", "no-such-analysis", "--json"});
  EXPECT_EQ(Parse(r)["status"], api.status);
  // The list of analyses, when the server has the route.
  auto list = admin_->Get("/api/v1/analyses");
  r = cli_->Run({"analyses", "--json"});
  if (list.status == 200)
    EXPECT_EQ(Parse(r), list.json());
  else
    EXPECT_NE(r.code, kOk);
}

// ---- bulk data --------------------------------------------------------------------------

TEST_F(CliTest, ExportIsWhatTheServerExports) {
  auto r = cli_->Run({"export", "--csv"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_EQ(r.out, admin_->Get("/api/v1/export.csv").body);
  r = cli_->Run({"export", "--json"});
  ASSERT_EQ(r.code, kOk);
  EXPECT_EQ(Parse(r), admin_->Get("/api/v1/export.json").json());
  const std::string out = cli_->home() + "/export.csv";
  r = cli_->Run({"export", "--csv", "-o", out});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  std::ifstream in(out, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), admin_->Get("/api/v1/export.csv").body);
}

TEST_F(CliTest, ImportDryRunChangesNothingAndImportWritesAllOrNothing) {
  const std::string a = UniqueName("cli-import") + "-2024", b = UniqueName("cli-import") + "-2024";
  const std::string file =
      File("import.json", json{{"agreements", {NewAgreement(a), NewAgreement(b)}}}.dump());
  const DataSnapshot before = Snapshot(*admin_);
  auto r = cli_->Run({"import", file, "--dry-run"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_NE(r.out.find("Dry run: would add 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing was written"), std::string::npos) << r.out;
  r = cli_->Run({"import", file, "--dry-run", "--json"});
  ASSERT_EQ(r.code, kOk);
  EXPECT_EQ(Parse(r)["added"], json::array({a, b}));
  EXPECT_EQ(Snapshot(*admin_), before) << "a dry run writes nothing";
  EXPECT_TRUE(IsProblem(admin_->Get("/api/v1/agreements/" + a), 404));

  // Refused imports change nothing either: a contributor, an invalid record.
  const TestUser ana = CreateUser(*admin_, "contributor", "civil-society", "ana");
  const DataSnapshot before_refused = Snapshot(*admin_);
  r = As(ana, {"import", file});
  EXPECT_EQ(r.code, kAuth) << Describe(r);
  json broken = NewAgreement(UniqueName("cli-import") + "-2024");
  broken["kind"] = "no-such-kind";
  r = cli_->Run(
      {"import",
       File("broken.json",
            json{{"agreements", {NewAgreement(UniqueName("cli-ok") + "-2024"), broken}}}.dump())});
  EXPECT_EQ(r.code, kFailed) << Describe(r);
  EXPECT_EQ(Snapshot(*admin_), before_refused);

  r = cli_->Run({"import", file, "--progress", "always"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_NE(r.err.find("100%"), std::string::npos) << "the progress bar reaches the end: " << r.err;
  EXPECT_NE(r.out.find("Imported: added 2"), std::string::npos) << r.out;
  EXPECT_EQ(admin_->Get("/api/v1/agreements/" + a).status, 200);
  EXPECT_EQ(admin_->Get("/healthz").json()["dataset_revision"],
            before.health["dataset_revision"].get<int>() + 1);
}

// ---- accounts -------------------------------------------------------------------------

TEST_F(CliTest, UsersAndTokens) {
  const std::string name = UniqueName("cli-user");
  auto r =
      cli_->Run({"user", "create", name, "--role", "contributor", "--group", "academia", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  const std::string uid = std::to_string(Parse(r)["id"].get<int64_t>());
  r = cli_->Run({"user", "list"});
  EXPECT_NE(r.out.find(name), std::string::npos) << r.out;
  r = cli_->Run({"user", "show", uid, "--json"});
  EXPECT_EQ(Parse(r)["stakeholder_group"], "academia");

  r = cli_->Run({"token", "issue", uid, "--label", "laptop"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  const std::string token = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(Lines(r.out), 1) << "only the token on stdout: " << r.out;
  r = cli_->Run({"--token", token, "whoami", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_EQ(Parse(r)["name"], name);
  r = cli_->Run({"--token", token, "token", "list", "--json"});  // one's own tokens
  ASSERT_EQ(r.code, kOk) << Describe(r);
  ASSERT_EQ(Parse(r)["items"].size(), 1u);
  const std::string tid = std::to_string(Parse(r)["items"][0]["id"].get<int64_t>());
  r = cli_->Run({"--token", token, "user", "create", "x", "--role", "admin"});
  EXPECT_EQ(r.code, kAuth) << Describe(r);

  r = cli_->Run({"user", "update", uid, "--role", "moderator"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  EXPECT_EQ(admin_->Get("/api/v1/users/" + uid).json()["role"], "moderator");
  r = cli_->Run({"token", "revoke", uid, tid});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  r = cli_->Run({"--token", token, "whoami"});
  EXPECT_EQ(r.code, kAuth) << Describe(r);
  r = cli_->Run({"user", "update", uid});
  EXPECT_EQ(r.code, kUsage) << Describe(r);
}

// ---- watch ------------------------------------------------------------------------------

std::vector<json> Frames(const std::string& out) {
  std::vector<json> frames;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) frames.push_back(j);
  }
  return frames;
}

TEST_F(CliTest, WatchFiltersByTopicAndStopsOnCtrlC) {
  const TestUser ana = CreateUser(*admin_, "contributor", "civil-society", "ana");
  auto r = As(ana, {"propose", "add",
                    File("w.json", NewAgreement(UniqueName("cli-watch") + "-2024").dump()), "-m",
                    "watched", "--json"});
  ASSERT_EQ(r.code, kOk) << Describe(r);
  const std::string p = std::to_string(Parse(r)["id"].get<int64_t>());
  // From the current head: what happens after it is replayed however late the watcher connects.
  auto watch = cli_->Start(
      {"watch", "proposal:" + p, "--json", "--since", std::to_string(LastSeq(*admin_))});
  auto other = cli_->Start({"watch", "proposal:" + p, "--since", "0", "--limit", "1", "--json"});
  EXPECT_EQ(other->Wait(20s), kOk) << "--limit ends it: " << other->err();
  ASSERT_EQ(Frames(other->out()).size(), 1u) << other->out();
  EXPECT_EQ(Frames(other->out())[0]["type"], "proposal.created");

  ASSERT_EQ(As(ana, {"comment", p, "-m", "one"}).code, kOk);
  ASSERT_EQ(As(ana, {"propose", "add",
                     File("w2.json", NewAgreement(UniqueName("cli-watch") + "-2024").dump()), "-m",
                     "watched"})
                .code,
            kOk);
  ASSERT_EQ(As(ana, {"comment", p, "-m", "two"}).code, kOk);
  ASSERT_TRUE(watch->WaitForOutput(
      [](const std::string& o) { return o.find("\"two\"") != std::string::npos; }, 20s))
      << watch->out() << watch->err();
  watch->Signal(SIGINT);
  EXPECT_EQ(watch->Wait(10s), kOk) << "Ctrl-C exits 0";
  for (const auto& f : Frames(watch->out())) EXPECT_EQ(f["subjects"]["proposal"], p) << f.dump();
  EXPECT_EQ(Frames(watch->out()).size(), 2u) << watch->out();

  r = cli_->Run({"--token", "nb_bad", "watch"});
  EXPECT_EQ(r.code, kAuth) << "a refused token is not retried forever\n" << Describe(r);
  r = cli_->Run({"watch", "no-such-topic"});
  EXPECT_EQ(r.code, kFailed) << Describe(r);
}

// The event log after `since`, as a moderator sees it (all topics).
std::vector<uint64_t> LoggedSeqs(HttpClient& c, uint64_t since) {
  std::vector<uint64_t> seqs;
  for (;;) {
    auto r = c.Get("/api/v1/events?since=" + std::to_string(since) + "&limit=500");
    EXPECT_EQ(r.status, 200) << r.body;
    const json j = r.json();
    for (const auto& e : j["items"]) seqs.push_back(e["seq"].get<uint64_t>());
    if (j["items"].empty()) break;
    since = j["next_since"].get<uint64_t>();
  }
  return seqs;
}

TEST(CliWatchRestartTest, WatchSurvivesAServerRestartWithoutMissingOrRepeatingEvents) {
  ServerProcess server({"--workers", "0"});
  ASSERT_TRUE(server.Start()) << server.output();
  TcpRelay relay;
  ASSERT_TRUE(relay.ok());
  relay.set_target_port(server.port());
  CliRunner cli;
  HttpClient admin = ClientFor(server, server.admin_token());
  const uint64_t start = LastSeq(admin);

  // "users" too: account events come only with that topic (and a moderator's token).
  auto watch = cli.Start({"--server", relay.url(), "--token", server.admin_token(), "--json",
                          "watch", "all", "users", "--since", std::to_string(start)});
  auto make_events = [&](HttpClient& c, int n) {
    for (int i = 0; i < n; ++i) {
      CreateUser(c, "contributor", "academia", "watched");  // user.created + token.issued
      auto r =
          c.Post("/api/v1/proposals", json{{"kind", "add"},
                                           {"agreement", NewAgreement(UniqueName("w") + "-2024")},
                                           {"rationale", "watched"}});
      ASSERT_EQ(r.status, 201) << r.body;
    }
  };
  auto printed_up_to = [&](uint64_t seq) {
    return [seq](const std::string& out) {
      for (const auto& f : Frames(out))
        if (f.value("seq", uint64_t{0}) >= seq) return true;
      return false;
    };
  };
  make_events(admin, 3);
  ASSERT_TRUE(watch->WaitForOutput(printed_up_to(LastSeq(admin)), 20s))
      << watch->out() << watch->err();

  // Down: the watcher loses its connection and retries. Events made right
  // after the restart, before it reconnects, must come from the replay.
  ASSERT_EQ(server.Stop(), 0) << server.output();
  ASSERT_TRUE(server.Start()) << server.output();
  relay.set_target_port(server.port());
  HttpClient admin2 = ClientFor(server, server.admin_token());
  make_events(admin2, 3);
  const uint64_t last = LastSeq(admin2);
  ASSERT_TRUE(watch->WaitForOutput(printed_up_to(last), 30s)) << watch->out() << watch->err();
  // Live events after the reconnect arrive too.
  make_events(admin2, 1);
  const uint64_t final_seq = LastSeq(admin2);
  ASSERT_TRUE(watch->WaitForOutput(printed_up_to(final_seq), 20s)) << watch->out() << watch->err();
  watch->Signal(SIGINT);
  EXPECT_EQ(watch->Wait(10s), kOk) << watch->err();
  EXPECT_NE(watch->err().find("reconnected"), std::string::npos) << watch->err();

  std::vector<uint64_t> printed;
  for (const auto& f : Frames(watch->out())) {
    ASSERT_EQ(f["kind"], "event") << "no reset expected: " << f.dump();
    printed.push_back(f["seq"].get<uint64_t>());
  }
  EXPECT_EQ(printed, LoggedSeqs(admin2, start))
      << "every event after the start exactly once, in order";
}

// ---- completion ---------------------------------------------------------------------------

TEST_F(CliTest, CompletionScriptsComplete) {
  auto script = cli_->Run({"completion", "bash"});
  ASSERT_EQ(script.code, kOk);
  const std::string path = File("normbase.bash", script.out);
  auto complete = [&](const std::string& words, int cword) {
    // Runs the completion function as bash would for the command line `words`.
    const std::string driver = File("complete.sh", "source '" + path + "'\nCOMP_WORDS=(" + words +
                                                       ")\nCOMP_CWORD=" + std::to_string(cword) +
                                                       "\n_normbase\necho \"${COMPREPLY[*]}\"\n");
    std::string out;
    FILE* p = ::popen(("bash " + driver).c_str(), "r");
    if (!p) return out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
    return out;
  };
  EXPECT_NE(complete("normbase pro", 1).find("proposals propose"), std::string::npos);
  EXPECT_EQ(complete("normbase propose ''", 2), "add recode amend retire\n");
  EXPECT_NE(complete("normbase review 12 --ap", 3).find("--approve"), std::string::npos);
  EXPECT_NE(complete("normbase user ''", 2).find("create"), std::string::npos);

  auto zsh = cli_->Run({"completion", "zsh"});
  ASSERT_EQ(zsh.code, kOk);
  EXPECT_NE(zsh.out.find("compdef _normbase normbase"), std::string::npos);
  EXPECT_NE(zsh.out.find("_normbase_cmds['normbase propose']='add:"), std::string::npos)
      << zsh.out.substr(0, 2000);
  for (const char* shell : {"/usr/bin/zsh", "/bin/zsh"}) {
    if (!fs::exists(shell)) continue;
    const std::string zpath = File("_normbase", zsh.out);
    EXPECT_EQ(std::system((std::string(shell) + " -n " + zpath).c_str()), 0) << "zsh parses it";
    break;
  }
}

}  // namespace
}  // namespace normbase::testing

namespace normbase::testing {
namespace {

TEST(CliWatchResetTest, AResetIsReportedAndWatchingContinues) {
  // A replay window smaller than the seed's events: since=1 is out of reach.
  ServerProcess server({"--workers", "0", "--replay-window", "2"});
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  for (int i = 0; i < 3; ++i) CreateUser(admin, "contributor", "academia", "filler");
  CliRunner cli;
  auto watch = cli.Start({"--server", server.base_url(), "--token", server.admin_token(), "--json",
                          "watch", "--since", "1", "--limit", "1"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (watch->err().find("reset") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_NE(watch->err().find("reset"), std::string::npos) << "tells the person: " << watch->err();
  auto r = admin.Post("/api/v1/proposals", json{{"kind", "add"},
                                                {"agreement", NewAgreement("cli-reset-2024")},
                                                {"rationale", "after the reset"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(watch->Wait(std::chrono::seconds(20)), 0) << watch->err();
  std::vector<json> frames;
  std::istringstream in(watch->out());
  for (std::string line; std::getline(in, line);) frames.push_back(json::parse(line));
  ASSERT_EQ(frames.size(), 2u) << watch->out();
  EXPECT_EQ(frames[0]["kind"], "reset");
  EXPECT_EQ(frames[1]["kind"], "event");
  EXPECT_GT(frames[1]["seq"].get<uint64_t>(), frames[0]["continue_from"].get<uint64_t>());
  EXPECT_EQ(frames[1]["type"], "proposal.created");
}

}  // namespace
}  // namespace normbase::testing
