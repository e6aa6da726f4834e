// Contributors' writes: propose (add, recode, amend, retire), revise,
// withdraw, comment, and the $EDITOR round trip of `agreement get --edit`.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "input.h"

namespace normbase::cli {

namespace {

std::string Str(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// Prints a created or changed proposal.
int Done(Context& ctx, const Reply& r, const std::string& verb) {
  if (!r.ok()) return ctx.Fail(r);
  if (ctx.json()) {
    PrintJson(r.body);
    return kExitOk;
  }
  const int64_t id = r.body.value("id", int64_t{0});
  std::cout << verb << " proposal #" << id << ": " << Str(r.body, "kind") << " "
            << Str(r.body, "agreement_id") << " [" << ctx.out().State(Str(r.body, "state"))
            << "], revision " << r.body.value("revision", 0) << "\n";
  if (verb != "Withdrew") std::cout << "Review it with: normbase show " << id << "\n";
  return kExitOk;
}

// The agreement's current revision (the base of a change), or nullopt after reporting.
std::optional<int64_t> CurrentRevision(Context& ctx, const std::string& id, int* rc,
                                       Json* agreement = nullptr) {
  auto r = ctx.Get("/api/v1/agreements/" + UrlEncode(id));
  if (!r.ok()) {
    *rc = ctx.Fail(r);
    return std::nullopt;
  }
  if (agreement) *agreement = r.body;
  return r.body.value("revision", int64_t{0});
}

struct ProposeArgs {
  std::string id, file, rationale, coding_status;
  int64_t base = 0;
};

std::optional<Json> Load(Context& ctx, const std::string& file, int* rc) {
  std::string error;
  auto data = ReadDataFile(file, &error);
  if (!data) *rc = ctx.Usage(error);
  return data;
}

int ProposeAdd(Context& ctx, const ProposeArgs& a) {
  int rc = kExitOk;
  auto data = Load(ctx, a.file, &rc);
  if (!data) return rc;
  if (!data->is_object())
    return ctx.Usage(a.file + ": expected an agreement record (an object with id, title, ...)");
  // Either the agreement record itself or a whole request {"agreement", "rationale"}.
  Json body = data->contains("agreement") ? *data : Json{{"agreement", *data}};
  body["kind"] = "add";
  if (!a.rationale.empty()) body["rationale"] = a.rationale;
  return Done(ctx, ctx.Post("/api/v1/proposals", body), "Created");
}

// The request for a change to an existing agreement from FILE's content.
int ProposeChange(Context& ctx, const std::string& kind, const ProposeArgs& a) {
  Json body{{"kind", kind}, {"agreement_id", a.id}};
  if (kind != "retire") {
    int rc = kExitOk;
    auto data = Load(ctx, a.file, &rc);
    if (!data) return rc;
    if (!data->is_object()) return ctx.Usage(a.file + ": expected an object");
    const char* key = kind == "recode" ? "codings" : "fields";
    // Either the bare codings/fields or a request-shaped object holding them.
    if (data->contains(key)) {
      for (const char* k : {"codings", "fields", "coding_status", "rationale", "base_revision"})
        if (data->contains(k)) body[k] = (*data)[k];
    } else {
      body[key] = *data;
    }
  }
  if (!a.coding_status.empty()) body["coding_status"] = a.coding_status;
  if (!a.rationale.empty()) body["rationale"] = a.rationale;
  if (a.base) body["base_revision"] = a.base;
  if (!body.contains("base_revision")) {
    int rc = kExitOk;
    auto rev = CurrentRevision(ctx, a.id, &rc);
    if (!rev) return rc;
    body["base_revision"] = *rev;
  }
  if (kind == "retire" && !body.contains("rationale"))
    return ctx.Usage("retire needs a reason: -m TEXT");
  return Done(ctx, ctx.Post("/api/v1/proposals", body), "Created");
}

int Revise(Context& ctx, const std::string& pid_text, const ProposeArgs& a) {
  auto pid = ParseProposalId(pid_text);
  if (!pid) return ctx.Usage("'" + pid_text + "' is not a proposal id");
  if (a.file.empty() && a.rationale.empty() && !a.base)
    return ctx.Usage("nothing to revise: give a FILE, -m RATIONALE, or --base N");
  const std::string path = "/api/v1/proposals/" + std::to_string(*pid);
  auto p = ctx.Get(path);
  if (!p.ok()) return ctx.Fail(p);
  const std::string kind = Str(p.body, "kind"), agreement_id = Str(p.body, "agreement_id");
  const Json revisions = p.body.value("revisions", Json::array());
  const Json proposed = revisions.empty() ? Json() : revisions.back().value("proposed", Json());
  Json body = Json::object();
  std::optional<Json> data;
  if (!a.file.empty()) {
    int rc = kExitOk;
    data = Load(ctx, a.file, &rc);
    if (!data) return rc;
    if (!data->is_object()) return ctx.Usage(a.file + ": expected an object");
  }
  if (kind == "add") {
    // Without a file the proposed record is sent again (a new rationale only).
    Json record = data ? (data->contains("agreement") ? (*data)["agreement"] : *data) : proposed;
    if (record.is_object())
      for (const char* k : {"revision", "retired", "coded"}) record.erase(k);
    body["agreement"] = record;
    if (data && data->contains("rationale")) body["rationale"] = (*data)["rationale"];
  } else if (kind == "recode") {
    body["codings"] = data ? (data->contains("codings") ? (*data)["codings"] : *data)
                           : proposed.value("codings", Json::object());
    if (data && data->contains("rationale")) body["rationale"] = (*data)["rationale"];
  } else if (kind == "amend") {
    if (!data) return ctx.Usage("revising an amend needs a FILE with the fields to change");
    body["fields"] = data->contains("fields") ? (*data)["fields"] : *data;
    if (data->contains("rationale")) body["rationale"] = (*data)["rationale"];
  }
  if (!a.rationale.empty()) body["rationale"] = a.rationale;
  if (kind != "add") {
    // A revision is based on the agreement's current revision: that is how a
    // conflicted proposal is rebased.
    int64_t base = a.base;
    if (!base) {
      int rc = kExitOk;
      auto rev = CurrentRevision(ctx, agreement_id, &rc);
      if (!rev) return rc;
      base = *rev;
    }
    body["base_revision"] = base;
  }
  return Done(ctx, ctx.Post(path + "/revisions", body), "Revised");
}

// Runs `editor` on `path` through the shell, so that EDITOR="code --wait" works.
int RunEditor(const std::string& editor, const std::string& path) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const std::string cmd = editor + " \"$1\"";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), "sh", path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int EditCodings(Context& ctx, const std::string& id, const std::string& rationale) {
  Json agreement;
  int rc = kExitOk;
  auto rev = CurrentRevision(ctx, id, &rc, &agreement);
  if (!rev) return rc;
  if (agreement.value("retired", false))
    return ctx.Usage("agreement '" + id + "' is retired: it cannot be recoded");
  const Json original = agreement.value("codings", Json::object());

  std::string tmpl =
      (std::filesystem::temp_directory_path() / ("normbase-" + id + "-XXXXXX.yaml")).string();
  const int fd = ::mkstemps(tmpl.data(), 5);
  if (fd < 0)
    return ctx.Usage("cannot create a temporary file in " +
                     std::filesystem::temp_directory_path().string());
  ::close(fd);
  const std::string path = tmpl;
  {
    std::ofstream out(path);
    // JSON is valid YAML, so the file can carry these comments and be edited as either.
    out << "# Codings of '" << id << "' at revision " << *rev
        << ": element id -> {evidence: [{quote, locator,\n"
        << "# source_url}], note}. Every coding needs a verbatim quote and a locator.\n"
        << "# Save and quit to propose a recode; leave it unchanged or empty to cancel. JSON or "
           "YAML.\n"
        << original.dump(2) << "\n";
  }
  const char* editor = std::getenv("EDITOR");
  if (!editor || !*editor) editor = std::getenv("VISUAL");
  const std::string ed = editor && *editor ? editor : "vi";
  if (int code = RunEditor(ed, path); code != 0) {
    std::filesystem::remove(path);
    return ctx.Usage("the editor (" + ed + ") exited with status " + std::to_string(code) +
                     "; nothing was submitted");
  }
  std::string error;
  auto text = ReadFile(path, &error);
  if (!text) return ctx.Usage(error);
  const bool blank =
      text->find_first_not_of(" \t\r\n") == std::string::npos || [&] {  // only comments left
        std::string rest;
        std::istringstream in(*text);
        for (std::string line; std::getline(in, line);)
          if (line.find_first_not_of(" \t") != std::string::npos &&
              line[line.find_first_not_of(" \t")] != '#')
            rest += line;
        return rest.empty();
      }();
  if (blank) {
    std::filesystem::remove(path);
    std::cout << "Empty file: cancelled, nothing was submitted.\n";
    return kExitOk;
  }
  auto edited = ParseData(*text, DataFormat::kYaml, path, &error);
  if (!edited) return ctx.Usage(error + "; your edit is kept in " + path);
  if (!edited->is_object())
    return ctx.Usage(path + ": expected element id -> coding; your edit is kept there");
  if (*edited == original) {
    std::filesystem::remove(path);
    if (ctx.json())
      PrintJson(Json{{"submitted", false}, {"reason", "no change"}});
    else
      std::cout << "No change: nothing was submitted.\n";
    return kExitOk;
  }
  std::string why = rationale;
  if (why.empty() && ::isatty(STDIN_FILENO) == 1) {
    // Reviewers need to know why; ask rather than let the server refuse it.
    std::cerr << "Rationale (why the coding should change): " << std::flush;
    std::getline(std::cin, why);
  }
  Json body{
      {"kind", "recode"}, {"agreement_id", id}, {"base_revision", *rev}, {"codings", *edited}};
  if (!why.empty()) body["rationale"] = why;
  auto r = ctx.Post("/api/v1/proposals", body);
  if (!r.ok()) {
    int code = ctx.Fail(r);
    ctx.Notice("Your edit is kept in " + path + "; fix it and run: normbase propose recode " + id +
               " " + path);
    return code;
  }
  std::filesystem::remove(path);
  return Done(ctx, r, "Created");
}

void AddContributorCommands(CLI::App& app, Context& ctx) {
  auto pa = std::make_shared<ProposeArgs>();
  auto* propose =
      app.add_subcommand("propose", "Propose a change: add, recode, amend or retire an agreement");
  propose->require_subcommand(1);

  auto* add = propose->add_subcommand(
      "add", "Propose a new agreement from FILE (JSON or YAML: the full record)");
  add->add_option("FILE", pa->file,
                  "Agreement record, or {agreement, rationale}; - for standard input")
      ->required();
  add->add_option("-m,--rationale", pa->rationale, "Why (sources read, what was checked)");
  OnRun(add, ctx, [&ctx, pa] { return ProposeAdd(ctx, *pa); });

  auto* recode = propose->add_subcommand(
      "recode", "Propose new codings for agreement ID from FILE (JSON or YAML)");
  recode->add_option("ID", pa->id, "Agreement id")->required();
  recode
      ->add_option("FILE", pa->file,
                   "The full new coding {element: {evidence, note}}, or {codings, rationale}")
      ->required();
  recode->add_option("-m,--rationale", pa->rationale, "Why");
  recode->add_option("--coding-status", pa->coding_status, "New coding status text");
  recode->add_option("--base", pa->base,
                     "Agreement revision the change is based on (default: the current one)");
  OnRun(recode, ctx, [&ctx, pa] { return ProposeChange(ctx, "recode", *pa); });

  auto* amend = propose->add_subcommand(
      "amend", "Propose changed fields (title, year, parties, ...) of agreement ID");
  amend->add_option("ID", pa->id, "Agreement id")->required();
  amend->add_option("FILE", pa->file, "The fields to change {title: ...}, or {fields, rationale}")
      ->required();
  amend->add_option("-m,--rationale", pa->rationale, "Why");
  amend->add_option("--base", pa->base,
                    "Agreement revision the change is based on (default: the current one)");
  OnRun(amend, ctx, [&ctx, pa] { return ProposeChange(ctx, "amend", *pa); });

  auto* retire = propose->add_subcommand("retire", "Propose to retire agreement ID");
  retire->add_option("ID", pa->id, "Agreement id")->required();
  retire->add_option("-m,--rationale", pa->rationale, "Why it should go")->required();
  retire->add_option("--base", pa->base,
                     "Agreement revision the change is based on (default: the current one)");
  OnRun(retire, ctx, [&ctx, pa] { return ProposeChange(ctx, "retire", *pa); });

  auto ra = std::make_shared<ProposeArgs>();
  auto* revise = app.add_subcommand("revise",
                                    "Add a revision to your proposal: new content from FILE and/or "
                                    "a new rationale; based on the current agreement revision");
  revise->add_option("PROPOSAL", ra->id, "Proposal id")->required();
  revise->add_option("FILE", ra->file, "New content, as for propose (JSON or YAML)");
  revise->add_option("-m,--rationale", ra->rationale, "New rationale");
  revise->add_option("--base", ra->base,
                     "Agreement revision to base it on (default: the current one)");
  OnRun(revise, ctx, [&ctx, ra] { return Revise(ctx, ra->id, *ra); });

  struct TextArgs {
    std::string id, text, field, element;
  };
  auto wa = std::make_shared<TextArgs>();
  auto* withdraw = app.add_subcommand("withdraw", "Withdraw your proposal");
  withdraw->add_option("PROPOSAL", wa->id, "Proposal id")->required();
  withdraw->add_option("-m,--reason", wa->text, "Why");
  OnRun(withdraw, ctx, [&ctx, wa] {
    auto pid = ParseProposalId(wa->id);
    if (!pid) return ctx.Usage("'" + wa->id + "' is not a proposal id");
    Json body = Json::object();
    if (!wa->text.empty()) body["reason"] = wa->text;
    return Done(ctx, ctx.Post("/api/v1/proposals/" + std::to_string(*pid) + "/withdraw", body),
                "Withdrew");
  });

  auto ca = std::make_shared<TextArgs>();
  auto* comment =
      app.add_subcommand("comment", "Comment on a proposal (optionally on one field or element)");
  comment->add_option("PROPOSAL", ca->id, "Proposal id")->required();
  comment->add_option("-m,--message", ca->text, "The comment")->required();
  comment->add_option("--field", ca->field, "The field it is about");
  comment->add_option("--element", ca->element, "The element it is about");
  OnRun(comment, ctx, [&ctx, ca] {
    auto pid = ParseProposalId(ca->id);
    if (!pid) return ctx.Usage("'" + ca->id + "' is not a proposal id");
    Json body{{"text", ca->text}};
    if (!ca->field.empty()) body["field"] = ca->field;
    if (!ca->element.empty()) body["element"] = ca->element;
    auto r = ctx.Post("/api/v1/proposals/" + std::to_string(*pid) + "/comments", body);
    if (!r.ok()) return ctx.Fail(r);
    if (ctx.json())
      PrintJson(r.body);
    else
      std::cout << "Commented on proposal #" << *pid << "\n";
    return kExitOk;
  });
}

}  // namespace normbase::cli
