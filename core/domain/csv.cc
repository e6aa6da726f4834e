#include "domain/csv.h"

#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <utility>

namespace normbase::domain {

namespace {

// Spreadsheets run a cell that starts with = + - @ as a formula (CSV
// injection). Free-text cells that would are exported with a leading
// apostrophe, which spreadsheets show as text and the importer removes.
bool LooksLikeFormula(const std::string& v, size_t at) {
  return v.size() > at && (v[at] == '=' || v[at] == '+' || v[at] == '-' || v[at] == '@');
}

// Whether `v` is formula-like text behind at least `min_apostrophes` apostrophes.
bool LooksLikeFormulaAfterApostrophes(const std::string& v, size_t min_apostrophes) {
  size_t i = 0;
  while (i < v.size() && v[i] == '\'') ++i;
  return i >= min_apostrophes && LooksLikeFormula(v, i);
}

// Text that already starts with apostrophes before a formula character gets
// one more too, so that the import, which takes one away, gives it back as it was.
std::string SpreadsheetSafe(const std::string& v) {
  return LooksLikeFormulaAfterApostrophes(v, 0) ? "'" + v : v;
}

std::string FromSpreadsheet(const std::string& v) {
  return LooksLikeFormulaAfterApostrophes(v, 1) ? v.substr(1) : v;
}

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr std::string_view kImportedNote = "imported from CSV without evidence";

// The agreement columns of the layout, in export order; element columns follow.
enum Column { kId, kTitle, kYear, kDate, kKind, kLeading, kParties, kSourceUrl, kBpf, kCoded };
constexpr std::array<std::string_view, 10> kColumns = {
    "id",      "title",      "year",          "date", "kind", "leading_stakeholders",
    "parties", "source_url", "bpf_inclusion", "coded"};

Status LineError(size_t line, const std::string& problem) {
  return Status::InvalidArgument("line " + std::to_string(line) + ": " + problem);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.push_back(sep);
    out += parts[i];
  }
  return out;
}

std::vector<std::string> SplitTrimmed(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (true) {
    const size_t at = s.find(sep);
    std::string_view part = Trim(s.substr(0, at));
    if (!part.empty()) out.emplace_back(part);
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

// "1" -> true; "0" or empty -> false; anything else -> nullopt (an error for the caller).
std::optional<bool> ParseFlag(std::string_view cell) {
  cell = Trim(cell);
  if (cell.empty() || cell == "0") return false;
  if (cell == "1") return true;
  return std::nullopt;
}

// A cell as an error message quotes it: cut short, never inside a UTF-8 character.
std::string Shown(std::string_view cell) {
  constexpr size_t kMaxShown = 60;
  if (cell.size() <= kMaxShown) return "'" + std::string(cell) + "'";
  size_t cut = kMaxShown;
  while (cut > 0 && (static_cast<unsigned char>(cell[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(cell.substr(0, cut)) + "...'";
}

bool IsBlank(const std::vector<std::string>& row) { return row.size() == 1 && row[0].empty(); }

}  // namespace

std::string CsvRow(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out.push_back('"');
    for (char c : f) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out += "\r\n";
  return out;
}

Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text, size_t max_rows) {
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  std::vector<std::vector<std::string>> rows;
  size_t line = 1;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {  // one record per pass
    if (rows.size() == max_rows)
      return LineError(line, "more than " + std::to_string(max_rows) + " rows");
    std::vector<std::string> row;
    while (true) {  // one field per pass
      std::string field;
      if (text[i] == '"') {
        const size_t opened = line;
        ++i;
        while (true) {
          if (i >= n)
            return LineError(opened, "a quoted field opened on this line is never closed");
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++i;
        }
        if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          return LineError(line,
                           "unexpected character after a closing quote (double a quote "
                           "inside a quoted field: \"\")");
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"')
            return LineError(line,
                             "a quote inside an unquoted field (quote the whole field and "
                             "double the quote)");
          field.push_back(text[i]);
          ++i;
        }
      }
      row.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;  // another field follows, possibly empty at the end of the text
        if (i == n) row.emplace_back();
        if (i < n) continue;
      }
      break;
    }
    if (i < n && text[i] == '\r') {
      if (i + 1 >= n || text[i + 1] != '\n')
        return LineError(line, "a CR that does not end a line (line ends must be LF or CRLF)");
      ++i;
    }
    if (i < n && text[i] == '\n') {
      ++i;
      ++line;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string ExportAgreementsCsv(const std::vector<Agreement>& agreements, const Codebook& cb) {
  const std::vector<std::string>& elements = cb.ElementIds();
  std::vector<std::string> row(kColumns.begin(), kColumns.end());
  row.insert(row.end(), elements.begin(), elements.end());
  std::string out = CsvRow(row);
  for (const Agreement& a : agreements) {
    row.clear();
    row.push_back(a.id);
    row.push_back(SpreadsheetSafe(a.title));
    row.push_back(a.year ? std::to_string(*a.year) : std::string());
    row.push_back(a.date.value_or(std::string()));
    row.push_back(a.kind);
    row.push_back(Join(a.leading_stakeholders, ';'));
    row.push_back(SpreadsheetSafe(a.parties));
    row.push_back(a.source_url);
    row.push_back(a.bpf_inclusion.status);
    row.push_back(a.IsCoded() ? "1" : "0");
    for (const std::string& e : elements) row.push_back(a.codings.count(e) ? "1" : "0");
    out += CsvRow(row);
  }
  return out;
}

Result<std::vector<Agreement>> AgreementsFromCsv(std::string_view text, const Codebook& cb) {
  NB_ASSIGN_OR_RETURN(auto rows, ParseCsv(text));
  size_t first = 0;  // skip blank lines before the header too
  while (first < rows.size() && IsBlank(rows[first])) ++first;
  if (first == rows.size())
    return Status::InvalidArgument("the CSV is empty; expected a header row with id,title,kind");
  const std::vector<std::string>& header = rows[first];

  // Column index -> agreement field (kColumns index) or element id.
  std::map<std::string, size_t> seen;
  std::vector<int> field_of(header.size(), -1);
  std::vector<std::string> element_of(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string name(Trim(header[c]));
    if (name.empty())
      return Status::InvalidArgument("header column " + std::to_string(c + 1) + " has no name");
    if (!seen.emplace(name, c).second)
      return Status::InvalidArgument("column " + Shown(name) + " appears twice in the header");
    for (size_t f = 0; f < kColumns.size(); ++f)
      if (kColumns[f] == name) field_of[c] = static_cast<int>(f);
    if (field_of[c] >= 0) continue;
    if (!cb.HasElement(name))
      return Status::InvalidArgument("column " + Shown(name) +
                                     " is neither an agreement field nor an element of codebook " +
                                     cb.id + " v" + std::to_string(cb.version));
    element_of[c] = name;
  }
  for (Column required : {kId, kTitle, kKind})
    if (!seen.count(std::string(kColumns[required])))
      return Status::InvalidArgument("the header has no '" + std::string(kColumns[required]) +
                                     "' column (id, title and kind are required)");

  std::vector<Agreement> out;
  for (size_t r = first + 1; r < rows.size(); ++r) {
    const std::vector<std::string>& row = rows[r];
    if (IsBlank(row)) continue;
    const std::string where = "row " + std::to_string(r + 1);
    if (row.size() != header.size())
      return Status::InvalidArgument(where + ": has " + std::to_string(row.size()) +
                                     " fields but the header has " + std::to_string(header.size()));
    auto bad = [&](size_t c, const std::string& problem) {
      return Status::InvalidArgument(where + ", column " + Shown(Trim(header[c])) + ": " + problem);
    };
    Agreement a;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string& cell = row[c];
      if (field_of[c] < 0) {
        const std::optional<bool> coded = ParseFlag(cell);
        if (!coded) return bad(c, Shown(cell) + " is not 0, 1 or empty");
        if (*coded) a.codings[element_of[c]] = Coding{{}, std::string(kImportedNote)};
        continue;
      }
      switch (static_cast<Column>(field_of[c])) {
        case kId:
          a.id = cell;
          break;
        case kTitle:
          a.title = FromSpreadsheet(cell);
          break;
        case kYear: {
          const std::string_view v = Trim(cell);
          if (v.empty()) break;
          int year = 0;
          const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), year);
          if (ec != std::errc() || end != v.data() + v.size())
            return bad(c, Shown(cell) + " is not an integer year");
          a.year = year;
          break;
        }
        case kDate:
          if (!cell.empty()) a.date = cell;
          break;
        case kKind:
          a.kind = cell;
          break;
        case kLeading:
          a.leading_stakeholders = SplitTrimmed(cell, ';');
          break;
        case kParties:
          a.parties = FromSpreadsheet(cell);
          break;
        case kSourceUrl:
          a.source_url = cell;
          break;
        case kBpf:
          if (!Trim(cell).empty()) a.bpf_inclusion.status = std::string(Trim(cell));
          break;
        case kCoded:
          if (!ParseFlag(cell)) return bad(c, Shown(cell) + " is not 0, 1 or empty");
          break;
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace normbase::domain
