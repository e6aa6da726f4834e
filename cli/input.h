// Reading the files contributors hand to the CLI (proposals, codings, imports)
// in JSON or YAML. YAML is converted to the same JSON the API takes: plain
// scalars become numbers, booleans or null where YAML 1.2's core schema says
// so, quoted scalars stay strings.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace normbase::cli {

enum class DataFormat { kAuto, kJson, kYaml };

// The format a file name implies: .yaml/.yml -> YAML, .json -> JSON, else auto
// (JSON when the text parses as JSON, YAML otherwise).
DataFormat FormatForPath(const std::string& path);

// Reads the whole file ("-" is standard input). nullopt with `error` set.
std::optional<std::string> ReadFile(const std::string& path, std::string* error);

// Parses `text` (named `what` in errors). nullopt with `error` set: the
// message names the line when the parser knows it.
std::optional<nlohmann::json> ParseData(const std::string& text, DataFormat format,
                                        const std::string& what, std::string* error);

// ReadFile + ParseData with the format from the file name.
std::optional<nlohmann::json> ReadDataFile(const std::string& path, std::string* error);

}  // namespace normbase::cli
