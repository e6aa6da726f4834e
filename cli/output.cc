#include "output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <iostream>

namespace normbase::cli {

namespace {

// Display width: UTF-8 code points, escape sequences skipped.
size_t Width(const std::string& s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++w;
  }
  return w;
}

}  // namespace

std::string Style::State(const std::string& state) const {
  if (state == "merged" || state == "approved" || state == "passed" || state == "approve")
    return Green(state);
  if (state == "rejected" || state == "conflicted" || state == "failed" || state == "error" ||
      state == "request_changes")
    return Red(state);
  if (state == "withdrawn" || state == "queued") return Dim(state);
  if (state == "open" || state == "running") return Yellow(state);
  return state;
}

bool WantColor(const std::string& mode, int fd) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  if (term && std::string(term) == "dumb") return false;
  return ::isatty(fd) == 1;
}

std::string Table::Render(const Style& style) const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], Width(row[i]));
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  std::string out;
  auto line = [&](const std::vector<std::string>& row, bool head) {
    std::string l;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      const std::string cell = head ? style.Bold(row[i]) : row[i];
      l += cell;
      if (i + 1 < row.size()) l += std::string(widths[i] - Width(row[i]) + 2, ' ');
    }
    out += l + "\n";
  };
  line(header_, true);
  for (const auto& r : rows_) line(r, false);
  return out;
}

std::string FormatTime(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string Truncate(const std::string& s, size_t width) {
  std::string flat = s;
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  if (Width(flat) <= width) return flat;
  std::string out;
  size_t w = 0;
  for (size_t i = 0; i < flat.size(); ++i) {
    const bool start = (static_cast<unsigned char>(flat[i]) & 0xC0) != 0x80;
    if (start && ++w > width - 1) break;
    out += flat[i];
  }
  return out + "…";
}

std::string Inline(const Json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + Inline(x);
    return out.empty() ? "-" : out;
  }
  return v.dump();
}

std::string Tree(const Json& v, int indent) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  std::string out;
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      const Json& x = it.value();
      const bool nested = (x.is_object() && !x.empty()) ||
                          (x.is_array() && std::any_of(x.begin(), x.end(), [](const Json& e) {
                             return e.is_structured();
                           }));
      if (nested)
        out += pad + it.key() + ":\n" + Tree(x, indent + 2);
      else
        out += pad + it.key() + ": " + Inline(x) + "\n";
    }
  } else if (v.is_array()) {
    for (const auto& x : v) {
      if (x.is_structured()) {
        std::string sub = Tree(x, indent + 2);
        if (sub.size() > static_cast<size_t>(indent + 2))
          sub.replace(static_cast<size_t>(indent), 2, "- ");
        out += sub;
      } else {
        out += pad + "- " + Inline(x) + "\n";
      }
    }
  } else {
    out += pad + Inline(v) + "\n";
  }
  return out;
}

void PrintJson(const Json& j) { std::cout << j.dump(2) << "\n"; }

}  // namespace normbase::cli
