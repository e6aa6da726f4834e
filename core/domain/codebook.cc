#include "domain/codebook.h"

#include <algorithm>

namespace normbase::domain {

void Codebook::Index() {
  element_category_.clear();
  element_ids_.clear();
  for (const auto& c : categories) {
    for (const auto& e : c.elements) {
      element_category_[e.id] = c.id;
      element_ids_.push_back(e.id);
    }
  }
}

static bool Contains(const std::vector<Term>& terms, const std::string& id) {
  return std::any_of(terms.begin(), terms.end(), [&](const Term& t) { return t.id == id; });
}

bool Codebook::HasKind(const std::string& id) const { return Contains(agreement_kinds, id); }

bool Codebook::HasStakeholderGroup(const std::string& id) const {
  return Contains(stakeholder_groups, id);
}

std::string Codebook::CategoryOf(const std::string& element_id) const {
  auto it = element_category_.find(element_id);
  return it == element_category_.end() ? std::string() : it->second;
}

const std::string& Codebook::StakeholderLabel(const std::string& id) const {
  for (const auto& t : stakeholder_groups)
    if (t.id == id) return t.label;
  return id;
}

}  // namespace normbase::domain
