// libFuzzer target: every JSON body the API accepts. The first byte picks the
// route (and the proposal or user it names), the rest is the body, sent with
// the admin's token to the real Api over a real store (FuzzServer). The same
// text also goes through the domain decoders directly, with round-trip checks:
//   ParseJson -> AgreementFromJson(kInput) -> ToJson -> AgreementFromJson(kStored)
// must give the same agreement; Dump() of anything parsed must parse again.
//
// Fails on: a crash or sanitizer report, a 5xx other than 503, a broken
// round trip, an answer that never comes (see fuzz_support.h).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "domain/agreement.h"
#include "domain/codec.h"
#include "domain/job.h"
#include "fuzz_support.h"

namespace {

using normbase::domain::Json;
namespace domain = normbase::domain;

struct Route {
  const char* method;
  const char* target;  // {id}: a proposal or user id taken from the selector byte
};

constexpr Route kRoutes[] = {
    {"POST", "/api/v1/proposals"},
    {"POST", "/api/v1/proposals/{id}/revisions"},
    {"POST", "/api/v1/proposals/{id}/comments"},
    {"POST", "/api/v1/proposals/{id}/reviews"},
    {"POST", "/api/v1/proposals/{id}/merge"},
    {"POST", "/api/v1/proposals/{id}/reject"},
    {"POST", "/api/v1/proposals/{id}/withdraw"},
    {"POST", "/api/v1/proposals/{id}/comments/1/resolve"},
    {"POST", "/api/v1/users"},
    {"PATCH", "/api/v1/users/{id}"},
    {"POST", "/api/v1/users/{id}/tokens"},
    {"POST", "/api/v1/import?dry_run=true"},
    {"POST", "/api/v1/import?format=csv&dry_run=true"},
};
constexpr size_t kRouteCount = sizeof(kRoutes) / sizeof(kRoutes[0]);

void CheckDecoders(std::string_view text) {
  auto parsed = domain::ParseJson(text);
  if (!parsed.ok()) return;
  const Json& j = *parsed;
  // What we send back must be JSON again, whatever bytes came in.
  const std::string dumped = domain::Dump(j);
  if (Json::parse(dumped, nullptr, false).is_discarded())
    normbase::fuzz::Fail("Dump() wrote text that does not parse: " + dumped.substr(0, 200));

  auto& server = normbase::fuzz::FuzzServer::Get();
  auto a = domain::AgreementFromJson(j, domain::Decode::kInput);
  if (a.ok()) {
    (void)domain::ValidateAgreement(*a, *server.codebook());
    auto again = domain::AgreementFromJson(domain::ToJson(*a), domain::Decode::kStored);
    if (!again.ok())
      normbase::fuzz::Fail("an accepted agreement does not decode from its own JSON: " +
                           again.status().message());
    if (!again->SameContent(*a)) normbase::fuzz::Fail("agreement JSON round trip changed it");
  }
  if (j.is_object() && j.contains("codings"))
    (void)domain::CodingsFromJson(j["codings"], "codings");
  (void)domain::UserFromJson(j);
  (void)domain::ProposalFromJson(j);
  (void)domain::EventFromJson(j);
  (void)domain::JobFromJson(j);
  (void)domain::CodebookFromJson(j);
  (void)domain::ReadCheckOutput(j);  // a plugin's output: untrusted like a body
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& server = normbase::fuzz::FuzzServer::Get();
  const uint8_t selector = data[0];
  const Route& route = kRoutes[selector % kRouteCount];
  // Proposal 1 exists from the set-up; the others may, as the fuzzer adds them.
  // User 1 (the admin) is left alone by FuzzServer.
  const std::string id = std::to_string(1 + (selector / kRouteCount) % 4);
  std::string target = route.target;
  if (auto at = target.find("{id}"); at != std::string::npos) target.replace(at, 4, id);

  normbase::api::HttpRequest req;
  req.method = route.method;
  req.target = target;
  req.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  req.content_type =
      target.find("format=csv") != std::string::npos ? "text/csv" : "application/json";
  req.authorization = std::string("Bearer ") + normbase::fuzz::FuzzServer::kAdminPlaceholder;
  if (!normbase::api::ParseTarget(req.target, &req.path, &req.query))
    normbase::fuzz::Fail("a fixed target did not parse: " + req.target);
  server.Handle(std::move(req));

  CheckDecoders(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  return 0;
}
