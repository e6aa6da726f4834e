#include "api/static_files.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string_view>
#include <system_error>
#include <vector>

#include "api/problem.h"

namespace normbase::api {

namespace fs = std::filesystem;

namespace {

// Vite's output folder for content-hashed files: safe to cache forever.
constexpr std::string_view kHashedAssetsDir = "assets";
constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr char kRevalidate[] = "no-cache";
// The dashboard loads only its own scripts and styles and talks only to this
// server (REST and the live stream); charts export through data: and blob: URLs.
// ECharts sets inline style attributes, hence 'unsafe-inline' for styles only.
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'";

std::string ContentTypeFor(const fs::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".txt", "text/plain; charset=utf-8"},
      {".csv", "text/csv; charset=utf-8"},
      {".wasm", "application/wasm"},
  };
  for (const auto& [e, type] : kTypes)
    if (ext == e) return type;
  return "application/octet-stream";
}

// The path's segments, or false when one may not name a served file: "..",
// ".", hidden names (.git, .env), and bytes no file name of ours contains.
bool SafeSegments(const std::string& path, std::vector<std::string>* out) {
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string seg = path.substr(i, j - i);
    i = j + 1;
    if (seg.empty()) continue;
    if (seg.front() == '.') return false;
    if (seg.find('\0') != std::string::npos || seg.find('\\') != std::string::npos) return false;
    out->push_back(std::move(seg));
  }
  return true;
}

bool IsUnder(const fs::path& p, const std::string& root) {
  const std::string s = p.string();
  return s.size() > root.size() && s.compare(0, root.size(), root) == 0 && s[root.size()] == '/';
}

HttpResponse NotBuilt(const std::string& configured) {
  HttpResponse r;
  r.status = 404;
  r.content_type = "text/html; charset=utf-8";
  r.body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Normbase: dashboard "
      "not built</title></head><body><h1>The Normbase dashboard is not built</h1>"
      "<p>The server runs and its API is at <a href=\"/api/v1/agreements\">/api/v1</a>, but it "
      "found no dashboard" +
      (configured.empty() ? std::string() : " in <code>" + configured + "</code>") +
      ".</p><p>Build it from the source tree (needs Node.js 20.19 or newer):</p>"
      "<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>"
      "<p>then restart <code>normbase-server</code> from the source folder, or pass "
      "<code>--web.root web/dist</code>.</p></body></html>";
  r.headers.emplace_back("Cache-Control", kRevalidate);
  return r;
}

}  // namespace

StaticFiles::StaticFiles(StaticFilesOptions options) : options_(std::move(options)) {
  if (options_.root.empty()) return;
  std::error_code ec;
  fs::path root = fs::canonical(options_.root, ec);
  if (ec || !fs::is_directory(root, ec) || !fs::is_regular_file(root / "index.html", ec)) return;
  root_ = root;
  root_str_ = root.string();
  available_ = true;
}

bool StaticFiles::IsServerPath(const std::string& path) {
  for (std::string_view prefix : {"/api", "/healthz", "/metrics"}) {
    if (path.compare(0, prefix.size(), prefix) != 0) continue;
    if (path.size() == prefix.size() || path[prefix.size()] == '/') return true;
  }
  return false;
}

HttpResponse StaticFiles::Serve(const HttpRequest& req) const {
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = Problem(405, req.method + " is not allowed on " + req.path +
                                      ": the dashboard's files are read-only; allowed: GET, HEAD");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (!available_) return NotBuilt(options_.root);
  std::vector<std::string> segments;
  if (!SafeSegments(req.path, &segments)) return Problem(404, "no such file: " + req.path);
  const bool hashed_asset = !segments.empty() && segments.front() == kHashedAssetsDir;

  fs::path rel;
  for (const auto& s : segments) rel /= s;
  std::error_code ec;
  if (!segments.empty()) {
    const fs::path file = fs::canonical(root_ / rel, ec);
    if (!ec && IsUnder(file, root_str_) && fs::is_regular_file(file, ec))
      return ServeFile(file, req.if_none_match, hashed_asset);
    // A name with an extension, or anything under /assets/, was meant to be a
    // file: say it is missing instead of answering with the HTML page.
    const bool looks_like_file = segments.back().find('.') != std::string::npos;
    if (hashed_asset || looks_like_file) return Problem(404, "no such file: " + req.path);
  }
  const fs::path index = fs::canonical(root_ / "index.html", ec);
  if (ec || !IsUnder(index, root_str_)) return NotBuilt(options_.root);
  return ServeFile(index, req.if_none_match, /*immutable=*/false);
}

HttpResponse StaticFiles::ServeFile(const fs::path& file, const std::string& if_none_match,
                                    bool immutable) const {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  const auto mtime = fs::last_write_time(file, ec);
  if (ec) return Problem(404, "no such file: " + file.filename().string());
  if (size > options_.max_file_bytes)
    return Problem(
        500, "the file " + file.filename().string() + " is larger than the " +
                 std::to_string(options_.max_file_bytes) +
                 "-byte limit for static files; the dashboard build is not what it should be");
  // Size and modification time identify a version of a file well enough for
  // revalidation, and cost no read.
  char etag[64];
  std::snprintf(etag, sizeof etag, "\"%jx-%jx\"", static_cast<uintmax_t>(size),
                static_cast<uintmax_t>(mtime.time_since_epoch().count()));

  HttpResponse r;
  r.content_type = ContentTypeFor(file);
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", immutable ? kImmutable : kRevalidate);
  if (r.content_type.rfind("text/html", 0) == 0)
    r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  if (!if_none_match.empty() &&
      (if_none_match == "*" || if_none_match.find(etag) != std::string::npos)) {
    r.status = 304;
    return r;
  }
  std::ifstream in(file, std::ios::binary);
  r.body.resize(size);
  if (!in.read(r.body.data(), static_cast<std::streamsize>(size)))
    return Problem(500, "cannot read " + file.filename().string());
  return r;
}

std::string DefaultWebRoot() {
  std::vector<fs::path> candidates;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share" / "normbase" / "web");
  candidates.push_back(fs::path("web") / "dist");
  for (const auto& c : candidates)
    if (fs::is_regular_file(c / "index.html", ec)) return fs::absolute(c, ec).string();
  return "";
}

}  // namespace normbase::api
