// What every normbase command shares: the global options, the resolved server
// and token, output styles, and API calls that turn any answer into a Reply
// (a value: status, JSON, exit code and a one-line error) so that commands
// report failures the same way.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "config.h"
#include "exit_codes.h"
#include "net/client.h"
#include "output.h"

namespace normbase::cli {

struct GlobalOptions {
  std::string server;
  std::string token;
  std::string color = "auto";
  bool json = false;
  int timeout_s = 30;
};

// The outcome of one API call.
struct Reply {
  int status = 0;  // HTTP status; 0 when the server was not reached
  Json body;       // the answer parsed as JSON (null when it is not JSON)
  std::string raw;
  std::string content_type;
  int exit_code = kExitOk;
  std::string error;  // one readable line when !ok()
  bool ok() const { return exit_code == kExitOk; }
};

class Context {
 public:
  GlobalOptions global;
  // Set by the chosen subcommand's parse callback; run by main after parsing.
  std::function<int()> action;

  // Loads the config file and resolves the settings. Returns an exit code:
  // kExitOk, or kExitUsage after printing why (a malformed config file).
  int Prepare();
  const Settings& settings() const { return settings_; }
  const std::string& config_path() const { return config_path_; }
  const StoredConfig& stored() const { return stored_; }

  bool json() const { return global.json; }
  const Style& out() const { return out_style_; }  // for stdout
  const Style& err() const { return err_style_; }  // for stderr

  Reply Get(const std::string& target);
  Reply Post(const std::string& target, const Json& body);
  Reply Send(const std::string& method, const std::string& target, const std::string& body,
             const std::string& content_type = "application/json",
             const net::Progress& progress = nullptr);
  // The endpoint of the server in force; nullopt (with a printed error) when its URL is invalid.
  std::optional<net::Endpoint> endpoint();

  // Reports a failed reply (one line on stderr; with --json also the problem
  // document on stdout) and returns its exit code.
  int Fail(const Reply& r);
  // Reports a local problem (bad input, bad arguments) and returns kExitUsage.
  int Usage(const std::string& message);
  // A line on stderr for people (progress, hints); never part of the output.
  void Notice(const std::string& message) const;

 private:
  Settings settings_;
  StoredConfig stored_;
  std::string config_path_;
  Style out_style_, err_style_;
  std::unique_ptr<net::HttpClient> http_;
  bool endpoint_error_ = false;
};

// "?a=1&b=x%20y" from the pairs whose value is not empty ("" when none).
std::string Query(std::initializer_list<std::pair<const char*, std::string>> params);
std::string UrlEncode(const std::string& s);

}  // namespace normbase::cli
