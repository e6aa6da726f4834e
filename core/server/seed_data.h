// The seed codebook and agreements (data/seed, see its README for provenance
// and what is and is not known), compiled into the server.
#pragma once

namespace normbase::server {

extern const char* const kSeedCodebookJson;
extern const char* const kSeedAgreementsJson;

}  // namespace normbase::server
