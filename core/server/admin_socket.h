// The admin socket: a local channel through which commands run on the same
// machine ask the running server to do what needs its open database (RocksDB
// admits one process per data directory), today an online backup.
//
// It is the Unix socket <data dir>/admin.sock, mode 0600 in the 0700 data
// directory; a peer must also run as the server's user or as root (checked
// with SO_PEERCRED). Protocol: one JSON object per line each way, one request
// per connection:
//   {"op":"status"}                  -> {"ok":true,"pid":N,"last_event_seq":N}
//   {"op":"backup","out":"/abs/dir"} -> {"ok":true,"backup":{"path",...}}
// and {"ok":false,"error":"..."} for any failure. Requests are served one
// at a time on the socket's own thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "domain/status.h"
#include "store/store.h"

namespace normbase::server {

inline constexpr char kAdminSocketName[] = "admin.sock";

class AdminSocket {
 public:
  // Listens on <data_dir>/admin.sock (a stale file from a crashed server is
  // replaced: the caller holds the data directory's lock). `store` must
  // outlive the socket.
  static Result<std::unique_ptr<AdminSocket>> Start(const std::string& data_dir,
                                                    store::Store& store);
  ~AdminSocket();  // stops the thread, removes the socket file
  AdminSocket(const AdminSocket&) = delete;
  AdminSocket& operator=(const AdminSocket&) = delete;

 private:
  AdminSocket(std::string path, int listen_fd, int wake_fd, store::Store& store);
  void Loop();
  void Serve(int fd);
  nlohmann::json Answer(const nlohmann::json& request);

  std::string path_;
  int listen_fd_;
  int wake_fd_;  // an eventfd: written once to stop Loop()
  store::Store& store_;
  std::thread thread_;
};

// Client side. Sends one request to the server on `data_dir`. NotFound when
// no server listens there (no socket, or a stale one nobody accepts on);
// other failures when one listens but the exchange failed.
Result<nlohmann::json> AskServer(const std::string& data_dir, const nlohmann::json& request,
                                 int timeout_ms);

}  // namespace normbase::server
