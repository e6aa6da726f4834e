// Where the CLI finds its server and token: the config file written by
// `normbase login` (~/.config/normbase/config.json, or under
// $XDG_CONFIG_HOME), overridden by NORMBASE_SERVER / NORMBASE_TOKEN, which
// --server / --token override in turn.
//
// The file holds a secret, so it is written with mode 0600 in a 0700 folder,
// atomically (a temporary file renamed over the old one).
#pragma once

#include <string>

namespace normbase::cli {

// The server a fresh install talks to (normbase-server's default address).
inline constexpr char kDefaultServer[] = "http://127.0.0.1:8080";

struct StoredConfig {
  std::string server;
  std::string token;
};

// $XDG_CONFIG_HOME/normbase, else $HOME/.config/normbase; empty when neither is set.
std::string ConfigDir();
std::string ConfigPath();  // ConfigDir() + "/config.json"

// Reads the file. A missing file is an empty config (true); a malformed or
// unreadable one is false with `error` set. `warning` is set when the file is
// readable by others than its owner.
bool LoadConfig(const std::string& path, StoredConfig* out, std::string* error,
                std::string* warning);
// Writes the file (mode 0600, folder 0700). False with `error` set on failure.
bool SaveConfig(const std::string& path, const StoredConfig& config, std::string* error);

// The server and token in force, and where each came from (for whoami and errors).
struct Settings {
  std::string server;
  std::string server_from;  // "--server", "NORMBASE_SERVER", the config path, or "default"
  std::string token;
  std::string token_from;
};

// Applies the precedence flag > environment > file > default.
Settings ResolveSettings(const std::string& flag_server, const std::string& flag_token,
                         const StoredConfig& file, const std::string& file_path);

}  // namespace normbase::cli
