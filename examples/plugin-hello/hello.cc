// hello: the smallest useful Normbase check plugin, built out of tree against
// the installed SDK (see docs/plugins.md). It greets the proposed agreement by
// its title, and fails a proposal whose title is empty or shouts in capitals.
//
// Configuration (instance config given to create(), overridden by the job's
// "config"): {"greeting": "Hello"}.
#include <cctype>
#include <string>

#include <normbase/plugin.hpp>

using nlohmann::json;
using normbase::sdk::BadInput;
using normbase::sdk::Job;

class Hello {
 public:
  static constexpr const char* kName = "hello";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kKind = NB_PLUGIN_KIND_CHECK;
  static constexpr const char* kDescription =
      "Greets the proposed agreement; titles must not shout.";

  // Throwing here rejects the configuration: every run then reports it.
  explicit Hello(const json& config) : greeting_(config.value("greeting", "Hello")) {}

  json Run(Job& job) {
    const json& input = job.input();
    if (!input.is_object() || !input.contains("proposal") || !input["proposal"].is_object())
      throw BadInput("proposal: is required");
    const json& proposal = input["proposal"];
    std::string greeting = greeting_;
    if (input.contains("config") && input["config"].is_object())
      greeting = input["config"].value("greeting", greeting);

    json findings = json::array();
    const json record = proposal.value("record", json());
    if (!record.is_object()) {  // a retire: nothing to greet
      return {{"status", "passed"}, {"summary", "nothing to check"}, {"findings", findings}};
    }
    const std::string title = record.value("title", "");
    int upper = 0, letters = 0;
    for (unsigned char c : title)
      if (std::isalpha(c)) ++letters, upper += std::isupper(c) != 0;
    if (title.empty()) {
      findings.push_back(
          {{"severity", "error"}, {"field", "title"}, {"message", "the title is empty"}});
    } else if (letters >= 8 && upper == letters) {
      findings.push_back(
          {{"severity", "error"}, {"field", "title"}, {"message", "the title is all capitals"}});
    }
    findings.push_back(
        {{"severity", "info"}, {"field", "title"}, {"message", greeting + ", " + title + "!"}});
    const bool failed = findings.size() > 1;
    return {{"status", failed ? "failed" : "passed"},
            {"summary",
             failed ? findings[0]["message"].get<std::string>() : greeting + ", " + title + "!"},
            {"findings", findings}};
  }

 private:
  std::string greeting_;
};

NORMBASE_PLUGIN(Hello)
