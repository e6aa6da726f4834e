// The `backup` and `restore` subcommands of normbase-server (backup.h has
// what they do). main.cc registers them and runs the chosen one.
#pragma once

#include <memory>

#include "server/config.h"

namespace CLI {
class App;
}

namespace normbase::server {

struct BackupCommands;
std::shared_ptr<BackupCommands> AddBackupCommands(CLI::App& app);
bool BackupSelected(const BackupCommands& cmds);
// `app` is the parsed top-level app (to tell whether --data was given).
int RunBackupCommand(BackupCommands& cmds, const CLI::App& app, const ServerConfig& config);

}  // namespace normbase::server
