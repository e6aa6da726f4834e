#include "context.h"

#include <unistd.h>

#include <iostream>

namespace normbase::cli {

namespace {

std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int Context::Prepare() {
  out_style_ = Style(WantColor(global.color, STDOUT_FILENO));
  err_style_ = Style(WantColor(global.color, STDERR_FILENO));
  config_path_ = ConfigPath();
  std::string error, warning;
  if (!LoadConfig(config_path_, &stored_, &error, &warning)) return Usage(error);
  if (!warning.empty()) Notice(err_style_.Yellow("warning: ") + warning);
  settings_ = ResolveSettings(global.server, global.token, stored_, config_path_);
  return kExitOk;
}

std::optional<net::Endpoint> Context::endpoint() {
  std::string error;
  auto e = net::ParseUrl(settings_.server, &error);
  if (!e) {
    std::string from =
        settings_.server_from == "default" ? "" : " (from " + settings_.server_from + ")";
    Usage(error + from);
  }
  return e;
}

Reply Context::Get(const std::string& target) { return Send("GET", target, ""); }

Reply Context::Post(const std::string& target, const Json& body) {
  return Send("POST", target, body.is_null() ? "{}" : body.dump());
}

Reply Context::Send(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& content_type, const net::Progress& progress) {
  Reply r;
  if (!http_) {
    if (endpoint_error_) {
      r.exit_code = kExitUsage;
      r.error = "invalid server URL";
      return r;
    }
    auto e = endpoint();
    if (!e) {
      endpoint_error_ = true;
      r.exit_code = kExitUsage;
      r.error = "invalid server URL '" + settings_.server + "'";
      return r;
    }
    http_ = std::make_unique<net::HttpClient>(*e, settings_.token, global.timeout_s * 1000);
  }
  auto res = http_->Request(method, target, body, content_type, progress);
  r.status = res.status;
  r.raw = std::move(res.body);
  r.content_type = res.content_type;
  if (res.status == 0) {
    r.exit_code = kExitUnreachable;
    r.error =
        res.transport_error + " (server " + settings_.server +
        (settings_.server_from == "default" ? ", the default" : " from " + settings_.server_from) +
        ")";
    return r;
  }
  r.body = Json::parse(r.raw, nullptr, false);
  if (r.body.is_discarded()) r.body = nullptr;
  if (res.status >= 200 && res.status < 300) return r;
  r.exit_code = ExitCodeForStatus(res.status);
  std::string detail, title;
  if (r.body.is_object()) {
    detail = r.body.value("detail", "");
    title = r.body.value("title", "");
  }
  if (detail.empty()) detail = r.raw.empty() ? "no detail given" : r.raw.substr(0, 300);
  r.error = OneLine(detail) + " (" + std::to_string(res.status) +
            (title.empty() ? "" : " " + title) + ")";
  if (res.status == 401)
    r.error += settings_.token.empty() ? "; sign in with: normbase login --server URL --token TOKEN"
                                       : "; the token is from " + settings_.token_from;
  return r;
}

int Context::Fail(const Reply& r) {
  if (r.exit_code == kExitOk) return kExitOk;
  if (global.json) {
    Json doc = r.body.is_object()
                   ? r.body
                   : Json{{"title", r.status == 0 ? "Unreachable" : "Error"}, {"detail", r.error}};
    if (r.status == 0) doc["status"] = nullptr;
    doc["exit_code"] = r.exit_code;
    PrintJson(doc);
  }
  std::cerr << err_style_.Red("normbase: ") << r.error << "\n";
  return r.exit_code;
}

int Context::Usage(const std::string& message) {
  if (global.json)
    PrintJson(Json{{"title", "Usage error"}, {"detail", message}, {"exit_code", kExitUsage}});
  std::cerr << err_style_.Red("normbase: ") << message << "\n";
  return kExitUsage;
}

void Context::Notice(const std::string& message) const { std::cerr << message << "\n"; }

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == ',') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Query(std::initializer_list<std::pair<const char*, std::string>> params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    q += (q.empty() ? "?" : "&") + std::string(k) + "=" + UrlEncode(v);
  }
  return q;
}

}  // namespace normbase::cli
