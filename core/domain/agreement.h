// Agreement: one international cybersecurity norms agreement and how it is
// coded against the codebook. Codings keep their evidence (verbatim quote,
// locator, where it was read), because a coding without provenance cannot be
// reviewed. An empty `codings` map means "not coded", never "contains nothing".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/codebook.h"
#include "domain/status.h"

namespace normbase::domain {

struct Evidence {
  std::string quote;       // verbatim, whitespace-normalised
  std::string locator;     // article, paragraph, page ...
  std::string source_url;  // where the quote was read
  bool operator==(const Evidence&) const = default;
};

struct Coding {
  std::vector<Evidence> evidence;
  std::string note;
  bool operator==(const Coding&) const = default;
};

struct BpfInclusion {
  std::string status = "unverified";  // "confirmed" | "unverified"
  std::vector<int> years;
  std::string source;
  bool operator==(const BpfInclusion&) const = default;
};

struct Agreement {
  std::string id;  // slug: [a-z0-9-], 2..80 chars
  std::string title;
  std::optional<int> year;
  std::optional<std::string> date;  // YYYY-MM-DD
  std::string kind;
  std::vector<std::string> leading_stakeholders;
  std::string parties;
  std::string source_url;
  std::vector<std::string> metadata_sources;
  BpfInclusion bpf_inclusion;
  std::string coding_status;
  std::string notes;
  std::map<std::string, Coding> codings;  // element id -> coding

  // Bookkeeping, set by the store on merge; not part of a proposal's content.
  int64_t revision = 0;  // agreement revision, 1 on first merge
  bool retired = false;

  bool IsCoded() const { return !codings.empty(); }
  // Equal in content (ignores revision bookkeeping).
  bool SameContent(const Agreement& o) const;
};

// Limits that validation enforces; configurable by the server.
struct AgreementLimits {
  size_t max_title = 500;
  size_t max_text = 20000;  // parties, notes, coding_status, note
  size_t max_quote = 2000;
  size_t max_evidence_per_element = 50;
  size_t max_urls = 50;
};

// Checks an agreement against the rules of the data and the codebook. The
// message names the field, e.g. "codings.foo: unknown element 'foo'".
Status ValidateAgreement(const Agreement& a, const Codebook& codebook,
                         const AgreementLimits& limits = {});
bool IsValidSlug(const std::string& s);
bool IsValidIsoDate(const std::string& s);
bool IsWellFormedUrl(const std::string& s);

// Lower-case letters and digits, single spaces: "The Paris Call!" -> "the paris call".
std::string NormalizeTitle(const std::string& title);

}  // namespace normbase::domain
