// The normbase CLI's exit codes: a stable contract for scripts (documented in
// docs/cli.md). Never renumber; add new codes at the end.
#pragma once

namespace normbase::cli {

inline constexpr int kExitOk = 0;
// The server answered with an error not covered below (400 bad request,
// 404 not found, 413, 5xx, ...), or the answer was not what the API promises.
inline constexpr int kExitFailed = 1;
// Bad command line, or a local input (file, editor result) that is invalid;
// nothing was sent.
inline constexpr int kExitUsage = 2;
// The server could not be reached (connection refused, DNS, timeout).
inline constexpr int kExitUnreachable = 3;
// Not signed in, a bad or revoked token (401), or the role does not allow it (403).
inline constexpr int kExitAuth = 4;
// The current state does not allow it (409): the review policy is not met
// for a merge, a stale base revision, a closed proposal, an id that exists.
inline constexpr int kExitConflict = 5;

// The exit code for an HTTP error status.
inline int ExitCodeForStatus(int http_status) {
  if (http_status == 401 || http_status == 403) return kExitAuth;
  if (http_status == 409) return kExitConflict;
  return kExitFailed;
}

}  // namespace normbase::cli
