// Bulk data: export (CSV or JSON) and the admin's import (with --dry-run and
// a progress bar while a large file uploads).
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "commands.h"
#include "input.h"

namespace normbase::cli {

namespace {

// Bodies at least this large get a progress bar on a terminal.
constexpr size_t kProgressThreshold = 256 << 10;
constexpr int kBarWidth = 30;

struct ExportArgs {
  bool csv = false;
  std::string out;
};

int Export(Context& ctx, const ExportArgs& a) {
  auto r = ctx.Get(a.csv ? "/api/v1/export.csv" : "/api/v1/export.json");
  if (!r.ok()) return ctx.Fail(r);
  if (a.out.empty() || a.out == "-") {
    std::cout << r.raw;
    if (!r.raw.empty() && r.raw.back() != '\n') std::cout << "\n";
    return kExitOk;
  }
  std::ofstream f(a.out, std::ios::binary | std::ios::trunc);
  if (!(f << r.raw) || !f.flush()) return ctx.Usage("cannot write " + a.out);
  ctx.Notice("Wrote " + std::to_string(r.raw.size()) + " bytes to " + a.out);
  return kExitOk;
}

struct ImportArgs {
  std::string file, format, progress = "auto";
  bool dry_run = false;
};

void DrawBar(size_t sent, size_t total) {
  const double f = total ? static_cast<double>(sent) / static_cast<double>(total) : 1.0;
  const int filled = static_cast<int>(f * kBarWidth);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kBarWidth)
    bar += '>' + std::string(static_cast<size_t>(kBarWidth - filled - 1), ' ');
  char line[160];
  std::snprintf(line, sizeof line, "\ruploading [%s] %3d%% %.1f/%.1f MB", bar.c_str(),
                static_cast<int>(f * 100), static_cast<double>(sent) / 1e6,
                static_cast<double>(total) / 1e6);
  std::cerr << line << std::flush;
}

// The ids of a report list, the first few of a long one (--json has them all).
std::string Ids(const Json& list) {
  constexpr size_t kShown = 20;
  std::string out;
  size_t n = 0;
  for (const auto& x : list) {
    if (++n > kShown) break;
    out += (out.empty() ? "" : ", ") + (x.is_string() ? x.get<std::string>() : x.dump());
  }
  if (list.size() > kShown) out += ", … and " + std::to_string(list.size() - kShown) + " more";
  return out;
}

int Import(Context& ctx, const ImportArgs& a) {
  std::string error;
  auto text = ReadFile(a.file, &error);
  if (!text) return ctx.Usage(error);
  std::string format = a.format;
  if (format.empty()) {
    const auto dot = a.file.rfind('.');
    const std::string ext = dot == std::string::npos ? "" : a.file.substr(dot + 1);
    format = ext == "csv" ? "csv" : ext == "yaml" || ext == "yml" ? "yaml" : "json";
  }
  std::string body = std::move(*text), content_type = "application/json";
  if (format == "csv") {
    content_type = "text/csv";
  } else {
    // Checked here so that a typo gets a line number, not a server round trip.
    auto data =
        ParseData(body, format == "yaml" ? DataFormat::kYaml : DataFormat::kJson, a.file, &error);
    if (!data) return ctx.Usage(error);
    if (format == "yaml") body = data->dump();
  }
  const bool show =
      a.progress == "always" ||
      (a.progress == "auto" && body.size() >= kProgressThreshold && ::isatty(STDERR_FILENO) == 1);
  net::Progress progress;
  if (show) progress = [](size_t sent, size_t total) { DrawBar(sent, total); };
  auto r = ctx.Send("POST", std::string("/api/v1/import") + (a.dry_run ? "?dry_run=true" : ""),
                    body, content_type, progress);
  if (show) std::cerr << "\n";
  if (!r.ok()) return ctx.Fail(r);
  if (ctx.json()) {
    PrintJson(r.body);
    return kExitOk;
  }
  const Json added = r.body.value("added", Json::array()),
             changed = r.body.value("changed", Json::array());
  const auto unchanged = r.body.value("unchanged", Json());
  std::cout << (a.dry_run ? "Dry run: would add " : "Imported: added ") << added.size() << ", "
            << (a.dry_run ? "change " : "changed ") << changed.size() << ", leave "
            << Inline(unchanged) << " unchanged";
  if (a.dry_run)
    std::cout << "; nothing was written";
  else if (r.body.contains("dataset_revision"))
    std::cout << "; dataset revision " << Inline(r.body["dataset_revision"]);
  std::cout << "\n";
  if (!added.empty()) std::cout << "  added: " << Ids(added) << "\n";
  if (!changed.empty()) std::cout << "  changed: " << Ids(changed) << "\n";
  return kExitOk;
}

}  // namespace

void AddDataCommands(CLI::App& app, Context& ctx) {
  auto ea = std::make_shared<ExportArgs>();
  auto* exp =
      app.add_subcommand("export", "Export the dataset: JSON (default, or --json) or --csv");
  exp->add_flag("--csv", ea->csv, "CSV: one row per agreement, one 0/1 column per element");
  exp->add_option("-o,--output", ea->out, "Write to this file instead of standard output");
  OnRun(exp, ctx, [&ctx, ea] {
    if (ea->csv && ctx.json()) return ctx.Usage("choose one of --csv and --json");
    return Export(ctx, *ea);
  });

  auto ia = std::make_shared<ImportArgs>();
  auto* imp = app.add_subcommand(
      "import", "Import agreements (admins): all or nothing; --dry-run reports and writes nothing");
  imp->add_option(
         "FILE", ia->file,
         "JSON ({agreements: [...]} or an array), YAML, or CSV (as export --csv); - for stdin")
      ->required();
  imp->add_flag("--dry-run", ia->dry_run, "Report what would be added and changed, write nothing");
  imp->add_option("--format", ia->format,
                  "json, yaml or csv (default: from the file name, else json)")
      ->check(CLI::IsMember({"json", "yaml", "csv"}));
  imp->add_option("--progress", ia->progress,
                  "Upload progress bar: auto (large files on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  OnRun(imp, ctx, [&ctx, ia] { return Import(ctx, *ia); });
}

}  // namespace normbase::cli
