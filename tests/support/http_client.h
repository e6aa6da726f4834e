// HttpClient: a small blocking HTTP/1.1 client for integration tests, one
// keep-alive connection per client (reconnects when the server closed it).
// Thread-compatible: use one client per thread.
//
// Every request has a deadline (30 s by default); a request that fails on a
// reused keep-alive connection before any byte of the answer arrived is sent
// once more on a fresh connection (the server may have closed the idle one).
// The Boost.Beast implementation stays in http_client.cc.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace normbase::testing {

struct HttpResult {
  int status = 0;                              // 0: the connection failed (see error)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;
  // The body parsed as JSON (null when it is not JSON).
  nlohmann::json json() const;
  std::string header(const std::string& lower_name) const;
};

class HttpClient {
 public:
  explicit HttpClient(std::string base_url);  // "http://127.0.0.1:PORT"
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  void set_token(std::string token) { token_ = std::move(token); }  // sent as Bearer
  const std::string& token() const { return token_; }
  void set_timeout_ms(int ms);  // per request; default 30000
  // Drops the keep-alive connection; the next request opens a new one.
  void Close();
  // Connections opened so far (to observe keep-alive and reconnects).
  int connections_opened() const;

  HttpResult Get(const std::string& target);
  HttpResult Post(const std::string& target, const nlohmann::json& body);
  HttpResult Post(const std::string& target, const std::string& raw_body,
                  const std::string& content_type);
  HttpResult Patch(const std::string& target, const nlohmann::json& body);
  HttpResult Delete(const std::string& target);
  // Full control: extra headers override defaults (Authorization, Content-Type);
  // a header given with an empty value is not sent at all.
  HttpResult Request(const std::string& method, const std::string& target, const std::string& body,
                     const std::map<std::string, std::string>& headers = {});
  // Sends raw bytes on a fresh connection and returns whatever comes back
  // (for malformed-request tests); waits up to `timeout_ms` for the server to
  // close the connection, then returns what arrived so far.
  std::string SendRaw(const std::string& bytes, int timeout_ms = 3000);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::string token_;
};

}  // namespace normbase::testing
