// Loads every built plugin .so through the C ABI (dlopen, as normbase-worker
// does): checks the descriptor, runs a real job, and checks that bad input,
// a bad configuration and non-JSON come back as NB_PLUGIN_BAD_INPUT with a
// message, and that nothing but the entry symbol is exported.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "datasets.h"
#include "plugin_host.h"

namespace normbase::plugins {
namespace {

using Json = nlohmann::json;

struct Expected {
  const char* name;
  const char* kind;
};

const Expected kPlugins[] = {{"codebook", NB_PLUGIN_KIND_CHECK},
                             {"evidence", NB_PLUGIN_KIND_CHECK},
                             {"duplicates", NB_PLUGIN_KIND_CHECK},
                             {"consistency", NB_PLUGIN_KIND_CHECK},
                             {"element-frequency", NB_PLUGIN_KIND_ANALYSIS},
                             {"trend", NB_PLUGIN_KIND_ANALYSIS},
                             {"co-occurrence", NB_PLUGIN_KIND_ANALYSIS},
                             {"impact", NB_PLUGIN_KIND_ANALYSIS},
                             {"inter-coder", NB_PLUGIN_KIND_ANALYSIS}};

std::string PathOf(const std::string& name) {
  return std::string(NORMBASE_PLUGIN_BUILD_DIR) + "/" + name + ".so";
}

std::unique_ptr<LoadedPlugin> Load(const std::string& name) {
  std::string error;
  auto plugin = LoadedPlugin::Load(PathOf(name), &error);
  EXPECT_NE(plugin, nullptr) << error;
  return plugin;
}

// A job every plugin understands for its kind, built from the seed data.
Json JobFor(const std::string& name) {
  const Json agreements = testing::SeedAgreements();
  Json job = testing::DatasetJob(agreements, 1);
  job["job"]["plugin"] = name;
  const Json& record = agreements[0];
  const Json proposal = {{"id", 1},
                         {"kind", "recode"},
                         {"revision", 1},
                         {"agreement_id", record["id"]},
                         {"base_dataset_revision", 1},
                         {"record", record}};
  if (name == "codebook" || name == "evidence" || name == "duplicates" || name == "consistency") {
    job.erase("scope");
    job["proposal"] = proposal;
    job["current"] = record;
  } else if (name == "impact") {
    job["scope"] = "proposal";
    job["proposal"] = proposal;
  } else if (name == "inter-coder") {
    job["codings"] =
        Json::array({{{"agreement_id", record["id"]},
                      {"coder", "dataset"},
                      {"source", "dataset"},
                      {"codings", record["codings"]}},
                     {{"agreement_id", record["id"]},
                      {"coder", "ann"},
                      {"source", "proposal:1"},
                      {"codings", {{"human-rights", record["codings"].begin().value()}}}}});
  }
  return job;
}

TEST(PluginAbi, EveryBuiltinLoadsWithItsDescriptor) {
  for (const Expected& e : kPlugins) {
    SCOPED_TRACE(e.name);
    auto plugin = Load(e.name);
    ASSERT_NE(plugin, nullptr);
    const nb_plugin& d = plugin->descriptor();
    EXPECT_EQ(d.abi_version, NB_PLUGIN_ABI_VERSION);
    EXPECT_STREQ(d.name, e.name);
    EXPECT_STREQ(d.kind, e.kind);
    EXPECT_NE(std::string(d.description), "");
    EXPECT_NE(d.create, nullptr);
    EXPECT_NE(d.destroy, nullptr);
  }
}

TEST(PluginAbi, EveryBuiltinRunsAJob) {
  const Json seed = testing::SeedFile();
  for (const Expected& e : kPlugins) {
    SCOPED_TRACE(e.name);
    auto plugin = Load(e.name);
    ASSERT_NE(plugin, nullptr);
    const RunOutcome out = plugin->Run("{}", JobFor(e.name).dump());
    ASSERT_EQ(out.code, NB_PLUGIN_OK) << out.output;
    const Json result = Json::parse(out.output);
    if (std::string(e.kind) == NB_PLUGIN_KIND_CHECK) {
      EXPECT_TRUE(result["status"] == "passed" || result["status"] == "failed");
      EXPECT_TRUE(result["findings"].is_array());
      EXPECT_TRUE(result["summary"].is_string());
    } else if (std::string(e.name) != "impact") {
      EXPECT_EQ(result["analysis"], e.name);
      EXPECT_EQ(result["dataset_revision"], 1);
      EXPECT_EQ(result["coverage"]["coded"], seed["counts"]["coded_agreements"]);
      EXPECT_EQ(result["coverage"]["text"],
                std::to_string(seed["counts"]["coded_agreements"].get<int>()) + " of " +
                    std::to_string(seed["counts"]["agreements"].get<int>()) + " agreements coded");
    } else {
      EXPECT_EQ(result["analysis"], "impact");
      EXPECT_FALSE(result["changes"].get<bool>());  // recoding a record to itself changes nothing
    }
  }
}

TEST(PluginAbi, BadInputIsReportedWithAMessage) {
  for (const Expected& e : kPlugins) {
    SCOPED_TRACE(e.name);
    auto plugin = Load(e.name);
    ASSERT_NE(plugin, nullptr);
    RunOutcome out = plugin->Run("{}", "this is not json");
    EXPECT_EQ(out.code, NB_PLUGIN_BAD_INPUT);
    EXPECT_NE(out.output.find("not JSON"), std::string::npos) << out.output;
    out = plugin->Run("{}", R"({"job": {"id": "x"}})");  // no codebook, no proposal, no dataset
    EXPECT_EQ(out.code, NB_PLUGIN_BAD_INPUT);
    EXPECT_FALSE(out.output.empty());
    Json wrong_type = JobFor(e.name);
    wrong_type["codebook"]["categories"] = "none";
    out = plugin->Run("{}", wrong_type.dump());
    EXPECT_EQ(out.code, NB_PLUGIN_BAD_INPUT);
    EXPECT_NE(out.output.find("codebook"), std::string::npos) << out.output;
  }
}

TEST(PluginAbi, ABadInstanceConfigurationIsReportedNotIgnored) {
  auto plugin = Load("trend");
  ASSERT_NE(plugin, nullptr);
  RunOutcome out = plugin->Run("[1, 2]", JobFor("trend").dump());
  EXPECT_EQ(out.code, NB_PLUGIN_BAD_INPUT);
  EXPECT_NE(out.output.find("configuration"), std::string::npos) << out.output;
  // A well-formed instance configuration is used, and the job's config overrides it.
  out = plugin->Run(R"({"period_years": 10})", JobFor("trend").dump());
  ASSERT_EQ(out.code, NB_PLUGIN_OK) << out.output;
  EXPECT_EQ(Json::parse(out.output)["periods"][0]["to"].get<int>() -
                Json::parse(out.output)["periods"][0]["from"].get<int>(),
            9);
  Json job = JobFor("trend");
  job["config"] = {{"period_years", 2}};
  out = plugin->Run(R"({"period_years": 10})", job.dump());
  ASSERT_EQ(out.code, NB_PLUGIN_OK) << out.output;
  EXPECT_EQ(Json::parse(out.output)["periods"][0]["to"].get<int>() -
                Json::parse(out.output)["periods"][0]["from"].get<int>(),
            1);
  job["config"] = {{"period_years", "ten"}};
  out = plugin->Run("{}", job.dump());
  EXPECT_EQ(out.code, NB_PLUGIN_BAD_INPUT);
  EXPECT_NE(out.output.find("config.period_years"), std::string::npos) << out.output;
}

// The host's services reach a long job: progress reports, and a cancelled job
// stops with NB_PLUGIN_FAILED.
TEST(PluginAbi, ProgressAndCancellationThroughTheHost) {
  auto plugin = Load("element-frequency");
  ASSERT_NE(plugin, nullptr);
  Json agreements = Json::array();
  for (int i = 0; i < 10000; ++i)
    agreements.push_back(testing::Record("a" + std::to_string(i), 2000 + i % 20, {"human-rights"}));
  const std::string job = testing::DatasetJob(agreements).dump();
  struct State {
    int progress_calls = 0;
    bool cancel = false;
  } state;
  nb_host host{&state,
               [](void* ctx, double, const char*) { ++static_cast<State*>(ctx)->progress_calls; },
               [](void* ctx) { return static_cast<State*>(ctx)->cancel ? 1 : 0; }};
  RunOutcome out = plugin->Run("{}", job, &host);
  ASSERT_EQ(out.code, NB_PLUGIN_OK) << out.output;
  EXPECT_GT(state.progress_calls, 0);
  state.cancel = true;
  out = plugin->Run("{}", job, &host);
  EXPECT_EQ(out.code, NB_PLUGIN_FAILED);
  EXPECT_NE(out.output.find("cancelled"), std::string::npos) << out.output;
}

TEST(PluginAbi, NotAPluginIsRefusedWithAMessage) {
  std::string error;
  EXPECT_EQ(LoadedPlugin::Load(std::string(NORMBASE_PLUGIN_BUILD_DIR) + "/no-such.so", &error),
            nullptr);
  EXPECT_NE(error.find("cannot load"), std::string::npos) << error;
  // A shared library without the entry symbol (libc is always there).
  EXPECT_EQ(LoadedPlugin::Load("libc.so.6", &error), nullptr);
  EXPECT_NE(error.find("normbase_plugin_entry"), std::string::npos) << error;
}

TEST(PluginAbi, OnlyTheEntryIsExported) {
  for (const Expected& e : kPlugins) {
    SCOPED_TRACE(e.name);
    const std::string command = "nm -D --defined-only " + PathOf(e.name) + " 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string symbols;
    char buffer[512];
    while (fgets(buffer, sizeof buffer, pipe) != nullptr) symbols += buffer;
    ASSERT_EQ(pclose(pipe), 0) << "nm failed";
    std::vector<std::string> exported;
    size_t start = 0;
    while (start < symbols.size()) {
      const size_t end = symbols.find('\n', start);
      const std::string line = symbols.substr(start, end - start);
      start = end == std::string::npos ? symbols.size() : end + 1;
      const size_t space = line.rfind(' ');
      if (space != std::string::npos) exported.push_back(line.substr(space + 1));
    }
    EXPECT_EQ(exported, std::vector<std::string>{"normbase_plugin_entry"}) << symbols;
  }
}

}  // namespace
}  // namespace normbase::plugins
