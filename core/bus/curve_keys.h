// CurveZMQ key pairs and allow-lists, in files an operator can read:
//   key pair file (0600):  "public-key = <Z85>\nsecret-key = <Z85>\n"
//   public key file:       "<Z85>\n"
//   allow-list:            one Z85 public key per line; '#' starts a comment.
// Used by the broker (server key, allowed workers) and normbase-worker
// (its key pair, the server's public key; `normbase-worker keygen`).
#pragma once

#include <set>
#include <string>

#include "domain/status.h"

namespace normbase::bus {

struct CurveKeyPair {
  std::string public_z85;  // 40 characters
  std::string secret_z85;
};

Result<CurveKeyPair> GenerateKeyPair();
// Writes <prefix>.key (mode 0600, the pair) and <prefix>.pub; refuses to
// overwrite existing files.
Status WriteKeyPair(const std::string& prefix, const CurveKeyPair& kp);
Result<CurveKeyPair> ReadKeyPair(const std::string& path);
// A public key: a file holding one key, or the key itself (40 Z85 characters).
Result<std::string> ReadPublicKey(const std::string& path_or_key);
Result<std::set<std::string>> ReadAllowList(const std::string& path);
bool IsZ85Key(const std::string& s);
// Whether an endpoint stays on this machine (loopback tcp, ipc, inproc).
bool IsLocalEndpoint(const std::string& endpoint);

}  // namespace normbase::bus
