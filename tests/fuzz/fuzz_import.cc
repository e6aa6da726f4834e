// libFuzzer target: CSV and JSON import. The first byte picks the format (even:
// CSV, odd: JSON); the rest is the file. It goes through the real Importer as
// a dry run (parse, validate every record against the seed codebook, compute
// what would change: nothing is written), and CSV also through the domain
// functions directly, with a round trip: what AgreementsFromCsv accepts,
// ExportAgreementsCsv writes and AgreementsFromCsv reads back unchanged in
// every column the layout carries.
//
// Fails on: a crash or sanitizer report, a broken round trip, a dry run that
// changes the store, an import that never answers.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <nlohmann/json.hpp>
#include <string>

#include "domain/csv.h"
#include "fuzz_support.h"
#include "service/importer.h"

namespace {

namespace domain = normbase::domain;
using normbase::fuzz::Fail;

// The columns the spreadsheet layout carries (csv.h), as one comparable value.
std::string CsvView(const domain::Agreement& a) {
  std::string v = a.id + '\x1f' + a.title + '\x1f' + (a.year ? std::to_string(*a.year) : "-") +
                  '\x1f' + (a.date ? "+" + *a.date : "-") + '\x1f' + a.kind + '\x1f';
  for (const auto& s : a.leading_stakeholders) v += s + '\x1e';
  v += '\x1f' + a.parties + '\x1f' + a.source_url + '\x1f' + a.bpf_inclusion.status + '\x1f';
  for (const auto& [element, coding] : a.codings) v += element + '\x1e';
  return v;
}

void CsvRoundTrip(std::string_view text, const domain::Codebook& cb) {
  (void)domain::ParseCsv(text);
  auto first = domain::AgreementsFromCsv(text, cb);
  if (!first.ok()) return;
  for (const auto& a : *first) (void)domain::ValidateAgreement(a, cb);
  const std::string exported = domain::ExportAgreementsCsv(*first, cb);
  auto second = domain::AgreementsFromCsv(exported, cb);
  if (!second.ok()) Fail("our own CSV export does not import: " + second.status().message());
  if (second->size() != first->size())
    Fail("CSV round trip: " + std::to_string(first->size()) + " agreements became " +
         std::to_string(second->size()));
  for (size_t i = 0; i < first->size(); ++i)
    if (CsvView((*first)[i]) != CsvView((*second)[i]))
      Fail("CSV round trip changed agreement " + std::to_string(i) + ":\n  " +
           CsvView((*first)[i]) + "\n  " + CsvView((*second)[i]));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& server = normbase::fuzz::FuzzServer::Get();
  const bool csv = data[0] % 2 == 0;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (csv) CsvRoundTrip(body, *server.codebook());

  const uint64_t seq_before = server.store().Stats().last_event_seq;
  auto promise = std::make_shared<std::promise<void>>();
  auto done = promise->get_future();
  server.importer().Import(
      server.admin(),
      csv ? normbase::service::ImportFormat::kCsv : normbase::service::ImportFormat::kJson,
      std::move(body), /*dry_run=*/true,
      [promise](normbase::Result<normbase::domain::Json>) { promise->set_value(); });
  if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
    Fail("the import never answered");
  if (server.store().Stats().last_event_seq != seq_before) Fail("a dry-run import wrote events");
  return 0;
}
