// StaticFiles: serves the built web dashboard (web/dist, installed as
// share/normbase/web) from the same origin as the API, so the browser needs
// no CORS and the live stream's Origin check passes as the server's own.
//
// Only GET and HEAD. A request path is resolved under the root segment by
// segment: "..", "." and hidden (dot) segments are refused, and the resolved
// file must still lie under the canonical root after symlinks are followed.
// Files are read from disk per request (the dashboard is a few small files, and
// a rebuilt dashboard is served without a restart), up to a size cap.
//
// Caching: Vite puts content-hashed names under /assets/, which are cached
// for a year as immutable; everything else (index.html) is "no-cache", i.e.
// revalidated each time with its ETag (If-None-Match -> 304).
//
// The dashboard routes in the browser (/proposals/12), so a path that names
// no file and has no extension gets index.html (the "SPA fallback"); a
// missing asset (a path with an extension or under /assets/) is a 404 problem.
// Without a root (the dashboard is not built) every page says how to build it.
//
// Thread-safe: immutable after construction.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "api/http_types.h"

namespace normbase::api {

struct StaticFilesOptions {
  std::string root;                   // folder with index.html; empty or missing: not built
  size_t max_file_bytes = 16u << 20;  // larger files are refused (500), never read
};

class StaticFiles {
 public:
  explicit StaticFiles(StaticFilesOptions options);

  // Whether the root exists and holds index.html.
  bool available() const { return available_; }
  // The canonical root ("" when not available), for the start-up message.
  const std::string& root() const { return root_str_; }

  // Whether `path` belongs to the server's own endpoints (/api..., /healthz,
  // /metrics): those are never answered with files, so an unknown API route
  // stays a 404 problem rather than becoming the dashboard's index.html.
  static bool IsServerPath(const std::string& path);

  // Answers a GET or HEAD for a non-server path (anything else: 405 with
  // Allow). Uses req.path and req.if_none_match.
  HttpResponse Serve(const HttpRequest& req) const;

 private:
  HttpResponse ServeFile(const std::filesystem::path& file, const std::string& if_none_match,
                         bool immutable) const;

  StaticFilesOptions options_;
  std::filesystem::path root_;
  std::string root_str_;
  bool available_ = false;
};

// Where the dashboard is when --web.root is not given: the first folder with
// an index.html of <binary dir>/../share/normbase/web (an installed server)
// and ./web/dist (scripts/run.sh, from a source tree). Empty when neither.
std::string DefaultWebRoot();

}  // namespace normbase::api
