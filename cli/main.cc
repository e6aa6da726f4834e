// normbase: the command-line client of a Normbase server, for contributors,
// reviewers, moderators, admins and scripts. See docs/cli.md.
#include <iostream>

#include "commands.h"

namespace normbase::cli {

std::optional<int64_t> ParseProposalId(const std::string& text) {
  std::string s = !text.empty() && text[0] == '#' ? text.substr(1) : text;
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const int64_t id = std::stoll(s);
  if (id <= 0) return std::nullopt;
  return id;
}

namespace {

int Main(int argc, char** argv) {
  Context ctx;
  CLI::App app{
      "normbase: the command-line client of a Normbase review server.\n"
      "Exit codes: 0 ok, 1 the server refused or failed the request, 2 usage error,\n"
      "3 server unreachable, 4 not signed in or not allowed, 5 conflict (e.g. a merge\n"
      "the review policy does not allow yet).",
      "normbase"};
  app.set_version_flag("--version", NORMBASE_VERSION);
  // Global options may come after the subcommand too (normbase show 3 --json).
  app.fallthrough();
  app.require_subcommand(1, 1);
  app.add_option("--server", ctx.global.server,
                 "Server URL (overrides NORMBASE_SERVER and the config file; default " +
                     std::string(kDefaultServer) + ")");
  app.add_option("--token", ctx.global.token,
                 "API token (overrides NORMBASE_TOKEN and the config file)");
  app.add_flag("--json", ctx.global.json, "Print the server's JSON instead of text (for scripts)");
  app.add_option("--color", ctx.global.color, "Colours: auto (only on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("--timeout", ctx.global.timeout_s, "Seconds to wait for each answer")
      ->check(CLI::Range(1, 3600));

  AddAccountCommands(app, ctx);
  AddReadCommands(app, ctx);
  AddContributorCommands(app, ctx);
  AddReviewCommands(app, ctx);
  AddWatchCommand(app, ctx);
  AddDataCommands(app, ctx);
  AddCompletionCommand(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (!ctx.action) {
    std::cerr << app.help();
    return kExitUsage;
  }
  if (int rc = ctx.Prepare(); rc != kExitOk) return rc;
  return ctx.action();
}

}  // namespace
}  // namespace normbase::cli

int main(int argc, char** argv) {
  try {
    return normbase::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    // A bug, not an expected failure: say so rather than abort with a core dump.
    std::cerr << "normbase: internal error: " << e.what() << "\n";
    return normbase::cli::kExitFailed;
  }
}
