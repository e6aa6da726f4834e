#include "support/ws_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace normbase::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class WsClient::Impl {
 public:
  net::io_context ioc;
  std::optional<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
  bool reading = false;
  bool read_done = false;
  beast::error_code read_ec;
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() {
  if (impl_->ws && !closed_) {
    beast::error_code ec;
    impl_->ws->next_layer().socket().close(ec);
  }
}

bool WsClient::Connect(const std::string& base_url, const std::string& target,
                       const std::map<std::string, std::string>& headers, int receive_buffer) {
  // base_url: http://host:port
  std::string rest = base_url.substr(base_url.find("://") + 3);
  const std::string host = rest.substr(0, rest.rfind(':'));
  const std::string port = rest.substr(rest.rfind(':') + 1);
  websocket::response_type res;
  try {
    tcp::resolver resolver(impl_->ioc);
    auto results = resolver.resolve(host, port);
    impl_->ws.emplace(impl_->ioc);
    auto& sock = impl_->ws->next_layer().socket();
    sock.open(tcp::v4());
    if (receive_buffer > 0) sock.set_option(net::socket_base::receive_buffer_size(receive_buffer));
    impl_->ws->next_layer().connect(*results.begin());
    impl_->ws->set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    impl_->ws->handshake(res, host + ":" + port, target);
    return true;
  } catch (const beast::system_error& e) {
    error_ = e.what();
    refused_status_ = res.result_int();  // the HTTP answer when the upgrade was declined
    if (refused_status_ == 0) refused_status_ = -1;
    return false;
  }
}

std::optional<nlohmann::json> WsClient::Next(int timeout_ms) {
  if (closed_ || !impl_->ws) return std::nullopt;
  auto& im = *impl_;
  if (!im.reading) {
    im.reading = true;
    im.read_done = false;
    im.ws->async_read(im.buffer, [&im](beast::error_code ec, std::size_t) {
      im.read_done = true;
      im.read_ec = ec;
    });
  }
  im.ioc.restart();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!im.read_done && std::chrono::steady_clock::now() < deadline)
    im.ioc.run_one_until(deadline);
  if (!im.read_done) return std::nullopt;  // the read stays pending for the next call
  im.reading = false;
  if (im.read_ec) {
    closed_ = true;
    close_code_ = im.ws->reason().code;
    close_reason_ = std::string(im.ws->reason().reason.c_str());
    return std::nullopt;
  }
  std::string text = beast::buffers_to_string(im.buffer.data());
  im.buffer.consume(im.buffer.size());
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return nlohmann::json{{"kind", "unparsable"}, {"text", text}};
  return j;
}

bool WsClient::Send(const std::string& text) {
  if (closed_ || !impl_->ws) return false;
  beast::error_code ec;
  impl_->ws->text(true);
  // A pending async read is fine alongside a synchronous write.
  impl_->ws->write(net::buffer(text), ec);
  return !ec;
}

void WsClient::Close() {
  if (closed_ || !impl_->ws) return;
  beast::error_code ec;
  impl_->ws->next_layer().socket().close(ec);
  closed_ = true;
}

}  // namespace normbase::testing
