// Job-level entry points of the built-in analyses: from the job's input JSON
// (docs/plugins.md, "Analysis jobs") to the result document. Each plugin's
// plugin.cc is a thin wrapper around one of these, so that the whole job —
// including the incremental path — is unit-tested without dlopen().
//
// Incremental update: when the input has "previous" (this plugin's result at an
// earlier revision, with its "state") and "changes", the result is computed
// from that state and the changed records only; "dataset.agreements" may then
// be omitted. A state built under another codebook is not reused: the result
// is recomputed in full when the agreements are present, and the job is bad
// input otherwise. The result says which path ran in "computation".
//
// All throw InputError on malformed input, and Cancelled when `hooks` say the
// job was cancelled while the records were read.
#pragma once

#include "model.h"

namespace normbase::analysis {

Json RunFrequencyJob(const Json& input, const JobHooks* hooks = nullptr);
Json RunTrendJob(const Json& input, const JobHooks* hooks = nullptr);
Json RunCooccurrenceJob(const Json& input, const JobHooks* hooks = nullptr);
Json RunInterCoderJob(const Json& input, const JobHooks* hooks = nullptr);
// Scope "proposal": the difference a proposal would make to element
// frequency, trend and co-occurrence. Uses the baseline results' states when
// given (cost independent of the dataset size), else recomputes the baseline.
Json RunImpactJob(const Json& input, const JobHooks* hooks = nullptr);

}  // namespace normbase::analysis
