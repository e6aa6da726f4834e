// libFuzzer target: raw bytes as an HTTP/1.1 request, parsed by Beast with the
// server's limits, then taken apart as the server does (ParseTarget, the
// headers the Api reads) and answered by the real Api over a real store
// (FuzzServer). Covers the router, path parameters, query parsing, bearer
// tokens, JSON bodies and every route behind them. "Authorization: Bearer
// ADMIN" stands for the admin's token. Several requests may follow each other
// in one input, as on a keep-alive connection.
//
// Fails on: a crash or sanitizer report, a 5xx other than 503, a problem
// answer that is not a problem document, an answer that never comes.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// The server's defaults (api::HttpServerOptions).
constexpr size_t kBodyLimit = 1 << 20;
constexpr uint32_t kHeaderLimit = 16 << 10;
constexpr int kMaxRequestsPerInput = 8;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& server = normbase::fuzz::FuzzServer::Get();
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (int n = 0; n < kMaxRequestsPerInput && !rest.empty(); ++n) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    parser.header_limit(kHeaderLimit);
    parser.eager(true);
    beast::error_code ec;
    size_t used = 0;
    // Feed until the message is complete, as async_read would. The parser
    // consumes nothing until it has a whole header block, so "need more"
    // with nothing consumed means the input ended: end of stream.
    while (!parser.is_done()) {
      const size_t got =
          parser.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
      used += got;
      if (ec == http::error::need_more) {
        ec = {};
        if (got == 0 || used >= rest.size()) {
          parser.put_eof(ec);
          break;
        }
        continue;
      }
      if (ec || got == 0) break;
    }
    if (ec || !parser.is_done()) return 0;  // the server answers 400/413/431 or closes
    rest.remove_prefix(used);

    auto& msg = parser.get();
    normbase::api::HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.body = std::move(msg.body());
    req.content_type = std::string(msg[http::field::content_type]);
    req.authorization = std::string(msg[http::field::authorization]);
    req.origin = std::string(msg[http::field::origin]);
    req.host = std::string(msg[http::field::host]);
    req.if_none_match = std::string(msg[http::field::if_none_match]);
    req.remote = "127.0.0.1";
    if (!normbase::api::ParseTarget(req.target, &req.path, &req.query)) continue;  // 400
    if (req.path == "/api/v1/stream") continue;  // the WebSocket upgrade: fuzz_stream
    server.Handle(std::move(req));
    if (!msg.keep_alive()) break;
  }
  return 0;
}
