#include "domain/codec.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace normbase::domain {

namespace {

Status Bad(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where + ": " + what);
}

const char* TypeName(const Json& v) { return v.type_name(); }

// Small readers that turn a wrong type into a message naming the field.
Status ReadString(const Json& o, const char* key, const std::string& where, std::string* out,
                  bool required = false) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) return Bad(where + "." + key, "is required");
    return Status::Ok();
  }
  if (!it->is_string())
    return Bad(where + "." + key, std::string("expected a string, got ") + TypeName(*it));
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ReadInt(const Json& o, const char* key, const std::string& where, int64_t* out,
               bool required = false) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) return Bad(where + "." + key, "is required");
    return Status::Ok();
  }
  if (!it->is_number_integer())
    return Bad(where + "." + key, std::string("expected an integer, got ") + TypeName(*it));
  *out = it->get<int64_t>();
  return Status::Ok();
}

Status ReadBool(const Json& o, const char* key, const std::string& where, bool* out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean())
    return Bad(where + "." + key, std::string("expected true or false, got ") + TypeName(*it));
  *out = it->get<bool>();
  return Status::Ok();
}

Status ReadStrings(const Json& o, const char* key, const std::string& where,
                   std::vector<std::string>* out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return Status::Ok();
  if (!it->is_array())
    return Bad(where + "." + key, std::string("expected an array of strings, got ") + TypeName(*it));
  out->clear();
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& v = (*it)[i];
    if (!v.is_string())
      return Bad(where + "." + key + "[" + std::to_string(i) + "]",
                 std::string("expected a string, got ") + TypeName(v));
    out->push_back(v.get<std::string>());
  }
  return Status::Ok();
}

Status RequireObject(const Json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, std::string("expected an object, got ") + TypeName(j));
  return Status::Ok();
}

Status RefuseUnknown(const Json& o, const std::string& where, const std::set<std::string>& known) {
  for (auto it = o.begin(); it != o.end(); ++it)
    if (!known.count(it.key())) return Bad(where + "." + it.key(), "unknown field");
  return Status::Ok();
}

Json OptionalString(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

}  // namespace

namespace {

// Deeper documents are refused before parsing: nlohmann's parser is iterative,
// but copying, comparing and dumping a value recurse once per level, so a
// small body of nested brackets would overflow a thread's stack. Normbase's
// own documents nest fewer than ten levels.
constexpr int kMaxJsonDepth = 64;

// True when no array or object in `text` nests deeper than kMaxJsonDepth
// (brackets inside strings do not count). Malformed text is left to the parser.
bool NestingWithinLimit(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace

Result<Json> ParseJson(std::string_view text) {
  if (!NestingWithinLimit(text))
    return Status::InvalidArgument("malformed JSON: nested deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels");
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Parse again with exceptions to get the position; cheap on the error path only.
    try {
      Json again = Json::parse(text.begin(), text.end());
      (void)again;
    } catch (const Json::exception& e) {
      // parse_error for bad syntax, but also out_of_range for a number no
      // double holds ("1e400"): any of them is the client's malformed input.
      return Status::InvalidArgument(std::string("malformed JSON: ") + e.what());
    }
    return Status::InvalidArgument("malformed JSON");
  }
  return j;
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string WithMembers(std::string object, std::span<const JsonMember> members) {
  size_t size = object.size();
  for (const auto& m : members) size += m.name.size() + m.text.size() + 4;
  object.reserve(size);
  object.pop_back();  // the closing brace
  for (const auto& m : members) {
    object += ",\"";
    object += m.name;
    object += "\":";
    object += m.text;
  }
  object += '}';
  return object;
}

// ---- agreements ----------------------------------------------------------

Json ToJson(const Evidence& e) {
  return Json{{"quote", e.quote}, {"locator", e.locator}, {"source_url", e.source_url}};
}

Json ToJson(const Coding& c) {
  Json ev = Json::array();
  for (const auto& e : c.evidence) ev.push_back(ToJson(e));
  return Json{{"evidence", ev}, {"note", c.note}};
}

Json CodingsToJson(const std::map<std::string, Coding>& codings) {
  Json out = Json::object();
  for (const auto& [k, v] : codings) out[k] = ToJson(v);
  return out;
}

Json ToJson(const Agreement& a) {
  Json bpf{{"status", a.bpf_inclusion.status},
           {"years", a.bpf_inclusion.years},
           {"source", OptionalString(a.bpf_inclusion.source)}};
  return Json{{"id", a.id},
              {"title", a.title},
              {"year", a.year ? Json(*a.year) : Json(nullptr)},
              {"date", a.date ? Json(*a.date) : Json(nullptr)},
              {"kind", a.kind},
              {"leading_stakeholders", a.leading_stakeholders},
              {"parties", a.parties},
              {"source_url", a.source_url},
              {"metadata_sources", a.metadata_sources},
              {"bpf_inclusion", bpf},
              {"coding_status", a.coding_status},
              {"notes", a.notes},
              {"codings", CodingsToJson(a.codings)},
              {"coded", a.IsCoded()},
              {"revision", a.revision},
              {"retired", a.retired}};
}

Result<std::map<std::string, Coding>> CodingsFromJson(const Json& j, const std::string& where) {
  std::map<std::string, Coding> out;
  if (j.is_null()) return out;
  NB_RETURN_IF_ERROR(RequireObject(j, where));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string f = where + "." + it.key();
    NB_RETURN_IF_ERROR(RequireObject(*it, f));
    NB_RETURN_IF_ERROR(RefuseUnknown(*it, f, {"evidence", "note"}));
    Coding c;
    NB_RETURN_IF_ERROR(ReadString(*it, "note", f, &c.note));
    if (auto ev = it->find("evidence"); ev != it->end() && !ev->is_null()) {
      if (!ev->is_array()) return Bad(f + ".evidence", "expected an array of {quote, locator, source_url}");
      for (size_t i = 0; i < ev->size(); ++i) {
        const Json& e = (*ev)[i];
        const std::string ef = f + ".evidence[" + std::to_string(i) + "]";
        NB_RETURN_IF_ERROR(RequireObject(e, ef));
        NB_RETURN_IF_ERROR(RefuseUnknown(e, ef, {"quote", "locator", "source_url"}));
        Evidence x;
        NB_RETURN_IF_ERROR(ReadString(e, "quote", ef, &x.quote, true));
        NB_RETURN_IF_ERROR(ReadString(e, "locator", ef, &x.locator));
        NB_RETURN_IF_ERROR(ReadString(e, "source_url", ef, &x.source_url));
        c.evidence.push_back(std::move(x));
      }
    }
    out[it.key()] = std::move(c);
  }
  return out;
}

Result<Agreement> AgreementFromJson(const Json& j, Decode mode, const std::string& where) {
  NB_RETURN_IF_ERROR(RequireObject(j, where));
  if (mode == Decode::kInput)
    NB_RETURN_IF_ERROR(RefuseUnknown(
        j, where,
        {"id", "title", "year", "date", "kind", "leading_stakeholders", "parties", "source_url",
         "metadata_sources", "bpf_inclusion", "coding_status", "notes", "codings", "coded",
         "revision", "retired"}));
  Agreement a;
  NB_RETURN_IF_ERROR(ReadString(j, "id", where, &a.id, true));
  NB_RETURN_IF_ERROR(ReadString(j, "title", where, &a.title, true));
  int64_t year = 0;
  if (j.contains("year") && !j["year"].is_null()) {
    NB_RETURN_IF_ERROR(ReadInt(j, "year", where, &year));
    if (year < std::numeric_limits<int>::min() || year > std::numeric_limits<int>::max())
      return Bad(where + ".year", "expected a year, got " + std::to_string(year));
    a.year = static_cast<int>(year);
  }
  std::string date;
  NB_RETURN_IF_ERROR(ReadString(j, "date", where, &date));
  if (!date.empty()) a.date = date;
  NB_RETURN_IF_ERROR(ReadString(j, "kind", where, &a.kind, true));
  NB_RETURN_IF_ERROR(ReadStrings(j, "leading_stakeholders", where, &a.leading_stakeholders));
  NB_RETURN_IF_ERROR(ReadString(j, "parties", where, &a.parties));
  NB_RETURN_IF_ERROR(ReadString(j, "source_url", where, &a.source_url));
  NB_RETURN_IF_ERROR(ReadStrings(j, "metadata_sources", where, &a.metadata_sources));
  NB_RETURN_IF_ERROR(ReadString(j, "coding_status", where, &a.coding_status));
  NB_RETURN_IF_ERROR(ReadString(j, "notes", where, &a.notes));
  if (auto it = j.find("bpf_inclusion"); it != j.end() && !it->is_null()) {
    const std::string bw = where + ".bpf_inclusion";
    NB_RETURN_IF_ERROR(RequireObject(*it, bw));
    if (mode == Decode::kInput)
      NB_RETURN_IF_ERROR(RefuseUnknown(*it, bw, {"status", "years", "source"}));
    NB_RETURN_IF_ERROR(ReadString(*it, "status", bw, &a.bpf_inclusion.status));
    NB_RETURN_IF_ERROR(ReadString(*it, "source", bw, &a.bpf_inclusion.source));
    if (auto y = it->find("years"); y != it->end() && !y->is_null()) {
      if (!y->is_array()) return Bad(bw + ".years", "expected an array of integers");
      for (const auto& v : *y) {
        if (!v.is_number_integer() || v.get<int64_t>() < std::numeric_limits<int>::min() ||
            v.get<int64_t>() > std::numeric_limits<int>::max())
          return Bad(bw + ".years", "expected an array of integers");
        a.bpf_inclusion.years.push_back(v.get<int>());
      }
    }
  }
  if (auto it = j.find("codings"); it != j.end()) {
    NB_ASSIGN_OR_RETURN(a.codings, CodingsFromJson(*it, where + ".codings"));
  }
  if (mode == Decode::kStored) {
    NB_RETURN_IF_ERROR(ReadInt(j, "revision", where, &a.revision));
    NB_RETURN_IF_ERROR(ReadBool(j, "retired", where, &a.retired));
  }
  return a;
}

// ---- codebook ------------------------------------------------------------

Json ToJson(const Codebook& c) {
  Json cats = Json::array();
  for (const auto& cat : c.categories) {
    Json els = Json::array();
    for (const auto& e : cat.elements)
      els.push_back({{"id", e.id}, {"label", e.label}, {"definition", e.definition}, {"source", e.source}});
    cats.push_back({{"id", cat.id}, {"label", cat.label}, {"definition", cat.definition}, {"elements", els}});
  }
  auto terms = [](const std::vector<Term>& ts) {
    Json a = Json::array();
    for (const auto& t : ts) a.push_back({{"id", t.id}, {"label", t.label}});
    return a;
  };
  return Json{{"codebook", c.id},
              {"version", c.version},
              {"about", c.about},
              {"categories", cats},
              {"agreement_kinds", terms(c.agreement_kinds)},
              {"stakeholder_groups", terms(c.stakeholder_groups)}};
}

Result<Codebook> CodebookFromJson(const Json& j) {
  NB_RETURN_IF_ERROR(RequireObject(j, "codebook"));
  Codebook c;
  NB_RETURN_IF_ERROR(ReadString(j, "codebook", "codebook", &c.id, true));
  NB_RETURN_IF_ERROR(ReadInt(j, "version", "codebook", &c.version, true));
  NB_RETURN_IF_ERROR(ReadString(j, "about", "codebook", &c.about));
  auto cats = j.find("categories");
  if (cats == j.end() || !cats->is_array()) return Bad("codebook.categories", "expected an array");
  std::set<std::string> seen;
  for (size_t i = 0; i < cats->size(); ++i) {
    const Json& cj = (*cats)[i];
    const std::string w = "codebook.categories[" + std::to_string(i) + "]";
    NB_RETURN_IF_ERROR(RequireObject(cj, w));
    Category cat;
    NB_RETURN_IF_ERROR(ReadString(cj, "id", w, &cat.id, true));
    NB_RETURN_IF_ERROR(ReadString(cj, "label", w, &cat.label, true));
    NB_RETURN_IF_ERROR(ReadString(cj, "definition", w, &cat.definition));
    auto els = cj.find("elements");
    if (els == cj.end() || !els->is_array()) return Bad(w + ".elements", "expected an array");
    for (size_t k = 0; k < els->size(); ++k) {
      const Json& ej = (*els)[k];
      const std::string ew = w + ".elements[" + std::to_string(k) + "]";
      NB_RETURN_IF_ERROR(RequireObject(ej, ew));
      Element e;
      NB_RETURN_IF_ERROR(ReadString(ej, "id", ew, &e.id, true));
      NB_RETURN_IF_ERROR(ReadString(ej, "label", ew, &e.label, true));
      NB_RETURN_IF_ERROR(ReadString(ej, "definition", ew, &e.definition));
      NB_RETURN_IF_ERROR(ReadString(ej, "source", ew, &e.source));
      if (!seen.insert(e.id).second) return Bad(ew + ".id", "duplicate element id '" + e.id + "'");
      cat.elements.push_back(std::move(e));
    }
    c.categories.push_back(std::move(cat));
  }
  auto terms = [&](const char* key, std::vector<Term>* out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array()) return Bad(std::string("codebook.") + key, "expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string w = std::string("codebook.") + key + "[" + std::to_string(i) + "]";
      NB_RETURN_IF_ERROR(RequireObject((*it)[i], w));
      Term t;
      NB_RETURN_IF_ERROR(ReadString((*it)[i], "id", w, &t.id, true));
      NB_RETURN_IF_ERROR(ReadString((*it)[i], "label", w, &t.label));
      out->push_back(std::move(t));
    }
    return Status::Ok();
  };
  NB_RETURN_IF_ERROR(terms("agreement_kinds", &c.agreement_kinds));
  NB_RETURN_IF_ERROR(terms("stakeholder_groups", &c.stakeholder_groups));
  c.Index();
  return c;
}

// ---- proposals -----------------------------------------------------------

Json ToJson(const Review& r) {
  return Json{{"id", r.id},           {"reviewer", r.reviewer}, {"reviewer_name", r.reviewer_name},
              {"group", r.group},     {"verdict", VerdictName(r.verdict)},
              {"text", r.text},       {"revision", r.revision}, {"at", r.at}};
}

Json ToJson(const Comment& c) {
  return Json{{"id", c.id},
              {"author", c.author},
              {"author_name", c.author_name},
              {"text", c.text},
              {"revision", c.revision},
              {"field", OptionalString(c.field)},
              {"element", OptionalString(c.element)},
              {"resolved", c.resolved},
              {"resolved_by", c.resolved_by},
              {"at", c.at}};
}

Json ToJson(const ProposalRevision& r) {
  return Json{{"number", r.number},
              {"base_revision", r.base_revision},
              {"proposed", r.proposed ? ToJson(*r.proposed) : Json(nullptr)},
              {"rationale", r.rationale},
              {"author", r.author},
              {"created_at", r.created_at},
              {"votes_valid_from", r.votes_valid_from}};
}

Json ToJson(const Proposal& p) {
  Json revs = Json::array(), reviews = Json::array(), comments = Json::array();
  for (const auto& r : p.revisions) revs.push_back(ToJson(r));
  for (const auto& r : p.reviews) reviews.push_back(ToJson(r));
  for (const auto& c : p.comments) comments.push_back(ToJson(c));
  return Json{{"id", p.id},
              {"kind", KindName(p.kind)},
              {"status", StatusName(p.status)},
              {"agreement_id", p.agreement_id},
              {"author", p.author},
              {"author_name", p.author_name},
              {"created_at", p.created_at},
              {"updated_at", p.updated_at},
              {"revisions", revs},
              {"reviews", reviews},
              {"comments", comments},
              {"closed_by", p.closed_by},
              {"closed_at", p.closed_at},
              {"close_reason", p.close_reason},
              {"merged_dataset_revision", p.merged_dataset_revision}};
}

Result<Review> ReviewFromJson(const Json& rj) {
  try {
    Review r;
    r.id = rj.at("id").get<int64_t>();
    r.reviewer = rj.at("reviewer").get<int64_t>();
    r.reviewer_name = rj.value("reviewer_name", "");
    r.group = rj.value("group", "");
    r.verdict = ParseVerdict(rj.at("verdict").get<std::string>()).value_or(Verdict::kComment);
    r.text = rj.value("text", "");
    r.revision = rj.at("revision").get<int>();
    r.at = rj.value("at", int64_t{0});
    return r;
  } catch (const Json::exception& e) {
    return Status::Internal(std::string("stored review is corrupt: ") + e.what());
  }
}

Result<Comment> CommentFromJson(const Json& cj) {
  try {
    Comment c;
    c.id = cj.at("id").get<int64_t>();
    c.author = cj.at("author").get<int64_t>();
    c.author_name = cj.value("author_name", "");
    c.text = cj.value("text", "");
    c.revision = cj.value("revision", 1);
    if (cj.contains("field") && cj["field"].is_string()) c.field = cj["field"].get<std::string>();
    if (cj.contains("element") && cj["element"].is_string()) c.element = cj["element"].get<std::string>();
    c.resolved = cj.value("resolved", false);
    c.resolved_by = cj.value("resolved_by", int64_t{0});
    c.at = cj.value("at", int64_t{0});
    return c;
  } catch (const Json::exception& e) {
    return Status::Internal(std::string("stored comment is corrupt: ") + e.what());
  }
}

Result<ProposalRevision> RevisionFromJson(const Json& rj) {
  try {
    ProposalRevision r;
    r.number = rj.at("number").get<int>();
    r.base_revision = rj.at("base_revision").get<int64_t>();
    if (rj.contains("proposed") && !rj["proposed"].is_null()) {
      NB_ASSIGN_OR_RETURN(auto a, AgreementFromJson(rj["proposed"], Decode::kStored));
      r.proposed = std::move(a);
    }
    r.rationale = rj.value("rationale", "");
    r.author = rj.value("author", int64_t{0});
    r.created_at = rj.value("created_at", int64_t{0});
    r.votes_valid_from = rj.value("votes_valid_from", r.number);
    return r;
  } catch (const Json::exception& e) {
    return Status::Internal(std::string("stored proposal revision is corrupt: ") + e.what());
  }
}

Result<Proposal> ProposalFromJson(const Json& j) {
  // Stored records are ours; a failure here means corruption, reported as such.
  try {
    Proposal p;
    p.id = j.at("id").get<int64_t>();
    auto kind = ParseProposalKind(j.at("kind").get<std::string>());
    auto status = ParseProposalStatus(j.at("status").get<std::string>());
    if (!kind || !status) return Status::Internal("stored proposal has a bad kind or status");
    p.kind = *kind;
    p.status = *status;
    p.agreement_id = j.at("agreement_id").get<std::string>();
    p.author = j.at("author").get<int64_t>();
    p.author_name = j.value("author_name", "");
    p.created_at = j.value("created_at", int64_t{0});
    p.updated_at = j.value("updated_at", int64_t{0});
    for (const auto& rj : j.at("revisions")) {
      NB_ASSIGN_OR_RETURN(ProposalRevision r, RevisionFromJson(rj));
      p.revisions.push_back(std::move(r));
    }
    // A head record (store/records.h) has neither list; a full record has both.
    if (j.contains("reviews"))
      for (const auto& rj : j.at("reviews")) {
        NB_ASSIGN_OR_RETURN(Review r, ReviewFromJson(rj));
        p.reviews.push_back(std::move(r));
      }
    if (j.contains("comments"))
      for (const auto& cj : j.at("comments")) {
        NB_ASSIGN_OR_RETURN(Comment c, CommentFromJson(cj));
        p.comments.push_back(std::move(c));
      }
    p.closed_by = j.value("closed_by", int64_t{0});
    p.closed_at = j.value("closed_at", int64_t{0});
    p.close_reason = j.value("close_reason", "");
    p.merged_dataset_revision = j.value("merged_dataset_revision", int64_t{0});
    if (p.revisions.empty()) return Status::Internal("stored proposal has no revision");
    return p;
  } catch (const Json::exception& e) {
    return Status::Internal(std::string("stored proposal is corrupt: ") + e.what());
  }
}

Json ToJson(const ReviewStatus& s) {
  Json groups = Json::array(), counted = Json::array(), stale = Json::array();
  for (const auto& g : s.by_group)
    groups.push_back({{"group", g.group},
                      {"label", g.label},
                      {"approvals", g.approvals},
                      {"request_changes", g.request_changes}});
  for (const auto& r : s.counted) counted.push_back(ToJson(r));
  for (const auto& r : s.stale) stale.push_back(ToJson(r));
  return Json{{"state", s.state},
              {"approvals", s.approvals},
              {"distinct_groups", s.distinct_groups},
              {"request_changes", s.request_changes},
              {"by_group", groups},
              {"votes", counted},
              {"stale_votes", stale},
              {"missing", s.missing},
              {"conflicted", s.conflicted},
              {"approved", s.approved},
              {"can_merge", s.can_merge},
              {"agreement_revision", s.current_base}};
}

// ---- accounts and events -------------------------------------------------

Json ToJson(const User& u) {
  return Json{{"id", u.id},
              {"name", u.name},
              {"role", RoleName(u.role)},
              {"stakeholder_group", OptionalString(u.stakeholder_group)},
              {"created_at", u.created_at},
              {"disabled", u.disabled}};
}

Result<User> UserFromJson(const Json& j) {
  try {
    User u;
    u.id = j.at("id").get<int64_t>();
    u.name = j.at("name").get<std::string>();
    auto role = ParseRole(j.at("role").get<std::string>());
    if (!role) return Status::Internal("stored user has a bad role");
    u.role = *role;
    if (j.contains("stakeholder_group") && j["stakeholder_group"].is_string())
      u.stakeholder_group = j["stakeholder_group"].get<std::string>();
    u.created_at = j.value("created_at", int64_t{0});
    u.disabled = j.value("disabled", false);
    return u;
  } catch (const Json::exception& e) {
    return Status::Internal(std::string("stored user is corrupt: ") + e.what());
  }
}

Json ToJson(const TokenRecord& t) {
  return Json{{"id", t.id},
              {"user_id", t.user_id},
              {"label", t.label},
              {"created_at", t.created_at},
              {"revoked", t.revoked}};
}

Result<TokenRecord> TokenRecordFromJson(const Json& j) {
  try {
    TokenRecord t;
    t.id = j.at("id").get<int64_t>();
    t.user_id = j.at("user_id").get<int64_t>();
    t.label = j.value("label", "");
    t.created_at = j.value("created_at", int64_t{0});
    t.revoked = j.value("revoked", false);
    return t;
  } catch (const Json::exception& e) {
    return Status::Internal(std::string("stored token is corrupt: ") + e.what());
  }
}

Json ToJson(const Event& e) {
  Json payload = e.payload.empty() ? Json::object()
                                   : Json::parse(e.payload, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded()) payload = Json::object();
  return Json{{"seq", e.seq},         {"time", e.time_ms},         {"type", e.type},
              {"actor", e.actor},     {"subjects", e.subjects},   {"payload", payload}};
}

std::string EncodeEvent(const Event& e, std::string_view kind) {
  // The payload is a serialised document already (domain::Dump made it):
  // spliced in, not parsed into a tree and dumped again. Only its outline is
  // checked; a full check (Json::accept) cost more than the parse it saves.
  const bool valid = e.payload.size() >= 2 && e.payload.front() == '{' && e.payload.back() == '}';
  Json envelope{{"seq", e.seq},   {"time", e.time_ms}, {"type", e.type},
                {"actor", e.actor}, {"subjects", e.subjects}};
  if (!kind.empty()) envelope["kind"] = kind;
  std::string out = Dump(envelope);
  out.pop_back();  // the closing brace
  out += ",\"payload\":";
  out += valid ? std::string_view(e.payload) : std::string_view("{}");
  out += '}';
  return out;
}

Result<Event> EventFromJson(const Json& j) {
  try {
    Event e;
    e.seq = j.at("seq").get<uint64_t>();
    e.time_ms = j.at("time").get<int64_t>();
    e.type = j.at("type").get<std::string>();
    e.actor = j.value("actor", int64_t{0});
    e.subjects = j.value("subjects", std::map<std::string, std::string>{});
    e.payload = Dump(j.value("payload", Json::object()));
    return e;
  } catch (const Json::exception& ex) {
    return Status::Internal(std::string("stored event is corrupt: ") + ex.what());
  }
}

}  // namespace normbase::domain
