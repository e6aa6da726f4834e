// The "inter-coder" plugin: Krippendorff's alpha and Cohen's kappa per element and overall, with
// disagreements per agreement. The logic lives in plugins/builtin/analysis_core (jobs.h); this file
// only declares the plugin to the SDK.
#include "builtin_plugin.h"
#include "jobs.h"

NORMBASE_BUILTIN_PLUGIN(InterCoder, "inter-coder", NB_PLUGIN_KIND_ANALYSIS,
                        "Krippendorff's alpha and Cohen's kappa per element and overall, with "
                        "disagreements per agreement.",
                        ::normbase::analysis::RunInterCoderJob)
