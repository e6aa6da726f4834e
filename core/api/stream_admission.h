// Decides whether an upgrade to the live stream is allowed and what it asks
// for: the Origin must be allowed (no cross-site WebSocket hijacking), a token
// (Authorization header or ?token=, since browsers cannot set headers on a
// WebSocket) is optional but must be valid when given, and `since`/`topics`
// must parse. Beast-free; HttpServer calls it before accepting the upgrade.
#pragma once

#include <string>
#include <vector>

#include "api/http_types.h"
#include "service/accounts.h"
#include "stream/stream_protocol.h"

namespace normbase::api {

class StreamAdmitter {
 public:
  // `allowed_origins`: exact origins ("https://normbase.example.org"); the
  // server's own origin (same Host) is always allowed; requests without an
  // Origin header (non-browser clients) are allowed.
  StreamAdmitter(const service::Accounts& accounts, std::vector<std::string> allowed_origins)
      : accounts_(accounts), allowed_origins_(std::move(allowed_origins)) {}

  Result<stream::StreamAdmission> Admit(const HttpRequest& req) const;

 private:
  const service::Accounts& accounts_;
  std::vector<std::string> allowed_origins_;
};

}  // namespace normbase::api
