#include "server/admin_socket.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "server/backup.h"

namespace normbase::server {

namespace {

// A request is one short JSON line; anything longer is not ours.
constexpr size_t kMaxRequestBytes = 64 * 1024;
// A local client sends its line at once; one that stalls must not block backups.
constexpr int kRequestReadTimeoutMs = 5000;

std::string Errno() { return std::strerror(errno); }

std::string SocketPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / kAdminSocketName).string();
}

Status FillAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path))
    return Status::InvalidArgument("the admin socket path " + path + " is longer than the " +
                                   std::to_string(sizeof(addr->sun_path) - 1) +
                                   " bytes a Unix socket allows; use a shorter --data path");
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return Status::Ok();
}

// Reads up to the first newline, within `timeout_ms` in total.
Result<std::string> ReadLine(int fd, int timeout_ms) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0)
      return Status::Unavailable("no complete answer within " + std::to_string(timeout_ms) + " ms");
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::Internal("poll: " + Errno());
    if (r == 0) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal("read: " + Errno());
    if (n == 0) return Status::Unavailable("the peer closed the connection before a complete line");
    line.append(buf, static_cast<size_t>(n));
    if (line.size() > kMaxRequestBytes) return Status::TooLarge("line longer than 64 KiB");
  }
  return line.substr(0, line.find('\n'));
}

Status WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal("write: " + Errno());
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

nlohmann::json Error(const std::string& message) { return {{"ok", false}, {"error", message}}; }

}  // namespace

Result<std::unique_ptr<AdminSocket>> AdminSocket::Start(const std::string& data_dir,
                                                        store::Store& store) {
  const std::string path = SocketPath(data_dir);
  sockaddr_un addr;
  NB_RETURN_IF_ERROR(FillAddress(path, &addr));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Internal("admin socket: " + Errno());
  ::unlink(path.c_str());  // a stale socket of a server that crashed; we hold the data dir's lock
  // Created 0600 from the start (umask), not chmod-ed after: no window for other users.
  const mode_t old_mask = ::umask(0177);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::umask(old_mask);
  if (!bound || ::listen(fd, 8) != 0) {
    Status s = Status::Internal("cannot listen on the admin socket " + path + ": " + Errno());
    ::close(fd);
    return s;
  }
  int wake = ::eventfd(0, EFD_CLOEXEC);
  if (wake < 0) {
    ::close(fd);
    ::unlink(path.c_str());
    return Status::Internal("admin socket: eventfd: " + Errno());
  }
  std::unique_ptr<AdminSocket> s(new AdminSocket(path, fd, wake, store));
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

AdminSocket::AdminSocket(std::string path, int listen_fd, int wake_fd, store::Store& store)
    : path_(std::move(path)), listen_fd_(listen_fd), wake_fd_(wake_fd), store_(store) {}

AdminSocket::~AdminSocket() {
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(wake_fd_);
  ::unlink(path_.c_str());
}

void AdminSocket::Loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("admin socket: poll: {}", Errno());
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    Serve(c);
    ::close(c);
  }
}

void AdminSocket::Serve(int fd) {
  // The file mode already keeps others out; the credential check holds even if
  // someone loosens the folder's permissions.
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      (cred.uid != ::geteuid() && cred.uid != 0)) {
    spdlog::warn("admin socket: refused a peer running as uid {}", cred.uid);
    (void)WriteAll(fd, Error("permission denied: run as the server's user or root").dump() + "\n");
    return;
  }
  auto line = ReadLine(fd, kRequestReadTimeoutMs);
  nlohmann::json answer;
  if (!line.ok()) {
    answer = Error("bad request: " + line.status().message());
  } else {
    auto req = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
    answer =
        req.is_object() ? Answer(req) : Error("bad request: expected one JSON object on one line");
  }
  (void)WriteAll(fd, answer.dump() + "\n");
}

nlohmann::json AdminSocket::Answer(const nlohmann::json& req) {
  const std::string op = req.value("op", std::string());
  if (op == "status")
    return {{"ok", true}, {"pid", ::getpid()}, {"last_event_seq", store_.LastEventSeq()}};
  if (op == "backup") {
    if (!req.contains("out") || !req["out"].is_string() ||
        !std::filesystem::path(req["out"].get<std::string>()).is_absolute())
      return Error("backup: 'out' must be an absolute path");
    spdlog::info("admin socket: backup to {}", req["out"].get<std::string>());
    auto made = MakeBackup(store_, req["out"].get<std::string>());
    if (!made.ok()) return Error(made.status().message());
    spdlog::info("admin socket: backup {} done at event {}", made->path, made->event_seq);
    return {{"ok", true},
            {"backup",
             {{"path", made->path},
              {"event_seq", made->event_seq},
              {"format_version", made->format_version},
              {"created_ms", made->created_ms},
              {"server_version", made->server_version}}}};
  }
  return Error("unknown op '" + op + "'; known: status, backup");
}

Result<nlohmann::json> AskServer(const std::string& data_dir, const nlohmann::json& request,
                                 int timeout_ms) {
  const std::string path = SocketPath(data_dir);
  sockaddr_un addr;
  NB_RETURN_IF_ERROR(FillAddress(path, &addr));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Internal("socket: " + Errno());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == ENOENT || err == ECONNREFUSED)
      return Status::NotFound("no server listens on " + path);
    return Status::Unavailable("cannot connect to " + path + ": " + std::strerror(err));
  }
  Status sent = WriteAll(fd, request.dump() + "\n");
  Result<std::string> line = sent.ok() ? ReadLine(fd, timeout_ms) : Result<std::string>(sent);
  ::close(fd);
  if (!line.ok())
    return Status::Unavailable("the server on " + data_dir +
                               " did not answer: " + line.status().message());
  auto j = nlohmann::json::parse(*line, nullptr, false);
  if (!j.is_object())
    return Status::Internal("the server on " + data_dir + " answered something that is not JSON");
  return j;
}

}  // namespace normbase::server
