// The "impact" plugin: What a proposal would change in frequency, trend and co-occurrence: ranks,
// shares, findings. The logic lives in plugins/builtin/analysis_core (jobs.h); this file only
// declares the plugin to the SDK.
#include "builtin_plugin.h"
#include "jobs.h"

NORMBASE_BUILTIN_PLUGIN(
    Impact, "impact", NB_PLUGIN_KIND_ANALYSIS,
    "What a proposal would change in frequency, trend and co-occurrence: ranks, shares, findings.",
    ::normbase::analysis::RunImpactJob)
