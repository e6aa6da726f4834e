// normbase-plugin-run: loads one plugin .so through the C ABI and runs one job
// read from stdin (or --input FILE), printing the result to stdout. For plugin
// authors: the same checks the worker makes, without a server.
//
//   normbase-plugin-run ./hello.so --describe
//   normbase-plugin-run ./hello.so --config '{"greeting":"hi"}' < job.json
//
// Exit status: 0 result printed, 1 bad input, 2 plugin failure, 3 cannot load, 64 usage.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "plugin_host.h"

int main(int argc, char** argv) {
  std::string path, config = "{}", input_path;
  bool describe = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--describe") {
      describe = true;
    } else if ((arg == "--config" || arg == "--input") && i + 1 < argc) {
      (arg == "--config" ? config : input_path) = argv[++i];
    } else if (path.empty() && !arg.empty() && arg[0] != '-') {
      path = arg;
    } else {
      std::cerr
          << "usage: normbase-plugin-run PLUGIN.so [--describe] [--config JSON] [--input FILE]\n";
      return 64;
    }
  }
  if (path.empty()) {
    std::cerr
        << "usage: normbase-plugin-run PLUGIN.so [--describe] [--config JSON] [--input FILE]\n";
    return 64;
  }
  std::string error;
  auto plugin = normbase::plugins::LoadedPlugin::Load(path, &error);
  if (!plugin) {
    std::cerr << error << "\n";
    return 3;
  }
  const nb_plugin& d = plugin->descriptor();
  if (describe) {
    std::cout << "name: " << d.name << "\nversion: " << (d.version ? d.version : "")
              << "\nkind: " << d.kind << "\nabi_version: " << d.abi_version
              << "\ndescription: " << (d.description ? d.description : "") << "\n";
    return 0;
  }
  std::string input;
  if (input_path.empty()) {
    input.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(input_path, std::ios::binary);
    if (!in) {
      std::cerr << input_path << ": cannot read\n";
      return 64;
    }
    input.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto outcome = plugin->Run(config, input);
  if (outcome.code == NB_PLUGIN_OK) {
    std::cout << outcome.output << "\n";
    return 0;
  }
  std::cerr << d.name << ": " << (outcome.code == NB_PLUGIN_BAD_INPUT ? "bad input: " : "failed: ")
            << outcome.output << "\n";
  return outcome.code == NB_PLUGIN_BAD_INPUT ? 1 : 2;
}
