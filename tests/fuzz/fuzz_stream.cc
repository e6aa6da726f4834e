// libFuzzer target: the live stream's subscription messages. The first line
// is the upgrade request's query (since, topics, token; "token=ADMIN" stands
// for the admin's token) and decides admission as StreamAdmitter does; every
// further line is one client message, handled as the WebSocket session does
// (ParseClientMessage, then the filter's With/Without, then the answer frame).
//
// Fails on: a crash or sanitizer report, an answer frame that is not a JSON
// object with kind and seq, a filter of more than 64 topics, and an anonymous
// client whose filter lets an account event through.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "api/stream_admission.h"
#include "fuzz_support.h"
#include "stream/stream_protocol.h"

namespace {

using normbase::fuzz::Fail;
namespace stream = normbase::stream;

constexpr size_t kMaxTopics = 64;  // stream/topics.cc
constexpr size_t kMaxMessages = 64;

void CheckFrame(const stream::FramePtr& f) {
  auto j = nlohmann::json::parse(f->text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("kind") || !j.contains("seq"))
    Fail("a stream frame that is not a protocol message: " + f->text.substr(0, 200));
}

void CheckFilter(const stream::TopicFilter& f, bool privileged) {
  if (f.topics().size() > kMaxTopics)
    Fail("a filter of " + std::to_string(f.topics().size()) + " topics");
  if (!privileged &&
      (f.Matches("user.created", {{"user", "2"}}) || f.Matches("token.issued", {{"user", "2"}})))
    Fail("an anonymous client's filter lets account events through");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& server = normbase::fuzz::FuzzServer::Get();
  static const normbase::api::StreamAdmitter admitter(server.accounts(),
                                                      {"https://allowed.example"});
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const size_t nl = rest.find('\n');
  std::string query(rest.substr(0, nl));
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);

  normbase::api::HttpRequest req;
  req.method = "GET";
  req.host = "127.0.0.1:8080";
  const std::string placeholder =
      std::string("token=") + normbase::fuzz::FuzzServer::kAdminPlaceholder;
  if (auto at = query.find(placeholder); at != std::string::npos)
    query.replace(at, placeholder.size(), "token=" + server.admin_token());
  req.target = "/api/v1/stream?" + query;
  if (!normbase::api::ParseTarget(req.target, &req.path, &req.query)) return 0;
  auto admission = admitter.Admit(req);
  if (!admission.ok()) return 0;
  auto filter = admission->filter;
  if (!filter) Fail("an admission without a filter");
  CheckFilter(*filter, admission->privileged);

  for (size_t n = 0; n < kMaxMessages && !rest.empty(); ++n) {
    const size_t end = rest.find('\n');
    const std::string_view message = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    auto cmd = stream::ParseClientMessage(message);
    if (!cmd.ok()) {
      CheckFrame(stream::ErrorFrame(cmd.status().message(), 7));
      continue;
    }
    if (cmd->op == stream::ClientCommand::Op::kPing) {
      CheckFrame(stream::SubscribedFrame(*filter, 7));
      continue;
    }
    normbase::Result<stream::TopicFilter> next =
        cmd->op == stream::ClientCommand::Op::kSubscribe
            ? filter->With(cmd->topics)
            : normbase::Result<stream::TopicFilter>(filter->Without(cmd->topics));
    if (!next.ok()) {
      CheckFrame(stream::ErrorFrame(next.status().message(), 7));
      continue;
    }
    filter = std::make_shared<const stream::TopicFilter>(std::move(next).value());
    CheckFilter(*filter, admission->privileged);
    CheckFrame(stream::SubscribedFrame(*filter, 7));
  }
  return 0;
}
