// `normbase-server backup --data DIR OUT` and `normbase-server restore BACKUP
// --data NEW_DIR`: the operator's commands around backup.h. A backup of a
// data directory a server is running on is made by that server (asked over
// its admin socket), since RocksDB admits one process; of a stopped one, by
// this process.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "server/admin_socket.h"
#include "server/app.h"
#include "server/backup.h"
#include "server/backup_cli.h"

namespace normbase::server {

struct BackupCommands {
  CLI::App* backup = nullptr;
  CLI::App* restore = nullptr;
  std::string out;         // backup: the folder to create
  std::string backup_dir;  // restore: the backup to read
  bool data_given = false;
};

namespace {

// A checkpoint is a flush plus hard links; copying (another file system) may
// take long for a big dataset, so the client waits generously.
constexpr int kBackupAnswerTimeoutMs = 60 * 60 * 1000;

int Fail(const char* cmd, const std::string& message) {
  std::cerr << "normbase-server " << cmd << ": " << message << "\n";
  return 1;
}

nlohmann::json Describe(const BackupInfo& b, const char* how) {
  return {{"path", b.path},
          {"event_seq", b.event_seq},
          {"format_version", b.format_version},
          {"created_ms", b.created_ms},
          {"server_version", b.server_version},
          {"made_by", how}};
}

int RunBackup(const BackupCommands& c, const ServerConfig& config) {
  if (!std::filesystem::exists(std::filesystem::path(config.data_dir) / "db" / "CURRENT"))
    return Fail("backup",
                config.data_dir + " holds no Normbase data (no db/ inside); check --data");
  auto target = CheckBackupTarget(c.out);
  if (!target.ok()) return Fail("backup", target.status().message());

  // First the running server, if any: it holds the database.
  auto answer =
      AskServer(config.data_dir, {{"op", "backup"}, {"out", *target}}, kBackupAnswerTimeoutMs);
  if (answer.ok()) {
    if (!answer->value("ok", false))
      return Fail("backup", "the server refused: " + answer->value("error", std::string("?")));
    auto out = (*answer)["backup"];
    out["made_by"] = "the running server";
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (!answer.status().IsNotFound()) return Fail("backup", answer.status().message());

  auto store = OpenStore(config);
  if (!store.ok())
    return Fail("backup",
                store.status().message() +
                    (store.status().code() == Status::Code::kUnavailable
                         ? " — a server holds it but does not answer on its admin socket; is it an "
                           "older release? Stop it and retry"
                         : ""));
  auto made = MakeBackup(**store, *target);
  if (!made.ok()) return Fail("backup", made.status().message());
  std::cout << Describe(*made, "this command (no server was running)").dump(2) << "\n";
  return 0;
}

int RunRestore(const BackupCommands& c, const ServerConfig& config) {
  if (!c.data_given)
    return Fail("restore", "--data NEW_DIR is required: the folder to restore into (new or empty)");
  // A running server has a non-empty data dir anyway; say the precise reason.
  if (auto s = AskServer(config.data_dir, {{"op", "status"}}, 5000); s.ok())
    return Fail("restore", "a server is running on " + config.data_dir +
                               "; stop it and restore into a new folder");
  auto restored = RestoreBackup(c.backup_dir, config.data_dir);
  if (!restored.ok()) return Fail("restore", restored.status().message());
  std::cout << Describe(*restored, "restore").dump(2) << "\n"
            << "Start the server with --data " << restored->path << "\n";
  return 0;
}

}  // namespace

std::shared_ptr<BackupCommands> AddBackupCommands(CLI::App& app) {
  auto c = std::make_shared<BackupCommands>();
  c->backup = app.add_subcommand("backup",
                                 "Make a consistent backup of --data DIR into the new folder OUT, "
                                 "online if a server runs on DIR");
  c->backup->fallthrough();  // --data and --config may follow the subcommand
  c->backup->add_option("OUT", c->out, "Folder to create (must not exist, or be empty)")
      ->required();
  c->restore = app.add_subcommand(
      "restore", "Restore a backup into a new, empty data directory --data NEW_DIR");
  c->restore->fallthrough();
  c->restore->add_option("BACKUP", c->backup_dir, "A folder made by 'normbase-server backup'")
      ->required();
  return c;
}

bool BackupSelected(const BackupCommands& c) { return c.backup->parsed() || c.restore->parsed(); }

int RunBackupCommand(BackupCommands& c, const CLI::App& app, const ServerConfig& config) {
  c.data_given = app.count("--data") > 0;
  return c.backup->parsed() ? RunBackup(c, config) : RunRestore(c, config);
}

}  // namespace normbase::server
