// Reads for everyone: proposals, show, agreements, agreement get, history,
// analyses. Text for people (colours only on a terminal), --json for scripts.
#include <iostream>

#include "commands.h"

namespace normbase::cli {

namespace {

std::string Str(const Json& j, const char* key, const std::string& fallback = "") {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                : fallback;
}
int64_t Int(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : 0;
}

// Fetches pages of a list until `limit` items (0: all) or the last page.
std::optional<Json> FetchList(Context& ctx, const std::string& path, const std::string& query,
                              size_t limit, Json* first_page, int* rc) {
  Json items = Json::array();
  std::string cursor;
  for (;;) {
    std::string q = query + (cursor.empty() ? ""
                                            : std::string(query.empty() ? "?" : "&") +
                                                  "cursor=" + UrlEncode(cursor));
    auto r = ctx.Get(path + q);
    if (!r.ok()) {
      *rc = ctx.Fail(r);
      return std::nullopt;
    }
    if (first_page && first_page->is_null()) *first_page = r.body;
    for (const auto& x : r.body.value("items", Json::array())) {
      if (limit && items.size() >= limit) break;
      items.push_back(x);
    }
    const Json next = r.body.value("next_cursor", Json());
    if ((limit && items.size() >= limit) || next.is_null()) break;
    cursor = next.is_string() ? next.get<std::string>() : next.dump();
  }
  return items;
}

// ---- proposals ------------------------------------------------------------------

struct ProposalFilter {
  std::string status, author, agreement, kind;
  size_t limit = 50;
  bool all = false;
};

int ListProposals(Context& ctx, const ProposalFilter& f) {
  int rc = kExitOk;
  auto items =
      FetchList(ctx, "/api/v1/proposals",
                Query({{"status", f.status},
                       {"author", f.author},
                       {"agreement", f.agreement},
                       {"kind", f.kind},
                       {"limit", std::to_string(std::min<size_t>(f.all ? 200 : f.limit, 200))}}),
                f.all ? 0 : f.limit, nullptr, &rc);
  if (!items) return rc;
  if (ctx.json()) {
    PrintJson(Json{{"items", *items}});
    return kExitOk;
  }
  if (items->empty()) {
    std::cout << "No proposals match.\n";
    return kExitOk;
  }
  Table t({"ID", "STATE", "KIND", "AGREEMENT", "AUTHOR", "REV", "APPROVALS", "UPDATED"});
  for (const auto& p : *items) {
    const Json review = p.value("review", Json::object());
    std::string approvals = std::to_string(Int(review, "approvals"));
    if (review.value("can_merge", false)) approvals += " (can merge)";
    t.Add({"#" + std::to_string(Int(p, "id")), ctx.out().State(Str(p, "state")), Str(p, "kind"),
           Str(p, "agreement_id"), Str(p, "author_name"), std::to_string(Int(p, "revision")),
           approvals, FormatTime(Int(p, "updated_at"))});
  }
  std::cout << t.Render(ctx.out());
  return kExitOk;
}

std::string EvidenceLines(const Json& coding, const std::string& pad, const std::string& mark,
                          const Style& st, std::string (Style::*colour)(const std::string&) const) {
  std::string out;
  if (!coding.is_object()) return out;
  for (const auto& e : coding.value("evidence", Json::array())) {
    std::string line = pad + mark + "\"" + Truncate(Str(e, "quote"), 100) + "\"";
    if (!Str(e, "locator").empty()) line += " (" + Str(e, "locator") + ")";
    if (!Str(e, "source_url").empty()) line += " " + Str(e, "source_url");
    out += (st.*colour)(line) + "\n";
  }
  if (!Str(coding, "note").empty()) out += st.Dim(pad + "note: " + Str(coding, "note")) + "\n";
  return out;
}

std::string RenderDiff(const Json& d, const Style& st) {
  std::string out;
  const Json diff = d.value("diff", Json::object());
  const bool is_new = d.value("kind", "") == "add";
  if (is_new) out += "  " + st.Green("new agreement") + "\n";
  for (const auto& f : diff.value("fields", Json::array())) {
    const Json& to_value = f.value("to", Json());
    // A new record: list the fields it sets, not every empty default.
    if (is_new &&
        (to_value.is_null() || (to_value.is_string() && to_value.get<std::string>().empty()) ||
         (to_value.is_array() && to_value.empty())))
      continue;
    const std::string from = Inline(f.value("from", Json())), to = Inline(to_value);
    if (is_new) {
      out += "  " + st.Green("+ " + Str(f, "field")) + ": " + Truncate(to, 100) + "\n";
      continue;
    }
    out += "  " + st.Yellow("~ " + Str(f, "field")) + ": " + st.Red(Truncate(from, 60)) + " → " +
           st.Green(Truncate(to, 60)) + "\n";
  }
  for (const auto& e : diff.value("elements", Json::array())) {
    const std::string change = Str(e, "change"), name = Str(e, "element");
    if (change == "added") {
      out += "  " + st.Green("+ " + name) + "\n" +
             EvidenceLines(e["to"], "      ", "", st, &Style::Green);
    } else if (change == "removed") {
      out += "  " + st.Red("- " + name) + "\n" +
             EvidenceLines(e["from"], "      ", "", st, &Style::Red);
    } else {
      out += "  " + st.Yellow("~ " + name) + "\n" +
             EvidenceLines(e["from"], "      ", "- ", st, &Style::Red) +
             EvidenceLines(e["to"], "      ", "+ ", st, &Style::Green);
    }
  }
  if (out.empty()) out = "  (no change)\n";
  if (d.value("conflicted", false)) {
    out += st.Red("  Conflicted") + ": the agreement is at revision " +
           std::to_string(Int(d, "current_revision")) + ", this proposal is based on " +
           std::to_string(Int(d, "base_revision")) +
           "; revise it on the current revision (normbase revise).\n";
    const Json tw = d.value("three_way", Json::object());
    for (const char* kind : {"fields", "elements"})
      for (const auto& x : tw.value(kind, Json::array()))
        if (x.value("conflict", false))
          out += "    conflict on " + Str(x, "field", Str(x, "element")) +
                 ": changed since the base and here\n";
  }
  return out;
}

std::string RenderChecks(const Json& p, const Style& st) {
  const Json checks = p.value("checks", Json());
  if (!checks.is_array() || checks.empty()) return "  no checks yet\n";
  std::string out;
  for (const auto& c : checks) {
    out += "  " + st.State(Str(c, "status", "?")) + "  " + st.Bold(Str(c, "plugin", "?"));
    if (!Str(c, "summary").empty()) out += ": " + Str(c, "summary");
    out += "\n";
    for (const auto& f : c.value("findings", Json::array())) {
      std::string where = Str(f, "field");
      if (!Str(f, "element").empty()) where += (where.empty() ? "" : "/") + Str(f, "element");
      const std::string sev = Str(f, "severity", "info");
      const std::string tag = sev == "error"     ? st.Red(sev)
                              : sev == "warning" ? st.Yellow(sev)
                                                 : st.Dim(sev);
      out += "      " + tag + (where.empty() ? "" : " " + where) + ": " + Str(f, "message") + "\n";
    }
  }
  return out;
}

std::string RenderReview(const Json& review, const Style& st) {
  std::string out;
  out += "  state " + st.State(Str(review, "state")) + ", " +
         std::to_string(Int(review, "approvals")) + " approval(s) from " +
         std::to_string(Int(review, "distinct_groups")) + " group(s), " +
         std::to_string(Int(review, "request_changes")) + " request(s) for changes\n";
  for (const auto& g : review.value("by_group", Json::array()))
    out += "    " + Str(g, "label", Str(g, "group")) + ": " + std::to_string(Int(g, "approvals")) +
           " approve, " + std::to_string(Int(g, "request_changes")) + " request changes\n";
  for (const auto& v : review.value("votes", Json::array()))
    out += "    " + st.State(Str(v, "verdict")) + " by " + Str(v, "reviewer_name", "?") + " (" +
           Str(v, "group", "-") + ", revision " + std::to_string(Int(v, "revision")) + ")" +
           (Str(v, "text").empty() ? "" : ": " + Truncate(Str(v, "text"), 100)) + "\n";
  const auto stale = review.value("stale_votes", Json::array());
  if (!stale.empty())
    out += st.Dim("    " + std::to_string(stale.size()) +
                  " earlier vote(s) on older revisions no longer count") +
           "\n";
  for (const auto& m : review.value("missing", Json::array()))
    out += "  " + st.Yellow("missing: ") + Inline(m) + "\n";
  out +=
      "  can merge: " + (review.value("can_merge", false) ? st.Green("yes") : st.Red("no")) + "\n";
  return out;
}

int Show(Context& ctx, const std::string& arg) {
  auto id = ParseProposalId(arg);
  if (!id) return ctx.Usage("'" + arg + "' is not a proposal id (a number, e.g. 12 or #12)");
  const std::string base = "/api/v1/proposals/" + std::to_string(*id);
  auto p = ctx.Get(base);
  if (!p.ok()) return ctx.Fail(p);
  auto d = ctx.Get(base + "/diff");
  if (!d.ok()) return ctx.Fail(d);
  if (ctx.json()) {
    PrintJson(Json{{"proposal", p.body}, {"diff", d.body}});
    return kExitOk;
  }
  const Json& j = p.body;
  const Style& st = ctx.out();
  const Json revisions = j.value("revisions", Json::array());
  const Json current = revisions.empty() ? Json::object() : revisions.back();
  std::string title = Str(current.value("proposed", Json::object()), "title");
  std::string out;
  out += st.Bold("Proposal #" + std::to_string(*id)) + "  " + Str(j, "kind") + " " +
         st.Cyan(Str(j, "agreement_id")) +
         (title.empty() ? "" : "  \"" + Truncate(title, 70) + "\"") + "  [" +
         st.State(Str(j, "state")) + "]\n";
  out += "author " + Str(j, "author_name") + ", created " + FormatTime(Int(j, "created_at")) +
         ", revision " + std::to_string(Int(j, "revision")) + " (based on agreement revision " +
         std::to_string(Int(current, "base_revision")) + ")\n";
  if (!Str(current, "rationale").empty()) out += "rationale: " + Str(current, "rationale") + "\n";
  if (!Str(j, "close_reason").empty()) out += "closing reason: " + Str(j, "close_reason") + "\n";
  out += "\n" + st.Bold("Changes") + "\n" + RenderDiff(d.body, st);
  out += "\n" + st.Bold("Checks") + "\n" + RenderChecks(j, st);
  if (j.contains("impact") && !j["impact"].is_null())
    out += "\n" + st.Bold("Impact") + "\n" + Tree(j["impact"], 2);
  out += "\n" + st.Bold("Review") + "\n" + RenderReview(j.value("review", Json::object()), st);
  const Json comments = j.value("comments", Json::array());
  if (!comments.empty()) {
    out += "\n" + st.Bold("Comments") + "\n";
    for (const auto& c : comments) {
      std::string on = Str(c, "field");
      if (!Str(c, "element").empty()) on = Str(c, "element");
      out += "  " + Str(c, "author_name", "?") + " on revision " +
             std::to_string(Int(c, "revision")) + (on.empty() ? "" : " (" + on + ")") +
             (c.value("resolved", false) ? st.Dim(" [resolved]") : "") + ": " + Str(c, "text") +
             "\n";
    }
  }
  std::cout << out;
  return kExitOk;
}

// ---- agreements -------------------------------------------------------------------

struct AgreementFilter {
  std::string kind, element, q;
  int year_from = 0, year_to = 0;
  int64_t revision = 0;
  bool include_retired = false, all = false;
  size_t limit = 50;
};

int ListAgreements(Context& ctx, const AgreementFilter& f) {
  auto num = [](int64_t v) { return v ? std::to_string(v) : std::string(); };
  Json first;
  int rc = kExitOk;
  auto items =
      FetchList(ctx, "/api/v1/agreements",
                Query({{"kind", f.kind},
                       {"element", f.element},
                       {"q", f.q},
                       {"year_from", num(f.year_from)},
                       {"year_to", num(f.year_to)},
                       {"revision", num(f.revision)},
                       {"include_retired", f.include_retired ? "true" : ""},
                       {"limit", std::to_string(std::min<size_t>(f.all ? 200 : f.limit, 200))}}),
                f.all ? 0 : f.limit, &first, &rc);
  if (!items) return rc;
  const Json coverage = first.value("coverage", Json::object());
  if (ctx.json()) {
    PrintJson(Json{{"items", *items},
                   {"coverage", coverage},
                   {"dataset_revision", first.value("dataset_revision", Json())}});
    return kExitOk;
  }
  Table t({"ID", "YEAR", "KIND", "CODED", "REV", "TITLE"});
  for (const auto& a : *items) {
    const size_t n = a.value("codings", Json::object()).size();
    t.Add({Str(a, "id"), a.value("year", Json()).is_number() ? std::to_string(Int(a, "year")) : "-",
           Str(a, "kind"),
           n ? std::to_string(n) + (n == 1 ? " element" : " elements") : ctx.out().Dim("not coded"),
           std::to_string(Int(a, "revision")) + (a.value("retired", false) ? " retired" : ""),
           Truncate(Str(a, "title"), 60)});
  }
  if (!t.empty()) std::cout << t.Render(ctx.out());
  const int64_t total = Int(coverage, "agreements"), coded = Int(coverage, "coded");
  std::cout << total << " agreement(s) match, " << coded << " coded, " << Int(coverage, "uncoded")
            << " not coded (dataset revision " << Int(first, "dataset_revision") << ")";
  if (items->size() < static_cast<size_t>(total))
    std::cout << "; showing " << items->size() << " (--all for every one)";
  std::cout << "\n";
  if (coded < total)
    std::cout << ctx.out().Dim(
                     "Uncoded agreements are unknown, not empty: frequencies over this set are not "
                     "findings.")
              << "\n";
  return kExitOk;
}

int GetAgreement(Context& ctx, const std::string& id, int64_t revision) {
  auto r = ctx.Get("/api/v1/agreements/" + UrlEncode(id) +
                   Query({{"revision", revision ? std::to_string(revision) : ""}}));
  if (!r.ok()) return ctx.Fail(r);
  if (ctx.json()) {
    PrintJson(r.body);
    return kExitOk;
  }
  const Json& a = r.body;
  const Style& st = ctx.out();
  std::string out = st.Bold(Str(a, "title")) + "\n";
  out += "id " + st.Cyan(Str(a, "id")) + ", revision " + std::to_string(Int(a, "revision")) +
         (a.value("retired", false) ? st.Red(" (retired)") : "") + "\n";
  out += "year " + Inline(a.value("year", Json())) + ", kind " + Str(a, "kind") + ", led by " +
         Inline(a.value("leading_stakeholders", Json())) + "\n";
  if (!Str(a, "parties").empty()) out += "parties: " + Str(a, "parties") + "\n";
  if (!Str(a, "source_url").empty()) out += "source: " + Str(a, "source_url") + "\n";
  const Json codings = a.value("codings", Json::object());
  if (codings.empty()) {
    out += "\n" + st.Yellow("Not coded yet") + " (which elements it contains is unknown).\n";
  } else {
    out += "\n" + st.Bold("Codings") + " (" + std::to_string(codings.size()) + " elements)\n";
    for (auto it = codings.begin(); it != codings.end(); ++it)
      out += "  " + st.Green(it.key()) + "\n" +
             EvidenceLines(it.value(), "      ", "", st, &Style::Dim);
  }
  std::cout << out;
  return kExitOk;
}

int History(Context& ctx, const std::string& id) {
  auto r = ctx.Get("/api/v1/agreements/" + UrlEncode(id) + "/history");
  if (!r.ok()) return ctx.Fail(r);
  if (ctx.json()) {
    PrintJson(r.body);
    return kExitOk;
  }
  const Style& st = ctx.out();
  std::cout << st.Bold("History of " + id) << " (newest first)\n";
  for (const auto& v : r.body.value("versions", Json::array())) {
    std::string line = "  revision " + std::to_string(Int(v, "agreement_revision")) + " (dataset " +
                       std::to_string(Int(v, "dataset_revision")) + ")  " +
                       st.Cyan(Str(v, "change")) + "  " + FormatTime(Int(v, "at"));
    if (v.contains("proposal") && v["proposal"].is_number())
      line += "  proposal #" + std::to_string(Int(v, "proposal"));
    std::cout << line << "\n";
    std::string who;
    if (!Str(v, "author_name").empty()) who += "by " + Str(v, "author_name");
    if (!Str(v, "actor_name").empty())
      who += (who.empty() ? "" : ", ") + std::string("merged by ") + Str(v, "actor_name");
    std::string approvers;
    for (const auto& a : v.value("approvers", Json::array()))
      approvers += (approvers.empty() ? "" : ", ") + Str(a, "name") + " (" + Str(a, "group") + ")";
    if (!approvers.empty())
      who += (who.empty() ? "" : ", ") + std::string("approved by ") + approvers;
    if (!who.empty()) std::cout << "      " << who << "\n";
    if (!Str(v, "reason").empty()) std::cout << "      why: " << Str(v, "reason") << "\n";
  }
  return kExitOk;
}

int Analyses(Context& ctx, const std::string& name, int64_t revision) {
  const std::string path =
      name.empty() ? "/api/v1/analyses" : "/api/v1/analyses/" + UrlEncode(name);
  auto r = ctx.Get(path + Query({{"revision", revision ? std::to_string(revision) : ""}}));
  if (!r.ok()) return ctx.Fail(r);
  if (ctx.json() || !r.body.is_structured())
    std::cout << (r.body.is_null() ? r.raw + "\n" : r.body.dump(2) + "\n");
  else
    std::cout << Tree(r.body);
  return kExitOk;
}

}  // namespace

void AddReadCommands(CLI::App& app, Context& ctx) {
  auto pf = std::make_shared<ProposalFilter>();
  auto* proposals = app.add_subcommand("proposals", "List proposals (newest first), with filters");
  proposals->add_option("--status", pf->status,
                        "open (every open one), approved, conflicted, merged, rejected, withdrawn");
  proposals->add_option("--author", pf->author, "Author's user name");
  proposals->add_option("--agreement", pf->agreement, "Agreement id");
  proposals->add_option("--kind", pf->kind, "add, recode, amend or retire");
  proposals->add_option("--limit", pf->limit, "Show at most this many")
      ->check(CLI::Range(1, 100000));
  proposals->add_flag("--all", pf->all, "Show every matching proposal (all pages)");
  OnRun(proposals, ctx, [&ctx, pf] { return ListProposals(ctx, *pf); });

  auto shown = std::make_shared<std::string>();
  auto* show = app.add_subcommand(
      "show", "Show a proposal: the diff, checks, impact and review status by group");
  show->add_option("PROPOSAL", *shown, "Proposal id")->required();
  OnRun(show, ctx, [&ctx, shown] { return Show(ctx, *shown); });

  auto af = std::make_shared<AgreementFilter>();
  auto* agreements = app.add_subcommand("agreements", "List agreements, with filters and coverage");
  agreements->add_option("--kind", af->kind, "Agreement kind");
  agreements->add_option("--element", af->element, "Only agreements coded with this element");
  agreements->add_option("-q,--query", af->q, "Text in the id, title or parties");
  agreements->add_option("--year-from", af->year_from, "From this year");
  agreements->add_option("--year-to", af->year_to, "Up to this year");
  agreements->add_option("--revision", af->revision, "As at this dataset revision");
  agreements->add_flag("--include-retired", af->include_retired, "Include retired agreements");
  agreements->add_option("--limit", af->limit, "Show at most this many")
      ->check(CLI::Range(1, 100000));
  agreements->add_flag("--all", af->all, "Show every matching agreement");
  OnRun(agreements, ctx, [&ctx, af] { return ListAgreements(ctx, *af); });

  struct AgreementGet {
    std::string id, rationale;
    int64_t revision = 0;
    bool edit = false;
  };
  auto ag = std::make_shared<AgreementGet>();
  auto* agreement = app.add_subcommand("agreement", "One agreement");
  agreement->require_subcommand(1);
  auto* get = agreement->add_subcommand(
      "get", "Show an agreement and its codings; --edit to propose a recode in $EDITOR");
  get->add_option("ID", ag->id, "Agreement id")->required();
  get->add_option("--revision", ag->revision, "As at this dataset revision");
  auto* edit = get->add_flag(
      "--edit", ag->edit,
      "Open $EDITOR on the current coding and submit the change as a recode proposal");
  get->add_option("-m,--rationale", ag->rationale, "Rationale of the recode (with --edit)");
  edit->excludes(get->get_option("--revision"));
  OnRun(get, ctx, [&ctx, ag] {
    if (ag->edit) return EditCodings(ctx, ag->id, ag->rationale);
    if (!ag->rationale.empty()) return ctx.Usage("--rationale only goes with --edit");
    return GetAgreement(ctx, ag->id, ag->revision);
  });

  auto hid = std::make_shared<std::string>();
  auto* history = app.add_subcommand(
      "history", "An agreement's versions: who changed what, when, why, approved by whom");
  history->add_option("ID", *hid, "Agreement id")->required();
  OnRun(history, ctx, [&ctx, hid] { return History(ctx, *hid); });

  struct AnalysisArgs {
    std::string name;
    int64_t revision = 0;
  };
  auto an = std::make_shared<AnalysisArgs>();
  auto* analyses = app.add_subcommand(
      "analyses", "Show an analysis' result (or list the analyses without NAME)");
  analyses->add_option("NAME", an->name, "Analysis name");
  analyses->add_option("--revision", an->revision, "For this dataset revision");
  OnRun(analyses, ctx, [&ctx, an] { return Analyses(ctx, an->name, an->revision); });
}

}  // namespace normbase::cli
