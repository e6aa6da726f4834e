// WsClient: a small WebSocket client for the live-stream tests (Boost.Beast,
// with timeouts). Not thread-safe: one client per thread.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace normbase::testing {

class WsClient {
 public:
  WsClient();
  ~WsClient();

  // Opens base_url + target ("/api/v1/stream?since=0"). False when the
  // connection or the upgrade failed; refused_status() then has the HTTP status.
  // `receive_buffer` > 0 shrinks the socket's receive buffer (slow-client tests).
  bool Connect(const std::string& base_url, const std::string& target,
               const std::map<std::string, std::string>& headers = {}, int receive_buffer = 0);
  int refused_status() const { return refused_status_; }
  const std::string& error() const { return error_; }

  // The next text message parsed as JSON; nullopt on timeout or close.
  std::optional<nlohmann::json> Next(int timeout_ms = 5000);
  // Reads until a message satisfies `pred` (skipping others); nullopt on timeout/close.
  template <typename Pred>
  std::optional<nlohmann::json> NextWhere(Pred pred, int timeout_ms = 5000) {
    for (;;) {
      auto m = Next(timeout_ms);
      if (!m || pred(*m)) return m;
    }
  }
  bool Send(const std::string& text);
  void Close();

  bool closed() const { return closed_; }
  int close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  int refused_status_ = 0;
  std::string error_;
  bool closed_ = false;
  int close_code_ = 0;
  std::string close_reason_;
};

}  // namespace normbase::testing
