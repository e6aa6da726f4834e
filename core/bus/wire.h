// Wire format of the core <-> worker protocol: one ZeroMQ frame holding one
// serialised normbase.bus.v1.Envelope (proto/normbase/bus/v1/worker.proto;
// docs/worker-protocol.md). Shared by the broker and normbase-worker.
#pragma once

#include <cstddef>
#include <string>

#include "domain/status.h"
#include "normbase/bus/v1/worker.pb.h"

namespace normbase::bus {

namespace pb = ::normbase::bus::v1;

inline constexpr uint32_t kProtocolVersion = 1;

// Serialises with the protocol version set.
std::string Encode(pb::Envelope env);
// Parses one frame. InvalidArgument for bytes that are not an envelope or carry
// no body; PreconditionFailed for another protocol major version (the message
// names both versions). Never throws.
Result<pb::Envelope> Decode(const void* data, size_t size);

}  // namespace normbase::bus
