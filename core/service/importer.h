// Importer: bulk changes to the dataset by an admin, from JSON (the export or
// seed shape, or a bare array of agreements) or CSV (the export's layout: one
// row per agreement, one 0/1 column per element). Used to bring in the BPF's
// own spreadsheet when it becomes available.
//
// All or nothing: every record is validated first; any error refuses the
// whole import with the list of problems, and the dataset is unchanged. A dry
// run reports what would change and writes nothing. A real import is one
// dataset revision, one batch, with history and events.
#pragma once

#include <string>

#include "service/common.h"

namespace normbase::service {

enum class ImportFormat { kJson, kCsv };

class Importer {
 public:
  Importer(store::Store& store, const CodebookCache& codebook, const ServiceConfig& config)
      : store_(store), codebook_(codebook), config_(config) {}

  // -> {"dry_run", "dataset_revision", "added": [ids], "changed": [ids],
  //     "unchanged": N}. InvalidArgument lists every problem found.
  void Import(const domain::User& actor, ImportFormat format, std::string body, bool dry_run,
              Done<Json> done);

 private:
  Result<std::vector<domain::Agreement>> Parse(ImportFormat format, const std::string& body) const;

  store::Store& store_;
  const CodebookCache& codebook_;
  const ServiceConfig& config_;
};

// Loads the seed codebook and agreements on first start (when the store has
// no codebook): one dataset revision, recorded as "seeded". Returns true when
// it seeded, false when the store was seeded before. Blocking.
Result<bool> SeedIfEmpty(store::Store& store, CodebookCache& cache, const std::string& codebook_json,
                         const std::string& agreements_json, const ServiceConfig& config);
// Loads the stored codebook into the cache at start-up.
Status LoadCodebookIntoCache(const store::Store& store, CodebookCache& cache);

}  // namespace normbase::service
