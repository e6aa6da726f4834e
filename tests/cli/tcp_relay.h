// TcpRelay: a loopback TCP forwarder for the CLI tests. It listens on a port
// the OS picks and forwards each connection to 127.0.0.1:<target port>. A
// restarted test server gets a new port; pointing the relay at it keeps the
// URL the CLI uses stable, as a real deployment's address would be.
// Thread-safe: set_target_port may be called while the relay runs.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace normbase::testing {

class TcpRelay {
 public:
  TcpRelay();  // starts listening and forwarding at once
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  bool ok() const { return listen_fd_ >= 0; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_target_port(int port) { target_port_ = port; }

 private:
  void Loop();
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int> target_port_{0};
  std::thread thread_;
};

}  // namespace normbase::testing
