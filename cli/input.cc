#include "input.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

namespace normbase::cli {

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// YAML 1.2 core schema for plain (unquoted) scalars.
nlohmann::json PlainScalar(const std::string& s) {
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (std::regex_match(s, kInt)) {
    try {
      return std::stoll(s);
    } catch (const std::exception&) {
      return s;  // out of range: keep the text
    }
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

nlohmann::json FromYaml(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // A quoted scalar has the non-specific tag "!": it is always a string.
      return n.Tag() == "!" ? nlohmann::json(n.Scalar()) : PlainScalar(n.Scalar());
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& x : n) a.push_back(FromYaml(x));
      return a;
    }
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = FromYaml(kv.second);
      return o;
    }
  }
  return nullptr;
}

}  // namespace

DataFormat FormatForPath(const std::string& path) {
  if (EndsWith(path, ".yaml") || EndsWith(path, ".yml")) return DataFormat::kYaml;
  if (EndsWith(path, ".json")) return DataFormat::kJson;
  return DataFormat::kAuto;
}

std::optional<std::string> ReadFile(const std::string& path, std::string* error) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  ss << in.rdbuf();
  return ss.str();
}

std::optional<nlohmann::json> ParseData(const std::string& text, DataFormat format,
                                        const std::string& what, std::string* error) {
  if (format != DataFormat::kYaml) {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      if (format == DataFormat::kJson) {
        *error = what + " is not valid JSON: " + e.what();
        return std::nullopt;
      }
    }
  }
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull()) {
      *error = what + " is empty";
      return std::nullopt;
    }
    return FromYaml(root);
  } catch (const YAML::Exception& e) {
    *error = what + " is not valid " +
             std::string(format == DataFormat::kYaml ? "YAML" : "JSON or YAML") + ": line " +
             std::to_string(e.mark.line + 1) + ": " + e.msg;
    return std::nullopt;
  }
}

std::optional<nlohmann::json> ReadDataFile(const std::string& path, std::string* error) {
  auto text = ReadFile(path, error);
  if (!text) return std::nullopt;
  return ParseData(*text, FormatForPath(path), path, error);
}

}  // namespace normbase::cli
