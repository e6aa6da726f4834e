#include "checks.h"

#include <algorithm>
#include <regex>

#include "domain/agreement.h"

namespace normbase::analysis {

namespace {

Finding Error(std::string field, std::string message, std::string element = {}) {
  return {"error", std::move(field), std::move(element), std::move(message)};
}
Finding Warning(std::string field, std::string message, std::string element = {}) {
  return {"warning", std::move(field), std::move(element), std::move(message)};
}
Finding Info(std::string field, std::string message) {
  return {"info", std::move(field), {}, std::move(message)};
}

// The parts of a check job every check reads.
struct CheckJob {
  CodebookIndex cb;
  const Json* proposal = nullptr;
  std::string kind;
  const Json* record = nullptr;   // null for retire
  const Json* current = nullptr;  // merged record, or null
  Json config = Json::object();
};

CheckJob ParseCheckJob(const Json& job) {
  if (!job.is_object()) throw InputError("job input: expected an object");
  CheckJob c;
  // Every check validates the codebook, even one that reads nothing from it:
  // a job with a broken codebook is a broken job.
  c.cb = CodebookIndex::FromJson(Member(job, "codebook", "input"));
  c.proposal = &Member(job, "proposal", "input");
  if (!c.proposal->is_object()) throw InputError("proposal: expected an object");
  const Json& kind = Member(*c.proposal, "kind", "proposal");
  if (!kind.is_string()) throw InputError("proposal.kind: expected a string");
  c.kind = kind.get<std::string>();
  if (c.kind != "add" && c.kind != "recode" && c.kind != "amend" && c.kind != "retire")
    throw InputError("proposal.kind: '" + c.kind + "' is not add, recode, amend or retire");
  c.record = OptionalMember(*c.proposal, "record");
  c.current = OptionalMember(job, "current");
  if (const Json* config = OptionalMember(job, "config")) {
    if (!config->is_object()) throw InputError("config: expected an object");
    c.config = *config;
  }
  return c;
}

std::string Str(const Json& j, const char* key) {
  const Json* v = OptionalMember(j, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// A record that is not an object cannot be checked field by field; that is
// itself the finding.
bool RecordUsable(const CheckJob& c, std::vector<Finding>* out) {
  if (c.kind == "retire") {
    out->push_back(Info("record", "a retire proposal carries no record to check"));
    return false;
  }
  if (c.record == nullptr || !c.record->is_object()) {
    out->push_back(
        Error("record",
              "the proposal has no agreement record (an object is required for " + c.kind + ")"));
    return false;
  }
  return true;
}

void CheckUrl(const Json& v, const std::string& field, std::vector<Finding>* out,
              const std::string& element = {}) {
  if (v.is_null() || (v.is_string() && v.get<std::string>().empty())) return;
  if (!v.is_string() || !domain::IsWellFormedUrl(v.get<std::string>())) {
    // Appended piece by piece: `"'" + std::string` trips GCC 12's -Wrestrict
    // false positive (GCC PR 105329) at -O2.
    std::string message = "'";
    message += v.is_string() ? v.get<std::string>() : v.dump();
    message += "' is not a well-formed http(s) URL";
    out->push_back(Error(field, std::move(message), element));
  }
}

int ConfigInt(const Json& config, const char* key, int fallback) {
  const Json* v = OptionalMember(config, key);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer())
    throw InputError(std::string("config.") + key + ": expected an integer");
  return v->get<int>();
}

}  // namespace

Json CheckReport(const std::vector<Finding>& findings, const std::string& passed_summary) {
  int errors = 0, warnings = 0;
  Json list = Json::array();
  for (const Finding& f : findings) {
    errors += f.severity == "error";
    warnings += f.severity == "warning";
    Json item = {{"severity", f.severity}, {"field", f.field}, {"message", f.message}};
    if (!f.element.empty()) item["element"] = f.element;
    item.update(f.extra);
    list.push_back(std::move(item));
  }
  std::string summary;
  if (errors > 0) {
    const Finding* first = nullptr;
    for (const Finding& f : findings)
      if (f.severity == "error") {
        first = &f;
        break;
      }
    summary = std::to_string(errors) + " error(s)" +
              (warnings ? ", " + std::to_string(warnings) + " warning(s)" : std::string()) +
              "; first: " + first->field + ": " + first->message;
  } else {
    summary = passed_summary +
              (warnings ? " (" + std::to_string(warnings) + " warning(s))" : std::string());
  }
  return {{"status", errors > 0 ? "failed" : "passed"}, {"summary", summary}, {"findings", list}};
}

Json RunCodebookCheck(const Json& job) {
  const CheckJob c = ParseCheckJob(job);
  const CodebookIndex& cb = c.cb;
  const int year_min = ConfigInt(c.config, "year_min", 1900);
  const int year_max = ConfigInt(c.config, "year_max", 2100);
  std::vector<Finding> out;
  if (!RecordUsable(c, &out)) return CheckReport(out, "nothing to check");
  const Json& r = *c.record;

  // The proposal may name the codebook it was coded against; it must be the one in force.
  for (const Json* holder : {c.proposal, c.record}) {
    const Json* named = OptionalMember(*holder, "codebook");
    if (named == nullptr || !named->is_object()) continue;
    const std::string id = Str(*named, "id");
    const Json* version = OptionalMember(*named, "version");
    if ((!id.empty() && id != cb.id) ||
        (version && (!version->is_number_integer() || version->get<int64_t>() != cb.version)))
      out.push_back(Error("codebook", "the proposal names codebook " + named->dump() + " but " +
                                          cb.Tag() + " is in force; recode against it"));
  }
  for (const char* field : {"id", "title", "kind"}) {
    const Json* v = OptionalMember(r, field);
    if (v == nullptr || !v->is_string() || v->get<std::string>().empty())
      out.push_back(Error(field, "is required (a non-empty string)"));
  }
  const std::string id = Str(r, "id");
  if (!id.empty() && !domain::IsValidSlug(id))
    out.push_back(Error("id", "'" + id + "' is not a slug (2-80 characters of a-z, 0-9 and '-')"));
  const std::string target = Str(*c.proposal, "agreement_id");
  if (!id.empty() && !target.empty() && id != target)
    out.push_back(Error("id", "the record's id '" + id +
                                  "' differs from the proposal's agreement_id '" + target + "'"));
  if (const Json* year = OptionalMember(r, "year")) {
    if (!year->is_number_integer())
      out.push_back(Error("year", "expected an integer year or null"));
    else if (year->get<int>() < year_min || year->get<int>() > year_max)
      out.push_back(Error("year", std::to_string(year->get<int>()) + " is outside " +
                                      std::to_string(year_min) + "-" + std::to_string(year_max)));
  } else {
    out.push_back(Warning("year", "no year: the agreement is left out of every trend over time"));
  }
  const std::string kind = Str(r, "kind");
  if (!kind.empty() && !cb.kinds.count(kind))
    out.push_back(Error("kind", "'" + kind + "' is not an agreement kind of codebook " + cb.Tag()));
  if (const Json* groups = OptionalMember(r, "leading_stakeholders")) {
    if (!groups->is_array()) {
      out.push_back(Error("leading_stakeholders", "expected an array of stakeholder group ids"));
    } else {
      for (size_t i = 0; i < groups->size(); ++i) {
        const Json& g = (*groups)[i];
        if (!g.is_string() || !cb.groups.count(g.get<std::string>()))
          out.push_back(Error("leading_stakeholders[" + std::to_string(i) + "]",
                              g.dump() + " is not a stakeholder group of codebook " + cb.Tag()));
      }
    }
  }
  if (const Json* url = OptionalMember(r, "source_url")) CheckUrl(*url, "source_url", &out);
  if (const Json* urls = OptionalMember(r, "metadata_sources"); urls && urls->is_array())
    for (size_t i = 0; i < urls->size(); ++i)
      CheckUrl((*urls)[i], "metadata_sources[" + std::to_string(i) + "]", &out);
  const Json* codings = OptionalMember(r, "codings");
  if (codings != nullptr && !codings->is_object()) {
    out.push_back(Error("codings", "expected an object of element id -> coding"));
  } else if (codings != nullptr) {
    for (const auto& [element, coding] : codings->items()) {
      const std::string f = "codings." + element;
      if (cb.ElementIndex(element) < 0) {
        out.push_back(Error(
            f, "unknown element '" + element + "' (not in codebook " + cb.Tag() + ")", element));
        continue;
      }
      const Json* evidence = OptionalMember(coding, "evidence");
      if (evidence == nullptr || !evidence->is_array() || evidence->empty()) {
        out.push_back(
            Error(f + ".evidence", "no evidence: a coding needs at least one quote", element));
        continue;
      }
      for (size_t i = 0; i < evidence->size(); ++i) {
        const std::string ef = f + ".evidence[" + std::to_string(i) + "]";
        const Json& e = (*evidence)[i];
        if (Str(e, "quote").empty()) out.push_back(Error(ef + ".quote", "empty quote", element));
        if (const Json* url = OptionalMember(e, "source_url"))
          CheckUrl(*url, ef + ".source_url", &out, element);
      }
    }
  }
  return CheckReport(out, "record matches codebook " + cb.Tag());
}

Json RunEvidenceCheck(const Json& job) {
  const CheckJob c = ParseCheckJob(job);
  const std::string strictness =
      c.config.contains("strictness") && c.config["strictness"].is_string()
          ? c.config["strictness"].get<std::string>()
          : "standard";
  if (strictness != "lenient" && strictness != "standard" && strictness != "strict")
    throw InputError("config.strictness: '" + strictness + "' is not lenient, standard or strict");
  std::vector<Finding> out;
  if (!RecordUsable(c, &out)) return CheckReport(out, "nothing to check");
  const Json* codings = OptionalMember(*c.record, "codings");
  if (codings == nullptr || !codings->is_object() || codings->empty())
    return CheckReport({Info("codings", "not coded: no evidence to check")}, "not coded");
  // What a locator must look like in strict mode: a numbered or named part of the text.
  static const std::regex kLocator(
      R"((\d|\b(art|article|para|paragraph|page|p\.|pp\.|section|sec|chapter|clause|principle|commitment|norm|preamble|chapeau|annex|point|measure|recital|title)\b|§))",
      std::regex::icase);
  const std::string record_url = Str(*c.record, "source_url");
  int quotes = 0;
  for (const auto& [element, coding] : codings->items()) {
    const std::string f = "codings." + element + ".evidence";
    const Json* evidence = OptionalMember(coding, "evidence");
    if (evidence == nullptr || !evidence->is_array() || evidence->empty()) {
      out.push_back(Error(f, "no evidence quote for this element", element));
      continue;
    }
    for (size_t i = 0; i < evidence->size(); ++i) {
      const std::string ef = f + "[" + std::to_string(i) + "]";
      const Json& e = (*evidence)[i];
      const std::string quote = Str(e, "quote"), locator = Str(e, "locator");
      if (quote.empty()) {
        out.push_back(Error(ef + ".quote", "empty quote", element));
        continue;
      }
      ++quotes;
      if (locator.empty()) {
        const std::string m = "no locator: say where the quote is (article, paragraph or page)";
        out.push_back(strictness == "lenient" ? Warning(ef + ".locator", m, element)
                                              : Error(ef + ".locator", m, element));
      } else if (strictness == "strict" && !std::regex_search(locator, kLocator)) {
        out.push_back(Error(ef + ".locator",
                            "'" + locator + "' names no article, paragraph, page or numbered part",
                            element));
      }
      if (strictness == "strict" && Str(e, "source_url").empty() && record_url.empty())
        out.push_back(Error(ef + ".source_url", "no source URL for the quote nor for the agreement",
                            element));
    }
  }
  return CheckReport(out, std::to_string(codings->size()) + " element(s), " +
                              std::to_string(quotes) + " quote(s) with locators (" + strictness +
                              ")");
}

Json RunConsistencyCheck(const Json& job) {
  const CheckJob c = ParseCheckJob(job);
  std::vector<std::string> needing = {"multilateral", "regional", "plurilateral", "bilateral"};
  if (const Json* k = OptionalMember(c.config, "kinds_needing_parties")) {
    if (!k->is_array())
      throw InputError("config.kinds_needing_parties: expected an array of kinds");
    needing.clear();
    for (const Json& kind : *k) {
      if (!kind.is_string())
        throw InputError("config.kinds_needing_parties: expected an array of kinds");
      needing.push_back(kind.get<std::string>());
    }
  }
  std::string no_op = "warning";
  if (const Json* s = OptionalMember(c.config, "no_op_severity")) {
    if (!s->is_string() || (*s != "error" && *s != "warning" && *s != "info"))
      throw InputError("config.no_op_severity: expected error, warning or info");
    no_op = s->get<std::string>();
  }
  std::vector<Finding> out;
  if (c.kind == "retire") {
    if (c.current == nullptr)
      out.push_back(Error("agreement_id", "retires an agreement that does not exist"));
    return CheckReport(out, "retire is consistent");
  }
  if (!RecordUsable(c, &out)) return CheckReport(out, "nothing to check");
  const Json& r = *c.record;
  const Json* year = OptionalMember(r, "year");
  if (const Json* date = OptionalMember(r, "date")) {
    const std::string d = date->is_string() ? date->get<std::string>() : std::string();
    if (!domain::IsValidIsoDate(d))
      out.push_back(Error(
          "date", "'" + (date->is_string() ? d : date->dump()) + "' is not a date (YYYY-MM-DD)"));
    else if (year == nullptr || !year->is_number_integer())
      out.push_back(Error("year", "the date " + d + " is given but the year is not; set year to " +
                                      d.substr(0, 4)));
    else if (std::stoi(d.substr(0, 4)) != year->get<int>())
      out.push_back(Error("date", "the date " + d + " does not agree with year " +
                                      std::to_string(year->get<int>())));
  }
  const std::string kind = Str(r, "kind");
  if (std::find(needing.begin(), needing.end(), kind) != needing.end()) {
    const Json* parties = OptionalMember(r, "parties");
    const bool empty = parties == nullptr ||
                       (parties->is_string() && parties->get<std::string>().find_first_not_of(
                                                    " \t\n") == std::string::npos) ||
                       (parties->is_array() && parties->empty());
    if (empty) out.push_back(Error("parties", "a " + kind + " agreement needs its parties"));
  }
  if ((c.kind == "recode" || c.kind == "amend") && c.current != nullptr && c.current->is_object()) {
    if (c.kind == "recode") {
      const Json* now = OptionalMember(*c.current, "codings");
      const Json* then = OptionalMember(r, "codings");
      if ((now ? *now : Json::object()) == (then ? *then : Json::object()))
        out.push_back({no_op,
                       "codings",
                       {},
                       "the recode changes nothing: the codings equal the current ones"});
    } else {
      Json a = r, b = *c.current;
      for (const char* bookkeeping : {"revision", "retired", "coded"})
        a.erase(bookkeeping), b.erase(bookkeeping);
      if (a == b) out.push_back({no_op, "record", {}, "the amendment changes nothing"});
    }
  }
  if ((c.kind == "recode" || c.kind == "amend") && c.current == nullptr)
    out.push_back(Error("agreement_id", "a " + c.kind + " of an agreement that does not exist"));
  return CheckReport(out, "record is consistent");
}

}  // namespace normbase::analysis
