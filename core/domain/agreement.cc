#include "domain/agreement.h"

#include <cctype>

namespace normbase::domain {

bool Agreement::SameContent(const Agreement& o) const {
  return id == o.id && title == o.title && year == o.year && date == o.date && kind == o.kind &&
         leading_stakeholders == o.leading_stakeholders && parties == o.parties &&
         source_url == o.source_url && metadata_sources == o.metadata_sources &&
         bpf_inclusion == o.bpf_inclusion && coding_status == o.coding_status &&
         notes == o.notes && codings == o.codings;
}

bool IsValidSlug(const std::string& s) {
  if (s.size() < 2 || s.size() > 80) return false;
  if (s.front() == '-' || s.back() == '-') return false;
  for (unsigned char c : s)
    if (!(std::islower(c) || std::isdigit(c) || c == '-')) return false;
  return true;
}

bool IsValidIsoDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  int year = std::stoi(s.substr(0, 4)), month = std::stoi(s.substr(5, 2)),
      day = std::stoi(s.substr(8, 2));
  if (month < 1 || month > 12) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int days = (month == 2 && !leap) ? 28 : kDays[month - 1];
  return day >= 1 && day <= days;
}

bool IsWellFormedUrl(const std::string& s) {
  auto scheme_end = s.find("://");
  if (scheme_end == std::string::npos) return false;
  std::string scheme = s.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  std::string rest = s.substr(scheme_end + 3);
  if (rest.empty() || rest[0] == '/' || s.size() > 2000) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f) return false;
  return true;
}

std::string NormalizeTitle(const std::string& title) {
  std::string out;
  bool space = false;
  for (unsigned char c : title) {
    if (std::isalnum(c)) {
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      out.push_back(static_cast<char>(std::tolower(c)));
    } else if (c >= 0x80) {
      out.push_back(static_cast<char>(c));  // keep non-ASCII letters as they are
      space = false;
    } else {
      space = true;
    }
  }
  return out;
}

namespace {

Status Field(const std::string& field, const std::string& problem) {
  return Status::InvalidArgument(field + ": " + problem);
}

Status CheckText(const std::string& field, const std::string& v, size_t max) {
  if (v.size() > max) return Field(field, "longer than " + std::to_string(max) + " bytes");
  return Status::Ok();
}

}  // namespace

Status ValidateAgreement(const Agreement& a, const Codebook& cb, const AgreementLimits& lim) {
  if (!IsValidSlug(a.id))
    return Field("id", "'" + a.id +
                           "' is not a slug (2-80 characters of a-z, 0-9 and '-', not starting "
                           "or ending with '-')");
  if (a.title.empty()) return Field("title", "is required");
  NB_RETURN_IF_ERROR(CheckText("title", a.title, lim.max_title));
  if (a.year && (*a.year < 1900 || *a.year > 2100))
    return Field("year", std::to_string(*a.year) + " is outside 1900-2100");
  if (a.date) {
    if (!IsValidIsoDate(*a.date)) return Field("date", "'" + *a.date + "' is not YYYY-MM-DD");
    if (!a.year) return Field("date", "a date needs a year");
    if (std::stoi(a.date->substr(0, 4)) != *a.year)
      return Field("date", "'" + *a.date + "' does not agree with year " +
                               std::to_string(*a.year));
  }
  if (!cb.HasKind(a.kind)) return Field("kind", "'" + a.kind + "' is not an agreement kind of the codebook");
  for (size_t i = 0; i < a.leading_stakeholders.size(); ++i)
    if (!cb.HasStakeholderGroup(a.leading_stakeholders[i]))
      return Field("leading_stakeholders[" + std::to_string(i) + "]",
                   "'" + a.leading_stakeholders[i] + "' is not a stakeholder group of the codebook");
  NB_RETURN_IF_ERROR(CheckText("parties", a.parties, lim.max_text));
  NB_RETURN_IF_ERROR(CheckText("notes", a.notes, lim.max_text));
  NB_RETURN_IF_ERROR(CheckText("coding_status", a.coding_status, lim.max_text));
  if (!a.source_url.empty() && !IsWellFormedUrl(a.source_url))
    return Field("source_url", "'" + a.source_url + "' is not an http(s) URL");
  if (a.metadata_sources.size() > lim.max_urls)
    return Field("metadata_sources", "more than " + std::to_string(lim.max_urls) + " entries");
  for (size_t i = 0; i < a.metadata_sources.size(); ++i)
    if (!IsWellFormedUrl(a.metadata_sources[i]))
      return Field("metadata_sources[" + std::to_string(i) + "]",
                   "'" + a.metadata_sources[i] + "' is not an http(s) URL");
  if (a.bpf_inclusion.status != "confirmed" && a.bpf_inclusion.status != "unverified")
    return Field("bpf_inclusion.status", "must be 'confirmed' or 'unverified'");
  for (const auto& [element, coding] : a.codings) {
    const std::string f = "codings." + element;
    if (!cb.HasElement(element))
      return Field(f, "unknown element '" + element + "' (not in codebook " + cb.id + " v" +
                          std::to_string(cb.version) + ")");
    if (coding.evidence.size() > lim.max_evidence_per_element)
      return Field(f + ".evidence", "more than " + std::to_string(lim.max_evidence_per_element) +
                                        " quotes");
    NB_RETURN_IF_ERROR(CheckText(f + ".note", coding.note, lim.max_text));
    for (size_t i = 0; i < coding.evidence.size(); ++i) {
      const auto& e = coding.evidence[i];
      const std::string ef = f + ".evidence[" + std::to_string(i) + "]";
      if (e.quote.empty()) return Field(ef + ".quote", "is required (a verbatim quote)");
      NB_RETURN_IF_ERROR(CheckText(ef + ".quote", e.quote, lim.max_quote));
      NB_RETURN_IF_ERROR(CheckText(ef + ".locator", e.locator, lim.max_title));
      if (!e.source_url.empty() && !IsWellFormedUrl(e.source_url))
        return Field(ef + ".source_url", "'" + e.source_url + "' is not an http(s) URL");
    }
  }
  return Status::Ok();
}

}  // namespace normbase::domain
