// The duplicates check: an add that looks like an agreement already in the
// dataset. Score = 0.6 title similarity + 0.2 year + 0.2 parties overlap; the
// weights favour the title because that is what a person searching would see.
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "checks.h"
#include "domain/agreement.h"

namespace normbase::analysis {

namespace {

Finding Error(std::string field, std::string message) {
  return {"error", std::move(field), {}, std::move(message)};
}
Finding Info(std::string field, std::string message) {
  return {"info", std::move(field), {}, std::move(message)};
}

constexpr double kTitleWeight = 0.6, kYearWeight = 0.2, kPartiesWeight = 0.2;

std::set<std::string> Words(const std::string& normalised) {
  std::set<std::string> out;
  std::istringstream in(normalised);
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

std::set<std::string> Trigrams(const std::string& normalised) {
  std::set<std::string> out;
  const std::string padded = "  " + normalised + " ";
  for (size_t i = 0; i + 3 <= padded.size(); ++i) out.insert(padded.substr(i, 3));
  return out;
}

template <class Set>
size_t Intersection(const Set& a, const Set& b) {
  size_t n = 0;
  for (const auto& x : a) n += b.count(x);
  return n;
}

// Words of a parties text or list that name someone: lower-case, 4+ letters,
// not one of the words every parties text uses.
std::set<std::string> PartyWords(const Json* parties) {
  static const std::set<std::string> kCommon = {
      "with",    "from",  "that",   "this",        "their",      "states",    "state",    "member",
      "members", "other", "signed", "governments", "government", "parties",   "party",    "open",
      "were",    "have",  "been",   "more",        "also",       "including", "launched", "group"};
  std::string text;
  if (parties != nullptr && parties->is_string()) text = parties->get<std::string>();
  if (parties != nullptr && parties->is_array())
    for (const Json& p : *parties)
      if (p.is_string()) {
        text += ' ';
        text += p.get_ref<const std::string&>();
      }
  std::set<std::string> out;
  for (const std::string& w : Words(domain::NormalizeTitle(text)))
    if (w.size() >= 4 && !kCommon.count(w)) out.insert(w);
  return out;
}

double Overlap(const std::set<std::string>& a, const std::set<std::string>& b) {
  if (a.empty() || b.empty()) return 0.0;
  return static_cast<double>(Intersection(a, b)) /
         static_cast<double>(std::min(a.size(), b.size()));
}

std::optional<int> Year(const Json& r) {
  const Json* y = OptionalMember(r, "year");
  if (y == nullptr || !y->is_number_integer()) return std::nullopt;
  return y->get<int>();
}

std::string Text(const Json& r, const char* key) {
  const Json* v = OptionalMember(r, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

double ConfigScore(const Json& config, const char* key, double fallback) {
  const Json* v = OptionalMember(config, key);
  if (v == nullptr) return fallback;
  if (!v->is_number() || v->get<double>() < 0 || v->get<double>() > 1.01)
    throw InputError(std::string("config.") + key + ": expected a number in [0, 1]");
  return v->get<double>();
}

std::string Fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

double TitleSimilarity(const std::string& a, const std::string& b) {
  const std::string na = domain::NormalizeTitle(a), nb = domain::NormalizeTitle(b);
  if (na.empty() || nb.empty()) return 0.0;
  if (na == nb) return 1.0;
  const auto wa = Words(na), wb = Words(nb);
  const size_t wboth = Intersection(wa, wb);
  const double jaccard =
      static_cast<double>(wboth) / static_cast<double>(wa.size() + wb.size() - wboth);
  const auto ta = Trigrams(na), tb = Trigrams(nb);
  const double dice =
      2.0 * static_cast<double>(Intersection(ta, tb)) / static_cast<double>(ta.size() + tb.size());
  return std::max(jaccard, dice);
}

Json RunDuplicatesCheck(const Json& job) {
  if (!job.is_object()) throw InputError("job input: expected an object");
  (void)CodebookIndex::FromJson(
      Member(job, "codebook", "input"));  // a broken codebook is a broken job
  const Json& proposal = Member(job, "proposal", "input");
  const Json& kind = Member(proposal, "kind", "proposal");
  if (!kind.is_string()) throw InputError("proposal.kind: expected a string");
  const Json& dataset = Member(job, "dataset", "input");
  const Json& agreements = Member(dataset, "agreements", "dataset");
  if (!agreements.is_array()) throw InputError("dataset.agreements: expected an array");
  const Json config =
      job.contains("config") && job["config"].is_object() ? job["config"] : Json::object();
  const double warn = ConfigScore(config, "warn_score", 0.75);
  const double error = ConfigScore(config, "error_score", 0.95);
  const Json* max_matches_json = OptionalMember(config, "max_matches");
  if (max_matches_json &&
      (!max_matches_json->is_number_integer() || max_matches_json->get<int>() < 1))
    throw InputError("config.max_matches: expected an integer >= 1");
  const int max_matches = max_matches_json ? max_matches_json->get<int>() : 3;

  std::vector<Finding> out;
  if (kind != "add") {
    out.push_back(Info("record", "only an add can duplicate an agreement"));
    return CheckReport(out, "not an add");
  }
  const Json* record = OptionalMember(proposal, "record");
  if (record == nullptr || !record->is_object()) {
    out.push_back(Error("record", "the add has no agreement record"));
    return CheckReport(out, "");
  }
  const std::string id = Text(*record, "id"), title = Text(*record, "title");
  const std::optional<int> year = Year(*record);
  const auto parties = PartyWords(OptionalMember(*record, "parties"));
  struct Match {
    double score, title, year, parties;
    const Json* agreement;
  };
  std::vector<Match> matches;
  for (const Json& other : agreements) {
    if (!other.is_object()) throw InputError("dataset.agreements: expected objects");
    const std::string other_id = Text(other, "id");
    if (!id.empty() && other_id == id) {
      Finding f = Error("id", "an agreement with id '" + id + "' exists already");
      f.extra = {{"match", {{"id", other_id}, {"title", Text(other, "title")}}}, {"score", 1.0}};
      out.push_back(std::move(f));
      continue;
    }
    const double t = TitleSimilarity(title, Text(other, "title"));
    const std::optional<int> other_year = Year(other);
    // An unknown year neither supports nor rules out a match.
    const double y = !year || !other_year                 ? 0.5
                     : *year == *other_year               ? 1.0
                     : std::abs(*year - *other_year) == 1 ? 0.5
                                                          : 0.0;
    const double p = Overlap(parties, PartyWords(OptionalMember(other, "parties")));
    const double score = kTitleWeight * t + kYearWeight * y + kPartiesWeight * p;
    if (score >= warn) matches.push_back({score, t, y, p, &other});
  }
  std::sort(matches.begin(), matches.end(),
            [](const Match& a, const Match& b) { return a.score > b.score; });
  if (matches.size() > static_cast<size_t>(max_matches)) matches.resize(max_matches);
  for (const Match& m : matches) {
    const Json& other = *m.agreement;
    Finding f{m.score >= error ? "error" : "warning",
              "title",
              {},
              "looks like the existing agreement '" + Text(other, "id") + "' (\"" +
                  Text(other, "title") + "\"): score " + Fixed2(m.score) + " (title " +
                  Fixed2(m.title) + ", year " + Fixed2(m.year) + ", parties " + Fixed2(m.parties) +
                  ")"};
    f.extra = {{"match",
                {{"id", Text(other, "id")},
                 {"title", Text(other, "title")},
                 {"year", other.value("year", Json())}}},
               {"score", m.score},
               {"components", {{"title", m.title}, {"year", m.year}, {"parties", m.parties}}}};
    out.push_back(std::move(f));
  }
  return CheckReport(out, "no existing agreement looks like this one (compared with " +
                              std::to_string(agreements.size()) + ")");
}

}  // namespace normbase::analysis
