// The normbase subcommands, one registration function per area. Each adds its
// subcommands to the CLI11 tree; a subcommand's parse callback stores what to
// run in Context::action, which main runs after parsing.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "context.h"

namespace normbase::cli {

void AddAccountCommands(CLI::App& app, Context& ctx);  // login, logout, whoami, user, token
void AddReadCommands(CLI::App& app,
                     Context& ctx);  // proposals, show, agreements, agreement, history, analyses
void AddContributorCommands(CLI::App& app, Context& ctx);  // propose, revise, withdraw, comment
void AddReviewCommands(CLI::App& app, Context& ctx);       // review, merge, reject
void AddWatchCommand(CLI::App& app, Context& ctx);         // watch
void AddDataCommands(CLI::App& app, Context& ctx);         // export, import
void AddCompletionCommand(CLI::App& app, Context& ctx);    // completion bash|zsh

// Opens $EDITOR (then $VISUAL, then vi) on the current coding of agreement
// `id` and submits a recode proposal when it changed. In cmd_contrib.cc.
int EditCodings(Context& ctx, const std::string& id, const std::string& rationale);

// Makes `sub` store `run` as the action when it is the chosen command.
template <typename F>
void OnRun(CLI::App* sub, Context& ctx, F run) {
  sub->callback([&ctx, run] { ctx.action = run; });
}

// Proposal ids are given as "12" or "#12"; nullopt when it is neither.
std::optional<int64_t> ParseProposalId(const std::string& text);

}  // namespace normbase::cli
