// How the CLI prints: colours only on a terminal (and never with NO_COLOR or
// --color=never), aligned tables, times, one-line errors, and a generic
// indented view of JSON objects whose shape the CLI does not know (analyses,
// impact). Everything a script reads goes to stdout; notices and errors go
// to stderr.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace normbase::cli {

using Json = nlohmann::json;

class Style {
 public:
  explicit Style(bool color = false) : color_(color) {}
  bool color() const { return color_; }
  std::string Bold(const std::string& s) const { return Wrap("1", s); }
  std::string Dim(const std::string& s) const { return Wrap("2", s); }
  std::string Red(const std::string& s) const { return Wrap("31", s); }
  std::string Green(const std::string& s) const { return Wrap("32", s); }
  std::string Yellow(const std::string& s) const { return Wrap("33", s); }
  std::string Cyan(const std::string& s) const { return Wrap("36", s); }
  // Colours a proposal state or check status by what it means.
  std::string State(const std::string& state) const;

 private:
  std::string Wrap(const char* code, const std::string& s) const {
    return color_ ? "\x1b[" + std::string(code) + "m" + s + "\x1b[0m" : s;
  }
  bool color_;
};

// "auto" (a terminal, and NO_COLOR unset), "always" or "never"; for `fd`.
bool WantColor(const std::string& mode, int fd);

// A simple left-aligned table; columns as wide as their widest cell (the
// last one is not padded). Cells may hold colour codes: widths ignore them.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  std::string Render(const Style& style) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Milliseconds since the epoch as "2026-11-23 15:18 UTC" ("-" for 0).
std::string FormatTime(int64_t ms);
// `s` cut to `width` characters (UTF-8 aware) with an ellipsis.
std::string Truncate(const std::string& s, size_t width);
// A JSON value as a short inline text: strings unquoted, arrays joined.
std::string Inline(const Json& v);
// An indented "key: value" view of any JSON value.
std::string Tree(const Json& v, int indent = 0);

// Prints `j` to stdout, pretty, with a newline.
void PrintJson(const Json& j);

}  // namespace normbase::cli
