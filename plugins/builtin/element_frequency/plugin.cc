// The "element-frequency" plugin: Count and share of coded agreements per element and category,
// ranked; most and least frequent. The logic lives in plugins/builtin/analysis_core (jobs.h); this
// file only declares the plugin to the SDK.
#include "builtin_plugin.h"
#include "jobs.h"

NORMBASE_BUILTIN_PLUGIN(ElementFrequency, "element-frequency", NB_PLUGIN_KIND_ANALYSIS,
                        "Count and share of coded agreements per element and category, ranked; "
                        "most and least frequent.",
                        ::normbase::analysis::RunFrequencyJob)
