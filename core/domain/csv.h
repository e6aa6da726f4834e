// CSV in and out: RFC 4180 rows, and the spreadsheet layout of the agreements
// (one row per agreement, one 0/1 column per codebook element). Pure
// functions on strings: no I/O, no shared state, safe from any thread.
//
// The layout carries presence, not evidence: an element column says whether
// the agreement is coded for that element, never why. Export, edit in a
// spreadsheet, import: the importer keeps the evidence the store already has.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "domain/agreement.h"
#include "domain/codebook.h"
#include "domain/status.h"

namespace normbase::domain {

// One CSV record terminated by "\r\n". A field that contains a comma, a double
// quote, CR or LF is enclosed in double quotes, its quotes doubled; the others
// are written as they are. An empty `fields` gives an empty line.
std::string CsvRow(const std::vector<std::string>& fields);

// Splits RFC 4180 text into records of fields. Accepts "\n" or "\r\n" line
// ends (the last line may have none), quoted fields with embedded line ends,
// commas and doubled quotes, and a leading UTF-8 byte order mark, which is
// dropped. Fields come back verbatim: no trimming, no type guessing. An empty
// line is a record of one empty field; empty text gives no records.
//
// Fails with InvalidArgument naming the line (1-based, counted in the text)
// for a quoted field that is never closed, a quote inside an unquoted field,
// a character after a closing quote, a CR that does not end a line, or more
// than `max_rows` records (the header counts as one).
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                       size_t max_rows = 100000);

// The agreements as a spreadsheet, header first. Columns, in this order:
//   id, title, year, date, kind, leading_stakeholders, parties, source_url,
//   bpf_inclusion, coded, then one column per element in cb.ElementIds() order.
// year and date are empty when absent; leading_stakeholders are joined with
// ";"; bpf_inclusion is its status ("confirmed" | "unverified"); coded and the
// element columns are "1" or "0". Codings of elements the codebook does not
// know have no column and are left out.
std::string ExportAgreementsCsv(const std::vector<Agreement>& agreements, const Codebook& cb);

// Reads the layout that ExportAgreementsCsv writes. Columns may come in any
// order and any may be left out except id, title and kind. Blank lines are
// skipped. Text cells are taken verbatim; year, coded and element cells may
// have surrounding spaces. An element cell of "1" gives a Coding with no
// evidence and the note "imported from CSV without evidence"; "0" or empty
// gives none. leading_stakeholders are split on ";" (entries trimmed, empty
// ones dropped); an empty bpf_inclusion keeps the default status; coded is
// checked to be 0, 1 or empty and otherwise ignored, since codings decide it.
//
// Fails with InvalidArgument for what ParseCsv refuses, for an empty text, a
// header that lacks id, title or kind, names a column twice or names a column
// that is neither an agreement field nor an element of `cb`, and for a row
// (numbered as a spreadsheet shows it: the header is row 1) whose number of
// fields differs from the header's, whose year is not an integer, or whose
// coded or element cell is not 0, 1 or empty; the message names the row and
// the column. Nothing else is checked against the codebook: run
// ValidateAgreement on each result.
Result<std::vector<Agreement>> AgreementsFromCsv(std::string_view text, const Codebook& cb);

}  // namespace normbase::domain
