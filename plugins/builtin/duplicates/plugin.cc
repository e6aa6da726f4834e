// The "duplicates" plugin: An add that looks like an existing agreement (title, year, parties),
// with the match and score. The logic lives in plugins/builtin/analysis_core (checks.h); this file
// only declares the plugin to the SDK.
#include "builtin_plugin.h"
#include "checks.h"

NORMBASE_BUILTIN_PLUGIN(DuplicatesCheck, "duplicates", NB_PLUGIN_KIND_CHECK,
                        "An add that looks like an existing agreement (title, year, parties), with "
                        "the match and score.",
                        ::normbase::analysis::RunDuplicatesCheck)
