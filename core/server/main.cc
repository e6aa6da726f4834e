// normbase-server: wiring, configuration and signals — the composition root.
// The only place that names concrete classes and owns threads.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/api.h"
#include "api/http_server.h"
#include "api/stream_admission.h"
#include "bus/curve_keys.h"
#include "bus/job_broker.h"
#include "stream/event_hub.h"
#include "server/admin_socket.h"
#include "server/app.h"
#include "server/backup_cli.h"
#include "server/seed_data.h"
#include "service/token_hash.h"

namespace normbase::server {

namespace {

constexpr char kBootstrapTokenFile[] = "bootstrap-admin.token";

Result<std::string> ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `content` to `path` with mode 0600, replacing it atomically.
Status WritePrivateFile(const std::filesystem::path& path, const std::string& content) {
  const std::string tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot create " + tmp + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::Internal("cannot write " + path.string() + ": " + std::strerror(errno));
  return Status::Ok();
}

int Fail(const Status& s) {
  spdlog::critical("{}", s.message());
  return 1;
}

int RunServer(ServerConfig& config, const sigset_t& signals) {
  if (!service::InitCrypto()) return Fail(Status::Internal("libsodium failed to initialise"));
  auto store = OpenStore(config);
  if (!store.ok()) return Fail(store.status());

  service::CodebookCache codebook;
  std::string cb_json = kSeedCodebookJson, ag_json = kSeedAgreementsJson;
  if (!config.seed_dir.empty()) {
    auto c = ReadFile(std::filesystem::path(config.seed_dir) / "codebook.json");
    auto a = ReadFile(std::filesystem::path(config.seed_dir) / "agreements.json");
    if (!c.ok()) return Fail(c.status());
    if (!a.ok()) return Fail(a.status());
    cb_json = *c;
    ag_json = *a;
  }
  auto seeded = service::SeedIfEmpty(**store, codebook, cb_json, ag_json, config.service);
  if (!seeded.ok()) return Fail(seeded.status());

  service::Catalog catalog(**store, codebook, config.service);
  service::Proposals proposals(**store, codebook, config.service);
  service::Accounts accounts(**store, codebook);
  service::Importer importer(**store, codebook, config.service);
  service::Jobs jobs(**store, codebook, config.service);
  api::Metrics metrics;

  // The job bus, then the local workers that connect to it.
  const bool curve = !config.bus.curve_key_file.empty() || config.bus.require_curve ||
                     !bus::IsLocalEndpoint(config.bus.endpoint);
  SupervisorOptions local = config.local_workers;
  if (curve && local.count > 0) {
    // The local workers get a key pair of their own, made afresh at each
    // start and allowed in alongside the configured keys.
    auto kp = bus::GenerateKeyPair();
    if (!kp.ok()) return Fail(kp.status());
    const std::string prefix = (std::filesystem::absolute(config.data_dir) / "local-worker").string();
    std::filesystem::remove(prefix + ".key");
    std::filesystem::remove(prefix + ".pub");
    if (auto s = bus::WriteKeyPair(prefix, *kp); !s.ok()) return Fail(s);
    config.bus.extra_allowed_keys.insert(kp->public_z85);
    local.key_file = prefix + ".key";
  }
  auto broker = bus::JobBroker::Start(config.bus, jobs, **store);
  if (!broker.ok()) return Fail(broker.status());
  std::unique_ptr<WorkerSupervisor> supervisor;
  if (local.count > 0) {
    local.endpoint = (*broker)->endpoint();
    local.server_key = (*broker)->public_key();
    local.heartbeat_ms = config.bus.heartbeat_ms;
    local.heartbeat_expiry_ms = config.bus.heartbeat_expiry_ms;
    // The supervisor stops (joining its thread) before the broker goes.
    local.on_exit = [b = broker->get()](const std::string& id, const std::string& how) { b->WorkerExited(id, how); };
    auto sup = WorkerSupervisor::Start(local);
    if (!sup.ok()) return Fail(sup.status());
    supervisor = std::move(*sup);
  }
  auto* broker_ptr = broker->get();
  api::StaticFiles web({config.web_root.empty() ? api::DefaultWebRoot() : config.web_root});
  if (!web.available())
    spdlog::warn("no dashboard at '{}': the API works; build it with 'cd web && npm ci && npm run build'",
                 config.web_root.empty() ? "share/normbase/web or ./web/dist" : config.web_root);
  auto workers_view = [broker_ptr] { return broker_ptr->WorkersView(); };
  auto bus_gauges = [broker_ptr] {
    const bus::BrokerStats b = broker_ptr->Stats();
    auto g = [](const char* name, const char* help, double v) { return api::Gauge{name, help, v, {}}; };
    return std::vector<api::Gauge>{
        g("normbase_bus_workers", "Workers connected to the bus", double(b.workers)),
        g("normbase_bus_jobs_queued", "Jobs waiting for a worker", double(b.queued)),
        g("normbase_bus_jobs_in_flight", "Jobs leased to workers", double(b.in_flight)),
        g("normbase_bus_dispatched_total", "Jobs handed to workers", double(b.dispatched)),
        g("normbase_bus_results_total", "Results accepted from workers", double(b.results)),
        g("normbase_bus_stale_results_total", "Late or duplicate results ignored", double(b.stale_results)),
        g("normbase_bus_malformed_total", "Messages dropped as garbage", double(b.malformed)),
        g("normbase_bus_refused_hellos_total", "Workers refused at hello", double(b.refused_hellos)),
        g("normbase_bus_workers_lost_total", "Workers that fell silent", double(b.workers_lost)),
        g("normbase_bus_timeouts_total", "Job attempts that timed out", double(b.timeouts)),
        g("normbase_bus_messages_in_total", "Messages received on the bus", double(b.messages_in)),
        g("normbase_bus_messages_out_total", "Messages sent on the bus", double(b.messages_out)),
        g("normbase_bus_job_bytes_out_total", "Bytes of job inputs sent", double(b.job_bytes_out)),
        g("normbase_bus_result_bytes_in_total", "Bytes of results received", double(b.result_bytes_in))};
  };
  api::RateLimiter rate_limiter(config.rate_limit, accounts);
  api::Api api_routes({catalog, proposals, accounts, importer, **store, metrics, &web, &jobs, workers_view, bus_gauges,
                       rate_limiter.enabled() ? &rate_limiter : nullptr});

  if (auto sum = catalog.Summary(); sum.ok())
    spdlog::info("{} dataset revision {}: {} agreements, {} of them coded (the others have no codings yet)",
                 *seeded ? "seeded" : "opened", (*sum)["dataset_revision"].get<int64_t>(),
                 (*sum)["agreements"].get<int64_t>(), (*sum)["coded_agreements"].get<int64_t>());

  const auto token_path = std::filesystem::absolute(std::filesystem::path(config.data_dir) / kBootstrapTokenFile);
  auto token = accounts.Bootstrap();
  if (!token.ok()) return Fail(token.status());
  if (*token) {
    if (auto s = WritePrivateFile(token_path, **token + "\n"); !s.ok()) return Fail(s);
  }

  // Live stream: the hub takes durable events from the committer and fans them out.
  stream::EventHub hub(config.hub, **store);
  (*store)->AddCommitListener([&hub](const std::vector<domain::Event>& events) { hub.Publish(events); });
  api::StreamAdmitter admitter(accounts, config.allowed_origins);
  api::StreamHooks hooks = config.stream;
  hooks.hub = &hub;
  hooks.admit = [&admitter](const api::HttpRequest& req) { return admitter.Admit(req); };
  api::HttpServer http(config.http, [&api_routes](api::HttpRequest&& req, api::Respond respond) {
    api_routes.Handle(std::move(req), std::move(respond));
  }, std::move(hooks));
  auto port = http.Start();
  if (!port.ok()) return Fail(port.status());
  std::string host = config.http.address;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  const std::string url = "http://" + host + ":" + std::to_string(*port);
  std::cout << "Normbase is listening on " << url << "\n"
            << "  data:          " << std::filesystem::absolute(config.data_dir).string() << "\n"
            << "  admin token:   " << token_path.string()
            << (*token ? " (written now; keep it secret)" : std::filesystem::exists(token_path) ? "" : " (removed; use 'normbase-server admin issue-token')")
            << "\n  dashboard:     " << (web.available() ? url + "/  (" + web.root() + ")" : "not built")
            << "\n  workers:       " << local.count << " local, bus on " << broker_ptr->endpoint()
            << (broker_ptr->public_key().empty() ? "" : " (CurveZMQ, server key " + broker_ptr->public_key() + ")")
            << "\n  try:           curl " << url << "/api/v1/agreements\n"
            << std::flush;
  // The local admin channel (online backups); the server serves without it.
  auto admin_socket = AdminSocket::Start(config.data_dir, **store);
  if (!admin_socket.ok())
    spdlog::warn("no admin socket, so no online backups: {}", admin_socket.status().message());
  if (!config.ready_file.empty())
    if (auto s = WritePrivateFile(config.ready_file, url + "\n"); !s.ok()) return Fail(s);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: shutting down", sig);
  http.Stop();
  supervisor.reset();  // local workers drain: finish or hand back their jobs
  broker->reset();     // jobs stay durable; running ones are re-queued at the next start
  if (admin_socket.ok()) admin_socket->reset();  // a backup in progress finishes first
  store->reset();  // drains queued writes; their replies go nowhere, their data is kept
  return 0;
}

}  // namespace

Result<std::unique_ptr<store::Store>> OpenStore(const ServerConfig& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Status::Internal("cannot create data directory " + config.data_dir + ": " + ec.message());
  std::filesystem::permissions(config.data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  store::StoreOptions o = config.store;
  o.path = config.data_dir + "/db";
  return store::Store::Open(std::move(o));
}

}  // namespace normbase::server

int main(int argc, char** argv) {
  using namespace normbase::server;
  // Block the shutdown signals before any thread starts, so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  CLI::App app{
      "normbase-server: the Normbase review server. Keeps the dataset of cybersecurity norms "
      "agreements in RocksDB, serves the REST API under /api/v1, and loads the seed data on "
      "first start."};
  ServerConfig config;
  AddServerOptions(app, config);
  app.set_version_flag("--version", NORMBASE_VERSION);
  auto admin = AddAdminCommands(app);
  auto backup = AddBackupCommands(app);
  // A config file becomes arguments placed before the command line's own.
  std::vector<std::string> cli(argv + 1, argv + argc);
  std::vector<std::string> args;
  for (size_t i = 0; i < cli.size(); ++i) {
    std::string file;
    if (cli[i] == "--config" && i + 1 < cli.size()) file = cli[i + 1];
    if (cli[i].rfind("--config=", 0) == 0) file = cli[i].substr(9);
    if (file.empty()) continue;
    auto extra = ConfigFileArgs(file, cli);
    if (!extra.ok()) {
      std::cerr << extra.status().message() << "\n";
      return 2;
    }
    args = std::move(extra).value();
  }
  args.insert(args.end(), cli.begin(), cli.end());
  std::reverse(args.begin(), args.end());  // CLI11 takes them last-first
  try {
    app.parse(std::move(args));
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (auto s = FinalizeConfig(app, config); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_default_logger(spdlog::stderr_color_mt("normbase"));
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  if (AdminSelected(*admin)) return RunAdmin(*admin, config);
  if (BackupSelected(*backup)) return RunBackupCommand(*backup, app, config);
  return RunServer(config, signals);
}
