#include "stream/stream_protocol.h"

#include <nlohmann/json.hpp>

#include "domain/codec.h"

namespace normbase::stream {

namespace {

FramePtr Control(const domain::Json& j) {
  auto f = std::make_shared<StreamFrame>();
  f->text = domain::Dump(j);
  return f;
}

}  // namespace

Result<ClientCommand> ParseClientMessage(std::string_view text) {
  NB_ASSIGN_OR_RETURN(domain::Json j, domain::ParseJson(text));
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string())
    return Status::InvalidArgument("expected {\"op\": \"subscribe\"|\"unsubscribe\"|\"ping\", \"topics\": [...]}");
  ClientCommand c;
  const std::string op = j["op"].get<std::string>();
  if (op == "subscribe")
    c.op = ClientCommand::Op::kSubscribe;
  else if (op == "unsubscribe")
    c.op = ClientCommand::Op::kUnsubscribe;
  else if (op == "ping")
    c.op = ClientCommand::Op::kPing;
  else
    return Status::InvalidArgument("op: '" + op + "' is not subscribe, unsubscribe or ping");
  if (c.op != ClientCommand::Op::kPing) {
    if (!j.contains("topics") || !j["topics"].is_array())
      return Status::InvalidArgument("topics: expected an array of topic names");
    for (const auto& t : j["topics"]) {
      if (!t.is_string()) return Status::InvalidArgument("topics: expected strings");
      c.topics.push_back(t.get<std::string>());
    }
  }
  return c;
}

FramePtr HelloFrame(const SubscribeResult& r, const TopicFilter& f, std::optional<uint64_t> since) {
  if (r.reset)
    return Control({{"kind", "reset"},
                    {"seq", r.last_seq},
                    {"reason", r.reason},
                    {"continue_from", r.last_seq},
                    {"topics", f.topics()}});
  return Control({{"kind", "hello"},
                  {"seq", r.last_seq},
                  {"since", since ? domain::Json(*since) : domain::Json(nullptr)},
                  {"topics", f.topics()},
                  {"replay_window_oldest", r.oldest_replayable}});
}

FramePtr SubscribedFrame(const TopicFilter& f, uint64_t last_seq) {
  return Control({{"kind", "subscribed"}, {"seq", last_seq}, {"topics", f.topics()}});
}

FramePtr ErrorFrame(const std::string& detail, uint64_t last_seq) {
  return Control({{"kind", "error"}, {"seq", last_seq}, {"detail", detail}});
}

}  // namespace normbase::stream
