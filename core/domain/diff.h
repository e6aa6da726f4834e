// Diffs between versions of an agreement, field by field and element by
// element: what a reviewer reads before voting. The three-way form shows a
// conflicted proposal's base, the agreement now, and what it proposes.
#pragma once

#include "domain/agreement.h"
#include "domain/codec.h"

namespace normbase::domain {

// {"fields": [{"field", "from", "to"}], "elements": [{"element", "change":
// "added"|"removed"|"changed", "from", "to"}]}. A null side is "absent".
Json DiffAgreements(const Agreement* from, const Agreement* to);

// {"fields": [{"field", "base", "current", "proposed", "conflict"}],
//  "elements": [...same...]}: only entries where any side differs. `conflict`
// is true where both the agreement and the proposal moved away from the base
// in different ways — the places the author must resolve.
Json ThreeWayDiff(const Agreement* base, const Agreement* current, const Agreement* proposed);

}  // namespace normbase::domain
