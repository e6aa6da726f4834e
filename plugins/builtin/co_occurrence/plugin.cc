// The "co-occurrence" plugin: Elements found together (count, Jaccard, lift) and the nearest
// agreements to a given one. The logic lives in plugins/builtin/analysis_core (jobs.h); this file
// only declares the plugin to the SDK.
#include "builtin_plugin.h"
#include "jobs.h"

NORMBASE_BUILTIN_PLUGIN(
    CoOccurrence, "co-occurrence", NB_PLUGIN_KIND_ANALYSIS,
    "Elements found together (count, Jaccard, lift) and the nearest agreements to a given one.",
    ::normbase::analysis::RunCooccurrenceJob)
