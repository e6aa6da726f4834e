// The "evidence" plugin: Every coded element carries a quote with a locator (configurable
// strictness). The logic lives in plugins/builtin/analysis_core (checks.h); this file only declares
// the plugin to the SDK.
#include "builtin_plugin.h"
#include "checks.h"

NORMBASE_BUILTIN_PLUGIN(
    EvidenceCheck, "evidence", NB_PLUGIN_KIND_CHECK,
    "Every coded element carries a quote with a locator (configurable strictness).",
    ::normbase::analysis::RunEvidenceCheck)
