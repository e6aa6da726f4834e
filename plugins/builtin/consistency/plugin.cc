// The "consistency" plugin: Date agrees with year, parties where the kind needs them, no recode
// that changes nothing. The logic lives in plugins/builtin/analysis_core (checks.h); this file only
// declares the plugin to the SDK.
#include "builtin_plugin.h"
#include "checks.h"

NORMBASE_BUILTIN_PLUGIN(
    ConsistencyCheck, "consistency", NB_PLUGIN_KIND_CHECK,
    "Date agrees with year, parties where the kind needs them, no recode that changes nothing.",
    ::normbase::analysis::RunConsistencyCheck)
