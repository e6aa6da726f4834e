// Codebook: the versioned vocabulary that agreements are coded against —
// categories of norm elements, the agreement kinds and the stakeholder groups.
// Pure data plus look-ups; immutable once built, so safe to share across threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace normbase::domain {

struct Element {
  std::string id;  // slug, unique across the codebook
  std::string label;
  std::string definition;
  std::string source;  // where the element comes from (GGE 2015 13(a), BPF 2021, ...)
};

struct Category {
  std::string id;
  std::string label;
  std::string definition;
  std::vector<Element> elements;
};

struct Term {  // one entry of a controlled vocabulary
  std::string id;
  std::string label;
};

class Codebook {
 public:
  std::string id;  // e.g. "normbase-starter"
  int64_t version = 0;
  std::string about;
  std::vector<Category> categories;
  std::vector<Term> agreement_kinds;
  std::vector<Term> stakeholder_groups;

  // Rebuilds the look-up indexes; call after filling the fields.
  void Index();

  bool HasElement(const std::string& id) const { return element_category_.count(id) > 0; }
  bool HasKind(const std::string& id) const;
  bool HasStakeholderGroup(const std::string& id) const;
  // The category an element belongs to, or "" when the element is unknown.
  std::string CategoryOf(const std::string& element_id) const;
  const std::string& StakeholderLabel(const std::string& id) const;  // id itself when unknown
  // Element ids in codebook order (the column order of the CSV export).
  const std::vector<std::string>& ElementIds() const { return element_ids_; }

 private:
  std::map<std::string, std::string> element_category_;
  std::vector<std::string> element_ids_;
};

}  // namespace normbase::domain
