// `normbase completion bash|zsh`: shell completion scripts generated from the
// CLI11 command tree, so they never fall behind the commands.
#include <iostream>
#include <map>

#include "commands.h"

namespace normbase::cli {

namespace {

struct Level {
  std::vector<std::pair<std::string, std::string>> commands;  // name, description
  std::vector<std::pair<std::string, std::string>> options;   // --flag, description
};

void Collect(const CLI::App* app, const std::string& path,
             const std::vector<std::pair<std::string, std::string>>& global,
             std::map<std::string, Level>* out) {
  Level& level = (*out)[path];
  for (const CLI::App* sub : app->get_subcommands({}))
    level.commands.emplace_back(sub->get_name(), sub->get_description());
  for (const CLI::Option* opt : app->get_options({})) {
    if (!opt->nonpositional()) continue;
    for (const auto& l : opt->get_lnames())
      level.options.emplace_back("--" + l, opt->get_description());
    for (const auto& s : opt->get_snames())
      level.options.emplace_back("-" + s, opt->get_description());
  }
  if (path != "normbase") level.options.insert(level.options.end(), global.begin(), global.end());
  for (const CLI::App* sub : app->get_subcommands({}))
    Collect(sub, path + " " + sub->get_name(), global, out);
}

// 'text' for a shell, single quotes escaped.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string FirstLine(std::string s) {
  if (auto nl = s.find('\n'); nl != std::string::npos) s = s.substr(0, nl);
  for (char& c : s)
    if (c == ':') c = ';';  // zsh's _describe splits at the first colon
  return s;
}

std::string Bash(const std::map<std::string, Level>& levels) {
  std::string s = "# bash completion for normbase; load with: source <(normbase completion bash)\n";
  s += "declare -gA _normbase_cmds=(\n";
  for (const auto& [path, l] : levels) {
    std::string words;
    for (const auto& c : l.commands) words += (words.empty() ? "" : " ") + c.first;
    s += "  [" + Quote(path) + "]=" + Quote(words) + "\n";
  }
  s += ")\ndeclare -gA _normbase_opts=(\n";
  for (const auto& [path, l] : levels) {
    std::string words;
    for (const auto& o : l.options) words += (words.empty() ? "" : " ") + o.first;
    s += "  [" + Quote(path) + "]=" + Quote(words) + "\n";
  }
  s += R"()
_normbase() {
  local cur="${COMP_WORDS[COMP_CWORD]}" path="normbase" next i
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ ${COMP_WORDS[i]} == -* ]] && continue
    next="$path ${COMP_WORDS[i]}"
    [[ -n ${_normbase_cmds[$next]+set} ]] && path="$next"
  done
  local words="${_normbase_cmds[$path]}"
  [[ $cur == -* || -z $words ]] && words="${_normbase_opts[$path]}"
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _normbase normbase
)";
  return s;
}

std::string Zsh(const std::map<std::string, Level>& levels) {
  std::string s =
      "#compdef normbase\n# zsh completion for normbase; load with: source <(normbase completion "
      "zsh)\n";
  s += "typeset -gA _normbase_cmds _normbase_opts\n";
  for (const auto& [path, l] : levels) {
    std::string cmds, opts;
    for (const auto& c : l.commands)
      cmds += (cmds.empty() ? "" : "\n") + c.first + ":" + FirstLine(c.second);
    for (const auto& o : l.options)
      opts += (opts.empty() ? "" : "\n") + o.first + ":" + FirstLine(o.second);
    s += "_normbase_cmds[" + Quote(path) + "]=" + Quote(cmds) + "\n";
    s += "_normbase_opts[" + Quote(path) + "]=" + Quote(opts) + "\n";
  }
  s += R"(
_normbase() {
  local cmdpath="normbase" next i
  local -a subs opts
  for ((i = 2; i < CURRENT; i++)); do
    [[ ${words[i]} == -* ]] && continue
    next="$cmdpath ${words[i]}"
    (( ${+_normbase_cmds[$next]} )) && cmdpath="$next"
  done
  subs=("${(@f)_normbase_cmds[$cmdpath]}")
  opts=("${(@f)_normbase_opts[$cmdpath]}")
  if [[ $PREFIX == -* ]]; then
    _describe -t options 'option' opts
  elif [[ -n ${_normbase_cmds[$cmdpath]} ]]; then
    _describe -t commands 'command' subs
  else
    _files
  fi
}
compdef _normbase normbase
)";
  return s;
}

}  // namespace

void AddCompletionCommand(CLI::App& app, Context& ctx) {
  auto shell = std::make_shared<std::string>();
  auto* completion = app.add_subcommand(
      "completion", "Print a shell completion script: source <(normbase completion bash)");
  completion->add_option("SHELL", *shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  CLI::App* root = &app;
  OnRun(completion, ctx, [root, shell] {
    std::vector<std::pair<std::string, std::string>> global;
    for (const CLI::Option* opt : root->get_options({}))
      if (opt->nonpositional() && opt->get_name() != "--help" && opt->get_name() != "--version")
        for (const auto& l : opt->get_lnames())
          global.emplace_back("--" + l, opt->get_description());
    std::map<std::string, Level> levels;
    // Keys are command paths from the program's name: bash allows no empty key.
    Collect(root, "normbase", global, &levels);
    std::cout << (*shell == "bash" ? Bash(levels) : Zsh(levels));
    return kExitOk;
  });
}

}  // namespace normbase::cli
