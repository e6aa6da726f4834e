#include "bus/wire.h"

namespace normbase::bus {

std::string Encode(pb::Envelope env) {
  env.set_protocol(kProtocolVersion);
  return env.SerializeAsString();
}

Result<pb::Envelope> Decode(const void* data, size_t size) {
  pb::Envelope env;
  if (size > static_cast<size_t>(INT32_MAX) || !env.ParseFromArray(data, static_cast<int>(size)))
    return Status::InvalidArgument("not a normbase.bus.v1.Envelope (" + std::to_string(size) + " bytes)");
  if (env.protocol() != kProtocolVersion)
    return Status::PreconditionFailed("protocol version " + std::to_string(env.protocol()) +
                                      " is not supported; this side speaks " +
                                      std::to_string(kProtocolVersion));
  if (env.body_case() == pb::Envelope::BODY_NOT_SET)
    return Status::InvalidArgument("envelope without a message");
  return env;
}

}  // namespace normbase::bus
