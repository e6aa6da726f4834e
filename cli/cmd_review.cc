// Reviewers' and moderators' writes: review, merge, reject.
#include <iostream>

#include "commands.h"

namespace normbase::cli {

namespace {

struct ReviewArgs {
  std::string id, text;
  bool approve = false, request_changes = false, comment = false;
  int revision = 0;
};

std::string State(const Json& p) {
  return p.is_object() ? p.value("state", p.value("status", "")) : "";
}

int Review(Context& ctx, const ReviewArgs& a) {
  auto pid = ParseProposalId(a.id);
  if (!pid) return ctx.Usage("'" + a.id + "' is not a proposal id");
  const char* verdict = a.approve ? "approve" : a.request_changes ? "request_changes" : "comment";
  if (!a.approve && !a.request_changes && !a.comment)
    return ctx.Usage("give one verdict: --approve, --request-changes or --comment");
  if (a.comment && a.text.empty()) return ctx.Usage("--comment needs the text: -m TEXT");
  Json body{{"verdict", verdict}};
  if (!a.text.empty()) body["text"] = a.text;
  if (a.revision) body["revision"] = a.revision;
  auto r = ctx.Post("/api/v1/proposals/" + std::to_string(*pid) + "/reviews", body);
  if (!r.ok()) return ctx.Fail(r);
  if (ctx.json()) {
    PrintJson(r.body);
    return kExitOk;
  }
  // The answer is {review, proposal}: the vote and the proposal's summary after it.
  const Json proposal = r.body.value("proposal", Json::object());
  const Json review = proposal.value("review", Json::object());
  std::cout << "Reviewed proposal #" << *pid << ": " << ctx.out().State(verdict) << "; now "
            << ctx.out().State(State(proposal)) << ", " << review.value("approvals", 0)
            << " approval(s)";
  std::cout << (review.value("can_merge", false) ? ", can merge" : "") << "\n";
  for (const auto& m : review.value("missing", Json::array()))
    std::cout << "  missing: " << Inline(m) << "\n";
  return kExitOk;
}

int Merge(Context& ctx, const std::string& id, int revision) {
  auto pid = ParseProposalId(id);
  if (!pid) return ctx.Usage("'" + id + "' is not a proposal id");
  Json body = Json::object();
  if (revision) body["revision"] = revision;
  auto r = ctx.Post("/api/v1/proposals/" + std::to_string(*pid) + "/merge", body);
  if (!r.ok()) return ctx.Fail(r);
  if (ctx.json()) {
    PrintJson(r.body);
    return kExitOk;
  }
  std::cout << "Merged proposal #" << *pid << " into " << r.body.value("agreement_id", "")
            << ": dataset revision " << r.body.value("merged_dataset_revision", int64_t{0}) << "\n";
  return kExitOk;
}

int Reject(Context& ctx, const std::string& id, const std::string& reason) {
  auto pid = ParseProposalId(id);
  if (!pid) return ctx.Usage("'" + id + "' is not a proposal id");
  auto r =
      ctx.Post("/api/v1/proposals/" + std::to_string(*pid) + "/reject", Json{{"reason", reason}});
  if (!r.ok()) return ctx.Fail(r);
  if (ctx.json())
    PrintJson(r.body);
  else
    std::cout << "Rejected proposal #" << *pid << "\n";
  return kExitOk;
}

}  // namespace

void AddReviewCommands(CLI::App& app, Context& ctx) {
  auto ra = std::make_shared<ReviewArgs>();
  auto* review = app.add_subcommand("review", "Review a proposal for your stakeholder group");
  review->add_option("PROPOSAL", ra->id, "Proposal id")->required();
  auto* approve = review->add_flag("--approve", ra->approve, "Approve the current revision");
  auto* changes = review->add_flag("--request-changes", ra->request_changes,
                                   "Ask for changes (blocks merging)");
  auto* comment = review->add_flag("--comment", ra->comment, "A comment that is not a vote");
  approve->excludes(changes)->excludes(comment);
  changes->excludes(comment);
  review->add_option("-m,--message", ra->text, "What you found");
  review->add_option("--revision", ra->revision,
                     "The revision you reviewed (refused if it is no longer current)");
  OnRun(review, ctx, [&ctx, ra] { return Review(ctx, *ra); });

  struct MergeArgs {
    std::string id;
    int revision = 0;
  };
  auto ma = std::make_shared<MergeArgs>();
  auto* merge = app.add_subcommand(
      "merge",
      "Merge a proposal (moderators); refused with the reason when the review policy is not met");
  merge->add_option("PROPOSAL", ma->id, "Proposal id")->required();
  merge->add_option("--revision", ma->revision,
                    "Only merge if the proposal is still at this revision");
  OnRun(merge, ctx, [&ctx, ma] { return Merge(ctx, ma->id, ma->revision); });

  auto rj = std::make_shared<ReviewArgs>();
  auto* reject = app.add_subcommand("reject", "Reject a proposal (moderators)");
  reject->add_option("PROPOSAL", rj->id, "Proposal id")->required();
  reject->add_option("-m,--reason", rj->text, "Tell the author why")->required();
  OnRun(reject, ctx, [&ctx, rj] { return Reject(ctx, rj->id, rj->text); });
}

}  // namespace normbase::cli
