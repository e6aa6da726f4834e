// The "trend" plugin: Share per element and category by year, period and cumulatively, with a
// least-squares trend. The logic lives in plugins/builtin/analysis_core (jobs.h); this file only
// declares the plugin to the SDK.
#include "builtin_plugin.h"
#include "jobs.h"

NORMBASE_BUILTIN_PLUGIN(
    Trend, "trend", NB_PLUGIN_KIND_ANALYSIS,
    "Share per element and category by year, period and cumulatively, with a least-squares trend.",
    ::normbase::analysis::RunTrendJob)
