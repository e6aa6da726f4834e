// The composition root's pieces that main.cc and admin_cli.cc share.
#pragma once

#include <memory>
#include <string>

#include "server/config.h"
#include "service/common.h"
#include "store/store.h"

namespace CLI {
class App;
}

namespace normbase::server {

// Opens the store in config.data_dir (creating the folder, mode 0700).
Result<std::unique_ptr<store::Store>> OpenStore(const ServerConfig& config);

// `normbase-server admin ...`: user and token management on a stopped data
// directory. Registers the subcommands; RunAdmin() runs the chosen one.
struct AdminCommands;
std::shared_ptr<AdminCommands> AddAdminCommands(CLI::App& app);
bool AdminSelected(const AdminCommands& cmds);
int RunAdmin(const AdminCommands& cmds, const ServerConfig& config);

}  // namespace normbase::server
