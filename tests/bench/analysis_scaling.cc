// analysis_scaling: how the built-in analyses scale with the dataset, and how
// much an incremental update after one merge and the impact of one proposal
// cost compared with a full recomputation (target: < 1% at 100k agreements).
//
//   analysis_scaling [--sizes 1000,10000,100000,1000000] [--repeats 21] [--codebook FILE]
//
// For each size a child process (fork) generates a synthetic dataset shaped by
// the codebook: years 1990-2030 (more agreements in later years), 30% not
// coded, element rates from 2% (restraint) to 60% (general cooperation), with
// human rights and ransomware growing over time. It then times, on input JSON
// already in memory ("compute") and end to end as a worker runs a job ("e2e":
// parse the input text, compute, serialise the result):
//   full        element-frequency + trend + co-occurrence from all records
//   incremental the same three from their previous results + one changed record
//               (the records themselves not sent: the state is sufficient)
//   impact      one recode proposal against the three baseline results
// and reports medians of thread CPU time, the ratios to full, the size of the three states and
// the child's peak RSS.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "jobs.h"

using normbase::analysis::Json;

namespace {

// CPU time of this thread, not wall time: the benchmark machine is shared,
// and a few-millisecond update measured by the wall clock mostly measures the
// scheduler. Everything timed here is single-threaded.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <class Fn>
double Median(int repeats, Fn&& fn) {
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const double start = CpuSeconds();
    fn();
    t.push_back(CpuSeconds() - start);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Generator {
  std::vector<std::string> elements;
  std::vector<std::string> categories;  // of each element
  std::mt19937_64 rng{42};

  double Rate(size_t e, int year) const {
    const std::string& id = elements[e];
    const double t = (year - 1990) / 40.0;  // 0 .. 1
    if (id == "general-cooperation") return 0.6;
    if (id == "human-rights") return 0.2 + 0.4 * t;
    if (id == "ransomware") return 0.01 + 0.2 * t * t;
    if (categories[e] == "restraint") return 0.02 + 0.01 * static_cast<double>(e % 3);
    return 0.08 + 0.04 * static_cast<double>(e % 5);
  }

  // Lean records: the analyses read id, year and the keys of codings, so the
  // codings carry an empty object rather than evidence text.
  Json Record(const std::string& id) {
    std::uniform_real_distribution<double> u(0, 1);
    // More agreements in later years: year = 1990 + 40 * sqrt(u).
    const int year = 1990 + static_cast<int>(40.0 * std::sqrt(u(rng)) + 0.5);
    Json codings = Json::object();
    if (u(rng) >= 0.3)
      for (size_t e = 0; e < elements.size(); ++e)
        if (u(rng) < Rate(e, year)) codings[elements[e]] = Json::object();
    return {{"id", id},
            {"title", "Agreement " + id},
            {"year", year},
            {"kind", "regional"},
            {"codings", codings}};
  }
};

Json DatasetJob(const Json& codebook, Json agreements, int64_t revision) {
  return {{"job", {{"id", "bench"}, {"plugin", "bench"}, {"attempt", 1}}},
          {"scope", "dataset"},
          {"config",
           {{"nearest_all_max", 0}}},  // neighbours are a per-agreement query, not benchmarked
          {"codebook", codebook},
          {"dataset", {{"revision", revision}, {"agreements", std::move(agreements)}}}};
}

long PeakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

void RunSize(const Json& codebook, size_t n, int repeats) {
  Generator gen;
  for (const Json& c : codebook["categories"])
    for (const Json& e : c["elements"]) {
      gen.elements.push_back(e["id"]);
      gen.categories.push_back(c["id"]);
    }
  Json agreements = Json::array();
  for (size_t i = 0; i < n; ++i) agreements.push_back(gen.Record("a" + std::to_string(i)));
  Json job = DatasetJob(codebook, std::move(agreements), 1);

  using Fn = Json (*)(const Json&);
  const std::vector<std::pair<std::string, Fn>> analyses = {
      {"element-frequency", [](const Json& j) { return normbase::analysis::RunFrequencyJob(j); }},
      {"trend", [](const Json& j) { return normbase::analysis::RunTrendJob(j); }},
      {"co-occurrence", [](const Json& j) { return normbase::analysis::RunCooccurrenceJob(j); }}};
  const int full_repeats = n >= 1000000 ? 1 : 3;

  // Full recomputation: compute only (input already parsed), and end to end as
  // a worker runs it (parse the input text, compute, serialise the result).
  Json baseline = Json::object();
  const double full = Median(full_repeats, [&] {
    for (const auto& [name, fn] : analyses) baseline[name] = fn(job);
  });
  const std::string text = job.dump();
  const double full_e2e = Median(full_repeats, [&] {
    const Json parsed = Json::parse(text);
    for (const auto& [name, fn] : analyses) std::string out = fn(parsed).dump();
  });

  // One merge: agreement a7 recoded. The incremental job carries the previous
  // result and the change, not the records.
  const Json before = job["dataset"]["agreements"][7];
  Json after = gen.Record("a7");
  after["year"] = before["year"];
  Json incremental_job = {{"scope", "dataset"},
                          {"config", job["config"]},
                          {"codebook", codebook},
                          {"dataset", {{"revision", 2}}},
                          {"changes", {{{"id", "a7"}, {"before", before}, {"after", after}}}}};
  const double incremental = Median(repeats, [&] {
    for (const auto& [name, fn] : analyses) {
      // Moved in and out, so that the harness copies nothing.
      incremental_job["previous"] = {{"revision", 1}, {"result", std::move(baseline[name])}};
      Json result = fn(incremental_job);
      baseline[name] = std::move(incremental_job["previous"]["result"]);
      if (result["computation"]["mode"] != "incremental")
        throw std::runtime_error("not incremental");
    }
  });
  std::vector<std::string> incremental_texts;
  size_t state_bytes = 0;
  for (const auto& [name, fn] : analyses) {
    incremental_job["previous"] = {{"revision", 1}, {"result", baseline[name]}};
    incremental_texts.push_back(incremental_job.dump());
    state_bytes += baseline[name]["state"].dump().size();
  }
  const double incremental_e2e = Median(repeats, [&] {
    for (size_t i = 0; i < analyses.size(); ++i)
      std::string out = analyses[i].second(Json::parse(incremental_texts[i])).dump();
  });

  // The impact of one recode proposal, from the three baseline results.
  const Json impact_job = {
      {"scope", "proposal"},
      {"codebook", codebook},
      {"dataset", {{"revision", 1}}},
      {"proposal", {{"id", 1}, {"kind", "recode"}, {"agreement_id", "a7"}, {"record", after}}},
      {"current", before},
      {"baseline", baseline}};
  const double impact = Median(repeats, [&] {
    Json result = normbase::analysis::RunImpactJob(impact_job);
    if (result["computation"]["trend"] != "baseline state")
      throw std::runtime_error("impact recomputed");
  });
  const std::string impact_text = impact_job.dump();
  const double impact_e2e = Median(repeats, [&] {
    std::string out = normbase::analysis::RunImpactJob(Json::parse(impact_text)).dump();
  });

  std::printf(
      "| %zu | %.3f | %.3f | %.2f | %.2f | %.3f%% | %.3f%% | %.2f | %.2f | %.3f%% | %.3f%% | %zu | "
      "%.0f |\n",
      n, full, full_e2e, 1e3 * incremental, 1e3 * incremental_e2e, 100.0 * incremental / full,
      100.0 * incremental_e2e / full_e2e, 1e3 * impact, 1e3 * impact_e2e, 100.0 * impact / full,
      100.0 * impact_e2e / full_e2e, state_bytes, PeakRssKb() / 1024.0);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {1000, 10000, 100000, 1000000};
  int repeats = 21;
  std::string codebook_path = NORMBASE_SEED_CODEBOOK;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--sizes") {
      sizes.clear();
      std::stringstream list(argv[i + 1]);
      for (std::string s; std::getline(list, s, ',');) sizes.push_back(std::stoull(s));
    } else if (arg == "--repeats") {
      repeats = std::stoi(argv[i + 1]);
    } else if (arg == "--codebook") {
      codebook_path = argv[i + 1];
    } else {
      std::fprintf(stderr,
                   "usage: analysis_scaling [--sizes N,N,...] [--repeats R] [--codebook FILE]\n");
      return 64;
    }
  }
  std::ifstream in(codebook_path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", codebook_path.c_str());
    return 1;
  }
  const Json codebook = Json::parse(in);
  std::printf(
      "| agreements | full s | full e2e s | incr ms | incr e2e ms | incr/full | incr/full e2e | "
      "impact ms | impact e2e ms | impact/full | impact/full e2e | state bytes | peak MiB |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::fflush(stdout);
  for (size_t n : sizes) {
    // A child per size, so that the peak RSS is that size's own.
    const pid_t pid = fork();
    if (pid == 0) {
      try {
        RunSize(codebook, n, repeats);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "size %zu: %s\n", n, e.what());
        _exit(1);
      }
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  return 0;
}
