#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace normbase::cli {

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// mkdir -p with mode 0700 for the folders it creates.
bool MakeDirs(const std::string& dir, std::string* error) {
  std::string path;
  std::stringstream ss(dir);
  std::string part;
  if (!dir.empty() && dir[0] == '/') path = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    path += part + "/";
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      *error = "cannot create " + path + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

}  // namespace

std::string ConfigDir() {
  if (auto xdg = Env("XDG_CONFIG_HOME"); !xdg.empty()) return xdg + "/normbase";
  if (auto home = Env("HOME"); !home.empty()) return home + "/.config/normbase";
  return {};
}

std::string ConfigPath() {
  const std::string dir = ConfigDir();
  return dir.empty() ? std::string() : dir + "/config.json";
}

bool LoadConfig(const std::string& path, StoredConfig* out, std::string* error,
                std::string* warning) {
  *out = {};
  if (path.empty()) return true;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return true;
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    *warning = path + " has mode " + mode + " but holds a token: run chmod 600 " + path;
  }
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = path + " is not a JSON object; fix it or run normbase login again";
    return false;
  }
  for (const char* key : {"server", "token"}) {
    if (j.contains(key) && !j[key].is_string()) {
      *error = path + ": '" + key + "' must be a string";
      return false;
    }
  }
  out->server = j.value("server", "");
  out->token = j.value("token", "");
  return true;
}

bool SaveConfig(const std::string& path, const StoredConfig& config, std::string* error) {
  if (path.empty()) {
    *error = "no config folder: set HOME or XDG_CONFIG_HOME";
    return false;
  }
  const std::string dir = path.substr(0, path.rfind('/'));
  if (!MakeDirs(dir, error)) return false;
  ::chmod(dir.c_str(), 0700);
  nlohmann::json j = nlohmann::json::object();
  if (!config.server.empty()) j["server"] = config.server;
  if (!config.token.empty()) j["token"] = config.token;
  const std::string text = j.dump(2) + "\n";
  const std::string tmp = path + ".tmp";
  // Created 0600 from the start: the token never sits in a wider-mode file.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  ::fchmod(fd, 0600);  // O_CREAT does not change the mode of an existing file
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

Settings ResolveSettings(const std::string& flag_server, const std::string& flag_token,
                         const StoredConfig& file, const std::string& file_path) {
  Settings s;
  auto pick = [](const std::string& flag, const char* flag_name, const char* env_name,
                 const std::string& from_file, const std::string& file_path, std::string* value,
                 std::string* from) {
    if (!flag.empty()) {
      *value = flag;
      *from = flag_name;
    } else if (auto env = Env(env_name); !env.empty()) {
      *value = env;
      *from = env_name;
    } else if (!from_file.empty()) {
      *value = from_file;
      *from = file_path;
    }
  };
  pick(flag_server, "--server", "NORMBASE_SERVER", file.server, file_path, &s.server,
       &s.server_from);
  pick(flag_token, "--token", "NORMBASE_TOKEN", file.token, file_path, &s.token, &s.token_from);
  if (s.server.empty()) {
    s.server = kDefaultServer;
    s.server_from = "default";
  }
  while (s.server.size() > 1 && s.server.back() == '/') s.server.pop_back();
  return s;
}

}  // namespace normbase::cli
