// The live stream's wire protocol (JSON text frames over WebSocket at
// /api/v1/stream), apart from any transport:
//
// server -> client
//   {"kind":"hello","seq":L,"since":N|null,"topics":[...],"replay_window_oldest":O}
//   {"kind":"reset","seq":L,"reason":"...","continue_from":L}   reload state, then events > L follow
//   {"kind":"event","seq":S,"type":"...","time":T,"actor":A,"subjects":{...},"payload":{...}}
//   {"kind":"subscribed","seq":L,"topics":[...]}                after a (un)subscribe
//   {"kind":"error","seq":L,"detail":"..."}                      a client message was refused
// client -> server
//   {"op":"subscribe","topics":["proposal:12"]}   {"op":"unsubscribe","topics":[...]}
//   {"op":"ping"}  (answered by "subscribed" with the current topics)
//
// Close codes: 1000 normal; 1001 server going away; 1008 policy (bad origin);
// 1009 message too big; 4008 too slow — the reason says "resume with since=N".
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/status.h"
#include "stream/event_hub.h"
#include "stream/topics.h"

namespace normbase::stream {

inline constexpr uint16_t kCloseTooSlow = 4008;

// What an accepted upgrade request asks for.
struct StreamAdmission {
  std::shared_ptr<const TopicFilter> filter;
  std::optional<uint64_t> since;
  bool privileged = false;  // a moderator's token: may see account events
};

struct ClientCommand {
  enum class Op { kSubscribe, kUnsubscribe, kPing } op = Op::kPing;
  std::vector<std::string> topics;
};

Result<ClientCommand> ParseClientMessage(std::string_view text);

FramePtr HelloFrame(const SubscribeResult& r, const TopicFilter& f, std::optional<uint64_t> since);
FramePtr SubscribedFrame(const TopicFilter& f, uint64_t last_seq);
FramePtr ErrorFrame(const std::string& detail, uint64_t last_seq);

}  // namespace normbase::stream
