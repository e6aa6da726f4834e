// libFuzzer target: protobuf frames into the job broker. Each input is one
// ZeroMQ frame sent by a DEALER peer to a real JobBroker (over ipc:// in a
// temporary folder, on the FuzzServer's store, whose set-up proposal has
// check jobs queued: a fuzzed Hello that announces those plugins gets jobs,
// and fuzzed Results then reach the result path). The same bytes also go
// through bus::Decode directly.
//
// To know the broker has handled the frame, the peer then sends an envelope
// of an unknown protocol version carrying a marker; the broker always
// answers that with a PROTOCOL_VERSION error, after everything the fuzzed
// frame caused. Fails on: a crash or sanitizer report in the broker thread,
// or no answer to the marker (the broker stopped serving).
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <zmq.hpp>

#include <google/protobuf/stubs/logging.h>

#include "bus/job_broker.h"
#include "bus/wire.h"
#include "fuzz_support.h"

namespace {

using normbase::fuzz::Fail;
namespace bus = normbase::bus;

constexpr uint32_t kMarkerVersion = 987654321;  // no real protocol version
constexpr auto kAnswerDeadline = std::chrono::seconds(10);

class BusPeer {
 public:
  BusPeer() {
    // protobuf logs every string field with invalid UTF-8 it parses; the
    // fuzzer makes thousands (the broker counts them as malformed anyway).
    google::protobuf::SetLogHandler(nullptr);
    auto& server = normbase::fuzz::FuzzServer::Get();
    bus::BrokerOptions o;
    o.endpoint = "ipc://" + normbase::fuzz::MakeTempDir("normbase-fuzz-bus") + "/bus.sock";
    o.heartbeat_ms = 1000;
    o.heartbeat_expiry_ms = 60000;  // the peer sends no heartbeats of its own
    auto broker = bus::JobBroker::Start(o, server.jobs(), server.store());
    if (!broker.ok()) Fail("broker: " + broker.status().message());
    broker_ = std::move(broker).value();
    dealer_ = zmq::socket_t(ctx_, zmq::socket_type::dealer);
    dealer_.set(zmq::sockopt::routing_id, "fuzz-worker");
    dealer_.set(zmq::sockopt::linger, 0);
    dealer_.connect(broker_->endpoint());
    bus::pb::Envelope marker;
    marker.mutable_heartbeat();
    marker.set_protocol(kMarkerVersion);
    marker_ = marker.SerializeAsString();
  }

  void Send(const uint8_t* data, size_t size) {
    (void)dealer_.send(zmq::const_buffer(data, size), zmq::send_flags::none);
    (void)dealer_.send(zmq::buffer(marker_), zmq::send_flags::none);
    const auto deadline = std::chrono::steady_clock::now() + kAnswerDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t item{dealer_.handle(), 0, ZMQ_POLLIN, 0};
      try {
        zmq::poll(&item, 1, std::chrono::milliseconds(100));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;  // libFuzzer's timers interrupt the poll
        throw;
      }
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t reply;
      if (!dealer_.recv(reply, zmq::recv_flags::dontwait)) continue;
      auto env = bus::Decode(reply.data(), reply.size());
      if (!env.ok())
        Fail("the broker sent a frame that does not decode: " + env.status().message());
      if (env->has_error() && env->error().code() == bus::pb::Error::PROTOCOL_VERSION &&
          env->error().message().find(std::to_string(kMarkerVersion)) != std::string::npos)
        return;
    }
    Fail("the broker did not answer within the deadline");
  }

 private:
  std::unique_ptr<bus::JobBroker> broker_;
  zmq::context_t ctx_;
  zmq::socket_t dealer_;
  std::string marker_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)bus::Decode(data, size);
  static BusPeer* peer = new BusPeer();  // leaked like FuzzServer: see fuzz_support.cc
  peer->Send(data, size);
  return 0;
}
