#include "bus/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace normbase::bus {
namespace {

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  auto e = s.find_last_not_of(ws);
  s.erase(e == std::string::npos ? 0 : e + 1);
  return s;
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > (1 << 20)) return Status::TooLarge(path + " is larger than 1 MiB");
  return text;
}

Status WriteNew(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::AlreadyExists("cannot create " + path + ": " + std::strerror(errno));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Status::Internal("cannot write " + path);
}

}  // namespace

bool IsZ85Key(const std::string& s) {
  if (s.size() != 40) return false;
  uint8_t bin[32];
  return zmq_z85_decode(bin, s.c_str()) != nullptr;
}

Result<CurveKeyPair> GenerateKeyPair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0)
    return Status::Internal(std::string("cannot make a CurveZMQ key pair: ") + zmq_strerror(zmq_errno()));
  return CurveKeyPair{pub, sec};
}

Status WriteKeyPair(const std::string& prefix, const CurveKeyPair& kp) {
  NB_RETURN_IF_ERROR(WriteNew(prefix + ".key",
                              "# Normbase CurveZMQ key pair: keep secret\npublic-key = " + kp.public_z85 +
                                  "\nsecret-key = " + kp.secret_z85 + "\n",
                              0600));
  return WriteNew(prefix + ".pub", kp.public_z85 + "\n", 0644);
}

Result<CurveKeyPair> ReadKeyPair(const std::string& path) {
  NB_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  CurveKeyPair kp;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    line = Trim(line);
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = Trim(line.substr(0, eq)), v = Trim(line.substr(eq + 1));
    if (k == "public-key") kp.public_z85 = v;
    if (k == "secret-key") kp.secret_z85 = v;
  }
  if (!IsZ85Key(kp.public_z85) || !IsZ85Key(kp.secret_z85))
    return Status::InvalidArgument(path + " is not a key pair file (public-key = ..., secret-key = ...; "
                                          "make one with `normbase-worker keygen PREFIX`)");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    return Status::PermissionDenied(path + " holds a secret key but others may read it; chmod 600 it");
  return kp;
}

Result<std::string> ReadPublicKey(const std::string& path_or_key) {
  if (IsZ85Key(path_or_key)) return path_or_key;
  NB_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path_or_key));
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    line = Trim(line);
    if (line.rfind("public-key", 0) == 0) line = Trim(line.substr(line.find('=') + 1));
    if (IsZ85Key(line)) return line;
    if (line.empty() || line[0] == '#') continue;
    break;
  }
  return Status::InvalidArgument(path_or_key + " holds no Z85 public key");
}

Result<std::set<std::string>> ReadAllowList(const std::string& path) {
  NB_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  std::set<std::string> keys;
  std::istringstream lines(text);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    line = Trim(line);
    // '#' is a Z85 digit, so a comment is a line that is not a key and
    // starts with '#', or what follows a key after white space.
    const std::string first = line.substr(0, line.find_first_of(" \t"));
    if (IsZ85Key(first)) {
      keys.insert(first);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    return Status::InvalidArgument(path + ":" + std::to_string(n) + ": not a Z85 public key");
  }
  return keys;
}

bool IsLocalEndpoint(const std::string& e) {
  if (e.rfind("ipc://", 0) == 0 || e.rfind("inproc://", 0) == 0) return true;
  for (const char* p : {"tcp://127.", "tcp://localhost:", "tcp://[::1]:", "tcp://lo:"})
    if (e.rfind(p, 0) == 0) return true;
  return false;
}

}  // namespace normbase::bus
