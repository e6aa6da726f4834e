// The "codebook" plugin: Required fields, year range, element/kind/group ids of the codebook, URLs,
// no empty evidence. The logic lives in plugins/builtin/analysis_core (checks.h); this file only
// declares the plugin to the SDK.
#include "builtin_plugin.h"
#include "checks.h"

NORMBASE_BUILTIN_PLUGIN(
    CodebookCheck, "codebook", NB_PLUGIN_KIND_CHECK,
    "Required fields, year range, element/kind/group ids of the codebook, URLs, no empty evidence.",
    ::normbase::analysis::RunCodebookCheck)
