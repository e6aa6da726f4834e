#include "worker.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <zmq.hpp>

#include "bus/curve_keys.h"
#include "bus/wire.h"
#include "domain/codec.h"

namespace normbase::worker {
namespace {

namespace pb = ::normbase::bus::v1;

constexpr char kSharedInputFeature[] = "shared-input";
constexpr size_t kSharedTextsKept = 8;
using Clock = std::chrono::steady_clock;

std::atomic<int> g_signal{0};
extern "C" void OnSignal(int s) { g_signal = s; }

struct Task {
  std::string job_id, plugin;
  uint32_t attempt = 0, timeout_ms = 0;
  std::string input;
};

// What a job thread hands back to the loop.
struct Outgoing {
  bool is_result = true;
  std::string job_id;
  uint32_t attempt = 0;
  int code = NB_PLUGIN_OK;
  std::string output;
  double fraction = 0;
  std::string message;
  uint32_t duration_ms = 0;
};

class JobRunner;

// The nb_host a plugin sees while it runs one job.
struct JobContext {
  JobRunner* runner;
  std::string job_id;
  uint32_t attempt;
  std::shared_ptr<std::atomic<bool>> cancelled;
  Clock::time_point last_progress{};
  nb_host host;
};

// A fixed pool of job threads; the loop thread submits, they report back
// through a queue and an eventfd the loop polls.
class JobRunner {
 public:
  JobRunner(const PluginHost& plugins, unsigned threads) : plugins_(plugins), efd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~JobRunner() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    ::close(efd_);
  }
  int fd() const { return efd_; }

  void Submit(Task t, std::shared_ptr<std::atomic<bool>> cancelled) {
    {
      std::lock_guard lk(mu_);
      cancel_flags_[t.job_id] = std::move(cancelled);
      queue_.push_back(std::move(t));
    }
    cv_.notify_one();
  }
  // Jobs not started yet (for a drain's hand-back).
  std::vector<Task> TakeQueued() {
    std::lock_guard lk(mu_);
    std::vector<Task> out(queue_.begin(), queue_.end());
    queue_.clear();
    return out;
  }
  std::set<std::string> Started() const {
    std::lock_guard lk(mu_);
    return started_;
  }
  std::vector<Outgoing> TakeOutgoing() {
    uint64_t n;
    while (::read(efd_, &n, sizeof n) > 0) {
    }
    std::lock_guard lk(mu_);
    std::vector<Outgoing> out;
    out.swap(out_);
    return out;
  }
  void Push(Outgoing o) {
    {
      std::lock_guard lk(mu_);
      out_.push_back(std::move(o));
    }
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(efd_, &one, sizeof one);
  }

 private:
  static void Progress(void* ctx, double fraction, const char* message) {
    auto* c = static_cast<JobContext*>(ctx);
    const auto now = Clock::now();
    if (now - c->last_progress < std::chrono::milliseconds(250) && fraction < 1.0) return;
    c->last_progress = now;
    Outgoing o;
    o.is_result = false;
    o.job_id = c->job_id;
    o.attempt = c->attempt;
    o.fraction = fraction;
    o.message = message != nullptr ? std::string(message).substr(0, 200) : "";
    c->runner->Push(std::move(o));
  }
  static int Cancelled(void* ctx) { return static_cast<JobContext*>(ctx)->cancelled->load() ? 1 : 0; }

  void Loop() {
    std::map<std::string, void*> instances;  // plugin -> this thread's instance
    for (;;) {
      Task t;
      std::shared_ptr<std::atomic<bool>> cancelled;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
        if (stop_) break;
        t = std::move(queue_.front());
        queue_.pop_front();
        started_.insert(t.job_id);
        cancelled = cancel_flags_[t.job_id];
      }
      const LoadedPlugin* p = plugins_.Find(t.plugin);
      Outgoing o;
      o.job_id = t.job_id;
      o.attempt = t.attempt;
      const auto t0 = Clock::now();
      if (p == nullptr) {
        o.code = NB_PLUGIN_FAILED;
        o.output = "plugin " + t.plugin + " is not loaded";
      } else {
        auto it = instances.find(t.plugin);
        if (it == instances.end())
          it = instances.emplace(t.plugin, p->api->create ? p->api->create("{}", 2) : nullptr).first;
        JobContext ctx{this, t.job_id, t.attempt, cancelled, {}, {}};
        ctx.host = nb_host{&ctx, &JobRunner::Progress, &JobRunner::Cancelled};
        auto outcome = PluginHost::Run(*p, it->second, t.input, &ctx.host);
        o.code = outcome.code;
        o.output = std::move(outcome.output);
      }
      o.duration_ms = static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
      {
        std::lock_guard lk(mu_);
        started_.erase(t.job_id);
        cancel_flags_.erase(t.job_id);
      }
      Push(std::move(o));
    }
    for (auto& [name, inst] : instances) {
      const LoadedPlugin* p = plugins_.Find(name);
      if (p && p->api->destroy && inst) p->api->destroy(inst);
    }
  }

  const PluginHost& plugins_;
  int efd_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                                                   // GUARDED_BY(mu_)
  std::deque<Task> queue_;                                              // GUARDED_BY(mu_)
  std::set<std::string> started_;                                       // GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> cancel_flags_;  // GUARDED_BY(mu_)
  std::vector<Outgoing> out_;                                           // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

struct Running {
  uint32_t attempt = 0;
  Clock::time_point received;
  uint32_t timeout_ms = 0;
  bool timeout_reported = false;
  std::shared_ptr<std::atomic<bool>> cancelled;
};

std::string DefaultId() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", rd());
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + suffix;
}

class Session {
 public:
  Session(const WorkerOptions& o, const PluginHost& plugins)
      : o_(o), plugins_(plugins), runner_(plugins, o.capacity), id_(o.id.empty() ? DefaultId() : o.id),
        hb_ms_(o.heartbeat_ms), expiry_ms_(o.heartbeat_expiry_ms) {}

  int Run() {
    if (!o_.key_file.empty()) {
      auto kp = bus::ReadKeyPair(o_.key_file);
      if (!kp.ok()) return Fatal(kp.status().message());
      auto server = bus::ReadPublicKey(o_.server_key);
      if (!server.ok()) return Fatal("--server-key: " + server.status().message());
      keys_ = *kp;
      server_key_ = *server;
    } else if (!o_.server_key.empty()) {
      return Fatal("--server-key needs --key (this worker's key pair; make one with `normbase-worker keygen`)");
    }
    Connect();
    for (;;) {
      zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, runner_.fd(), ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 2, std::chrono::milliseconds(100));
        if (items[0].revents & ZMQ_POLLIN) {
          if (int code = ReceiveAll(); code >= 0) return code;
        }
        for (auto& o : runner_.TakeOutgoing()) SendOutgoing(o);
        if (int code = Timers(); code >= 0) return code;
      } catch (const zmq::error_t& e) {
        spdlog::error("worker: {}", e.what());
      }
    }
  }

 private:
  int Fatal(const std::string& message) {
    spdlog::error("worker: {}", message);
    return kExitConfig;
  }

  void Connect() {
    socket_ = zmq::socket_t(ctx_, zmq::socket_type::dealer);
    socket_.set(zmq::sockopt::routing_id, id_);
    socket_.set(zmq::sockopt::linger, 2000);
    socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(o_.max_message_bytes));
    if (!keys_.secret_z85.empty()) {
      socket_.set(zmq::sockopt::curve_serverkey, server_key_);
      socket_.set(zmq::sockopt::curve_publickey, keys_.public_z85);
      socket_.set(zmq::sockopt::curve_secretkey, keys_.secret_z85);
    }
    socket_.connect(o_.connect);
    last_heard_ = Clock::now();
    welcomed_ = false;
    SendHello();
  }

  void SendHello() {
    pb::Envelope env;
    auto* h = env.mutable_hello();
    h->set_worker_id(id_);
    h->set_capacity(o_.capacity);
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    h->set_hostname(host);
    h->set_pid(static_cast<uint32_t>(::getpid()));
    h->set_software("normbase-worker " NORMBASE_VERSION);
    h->add_features(kSharedInputFeature);
    for (const auto& [name, p] : plugins_.plugins()) {
      auto* info = h->add_plugins();
      info->set_name(name);
      info->set_version(p.api->version ? p.api->version : "");
      info->set_kind(p.api->kind);
      info->set_abi_version(p.api->abi_version);
      info->set_description(p.api->description ? p.api->description : "");
    }
    Send(env);
  }

  void Send(const pb::Envelope& env) {
    const std::string bytes = bus::Encode(env);
    // dontwait: while the core is away, messages beyond the pipe's HWM are
    // dropped; the core re-dispatches what it did not hear about.
    (void)socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    last_sent_ = Clock::now();
  }

  void SendResult(const std::string& job_id, uint32_t attempt, pb::Result::Status status, std::string output,
                  std::string message, uint32_t duration_ms) {
    pb::Envelope env;
    auto* r = env.mutable_result();
    r->set_job_id(job_id);
    r->set_attempt(attempt);
    r->set_status(status);
    r->set_output(std::move(output));
    r->set_message(std::move(message));
    r->set_duration_ms(duration_ms);
    Send(env);
  }

  // Returns an exit code to stop with, or -1 to go on.
  int ReceiveAll() {
    for (int i = 0; i < 1000; ++i) {
      zmq::message_t msg;
      if (!socket_.recv(msg, zmq::recv_flags::dontwait)) return -1;
      last_heard_ = Clock::now();
      auto env = bus::Decode(msg.data(), msg.size());
      if (!env.ok()) {
        spdlog::warn("worker: dropped a message from the core: {}", env.status().message());
        continue;
      }
      switch (env->body_case()) {
        case pb::Envelope::kWelcome:
          welcomed_ = true;
          backoff_ms_ = 1000;
          hb_ms_ = std::max<int>(50, env->welcome().heartbeat_interval_ms());
          expiry_ms_ = std::max<int>(hb_ms_ * 2, env->welcome().heartbeat_expiry_ms());
          spdlog::info("worker {}: connected to {} ({} plugins, capacity {})", id_, o_.connect,
                       plugins_.plugins().size(), o_.capacity);
          break;
        case pb::Envelope::kJob: OnJob(env->job()); break;
        case pb::Envelope::kCancel:
          if (auto it = running_.find(env->cancel().job_id()); it != running_.end())
            it->second.cancelled->store(true);
          break;
        case pb::Envelope::kError: {
          const auto& e = env->error();
          if (e.code() == pb::Error::UNKNOWN_WORKER) {
            SendHello();  // the core restarted: introduce ourselves again
          } else if (e.code() == pb::Error::PROTOCOL_VERSION || e.code() == pb::Error::REFUSED) {
            return Fatal("the core refused this worker: " + e.message());
          } else {
            spdlog::warn("worker: the core reports: {}", e.message());
          }
          break;
        }
        default: break;  // heartbeats: last_heard_ is enough
      }
    }
    return -1;
  }

  void OnJob(const pb::Job& job) {
    auto refuse = [&](const std::string& why) {
      SendResult(job.job_id(), job.attempt(), pb::Result::REFUSED, "", why, 0);
    };
    // Before any refusal: the core counts the texts this message carries as sent.
    auto input = AssembleInput(job);
    if (!input.ok()) return refuse(input.status().message());
    if (draining_) return refuse("the worker is draining");
    if (plugins_.Find(job.plugin()) == nullptr) return refuse("plugin '" + job.plugin() + "' is not loaded here");
    if (running_.count(job.job_id())) return refuse("job " + job.job_id() + " is running here already");
    if (running_.size() >= o_.capacity) return refuse("no free slot (capacity " + std::to_string(o_.capacity) + ")");
    Running r;
    r.attempt = job.attempt();
    r.received = Clock::now();
    r.timeout_ms = job.timeout_ms() == 0 ? 60000 : job.timeout_ms();
    r.cancelled = std::make_shared<std::atomic<bool>>(false);
    running_[job.job_id()] = r;
    runner_.Submit(Task{job.job_id(), job.plugin(), job.attempt(), r.timeout_ms, std::move(*input)},
                   r.cancelled);
  }

  // The plugin's input: the job's own object with its shared members added
  // (worker.proto, SharedMember). Texts sent with the job are kept by id.
  Result<std::string> AssembleInput(const pb::Job& job) {
    if (job.shared_size() == 0) return job.input();
    const std::string& own = job.input();
    if (own.size() < 2 || own.front() != '{' || own.back() != '}' || own == "{}")
      return Status::InvalidArgument(
          "a job with shared members needs an input object with a member");
    // Held here, not pointed into the cache: a text kept for a later member
    // may push out one an earlier member refers to.
    std::vector<std::shared_ptr<const std::string>> texts;
    for (const auto& m : job.shared()) {
      const std::string& name = m.name();
      if (name.empty() || name.size() > 32 || !std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || c == '_';
          }))
        return Status::InvalidArgument("shared member name '" + name.substr(0, 40) +
                                       "' is not [a-z_]{1,32}");
      auto text = m.text().empty() ? FindShared(m.id()) : KeepShared(m.id(), m.text());
      if (!text)
        return Status::NotFound("shared input text " + m.id().substr(0, 64) + " is not kept here");
      texts.push_back(std::move(text));
    }
    std::vector<domain::JsonMember> members;
    for (int i = 0; i < job.shared_size(); ++i)
      members.push_back({job.shared(i).name(), *texts[i]});
    return domain::WithMembers(own, members);
  }

  std::shared_ptr<const std::string> FindShared(const std::string& id) const {
    auto it = std::find_if(shared_texts_.begin(), shared_texts_.end(),
                           [&](const auto& kept) { return kept.first == id; });
    return it == shared_texts_.end() ? nullptr : it->second;
  }

  std::shared_ptr<const std::string> KeepShared(const std::string& id, const std::string& text) {
    std::erase_if(shared_texts_, [&](const auto& kept) { return kept.first == id; });
    if (shared_texts_.size() >= kSharedTextsKept) shared_texts_.pop_front();
    shared_texts_.emplace_back(id, std::make_shared<const std::string>(text));
    return shared_texts_.back().second;
  }

  void SendOutgoing(Outgoing& o) {
    auto it = running_.find(o.job_id);
    if (it == running_.end() || it->second.attempt != o.attempt) return;
    if (!o.is_result) {
      pb::Envelope env;
      auto* p = env.mutable_progress();
      p->set_job_id(o.job_id);
      p->set_attempt(o.attempt);
      p->set_fraction(o.fraction);
      p->set_message(o.message);
      Send(env);
      return;
    }
    const bool reported = it->second.timeout_reported;
    running_.erase(it);
    if (reported) return;  // the core heard TIMEOUT already
    pb::Result::Status st = o.code == NB_PLUGIN_OK          ? pb::Result::OK
                            : o.code == NB_PLUGIN_BAD_INPUT ? pb::Result::BAD_INPUT
                                                            : pb::Result::FAILED;
    if (st == pb::Result::OK && o.output.size() + 4096 > o_.max_message_bytes) {
      st = pb::Result::FAILED;
      o.output = "the plugin's output (" + std::to_string(o.output.size()) + " bytes) exceeds the bus limit";
    }
    if (st == pb::Result::OK)
      SendResult(o.job_id, o.attempt, st, std::move(o.output), "", o.duration_ms);
    else
      SendResult(o.job_id, o.attempt, st, "", std::move(o.output), o.duration_ms);
  }

  std::vector<std::string> HandBack(const std::set<std::string>& keep) {
    std::vector<std::string> ids;
    for (const auto& t : runner_.TakeQueued()) ids.push_back(t.job_id);
    for (const auto& [id, r] : running_)
      if (!keep.count(id) && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    return ids;
  }

  void SendGoodbye(const std::string& reason, const std::vector<std::string>& returned) {
    pb::Envelope env;
    env.mutable_goodbye()->set_reason(reason);
    for (const auto& id : returned) {
      env.mutable_goodbye()->add_returned_jobs(id);
      running_.erase(id);
    }
    Send(env);
  }

  int Timers() {
    const auto now = Clock::now();
    // Drain on SIGTERM/SIGINT.
    if (g_signal != 0 && !draining_) {
      draining_ = true;
      drain_deadline_ = now + std::chrono::milliseconds(o_.drain_timeout_ms);
      auto started = runner_.Started();
      std::vector<std::string> back;
      for (const auto& t : runner_.TakeQueued()) back.push_back(t.job_id);
      spdlog::info("worker {}: draining: {} running, {} handed back", id_, started.size(), back.size());
      SendGoodbye("draining", back);
    }
    if (draining_ && running_.empty()) return kExitOk;
    if (draining_ && now > drain_deadline_) {
      SendGoodbye("drain timeout", HandBack({}));
      spdlog::warn("worker {}: drain timeout; handed back what still ran", id_);
      Exit(kExitOk);
    }
    // Timeouts: report at once, give the plugin a grace to notice the
    // cancellation, then give up on this process.
    for (auto& [id, r] : running_) {
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - r.received).count();
      if (!r.timeout_reported && elapsed > r.timeout_ms) {
        r.cancelled->store(true);
        r.timeout_reported = true;
        SendResult(id, r.attempt, pb::Result::TIMEOUT, "", "no result within " + std::to_string(r.timeout_ms) + " ms",
                   static_cast<uint32_t>(elapsed));
      }
      const int64_t grace = std::max<int64_t>(1000, r.timeout_ms / 10);
      if (r.timeout_reported && elapsed > r.timeout_ms + grace && runner_.Started().count(id)) {
        spdlog::error("worker {}: plugin stuck on job {} for {} ms; handing back the rest and exiting for a restart",
                      id_, id, elapsed);
        SendGoodbye("a plugin is stuck", HandBack({id}));
        Exit(kExitStuck);
      }
    }
    // Heartbeats, with what runs.
    if (now - last_sent_ >= std::chrono::milliseconds(hb_ms_)) {
      pb::Envelope env;
      // Timed-out jobs still listed: their threads are still taken.
      for (const auto& [id, r] : running_) env.mutable_heartbeat()->add_running(id);
      env.mutable_heartbeat();
      Send(env);
    }
    // The core fell silent: reconnect with back-off and say hello again.
    if (now - last_heard_ > std::chrono::milliseconds(expiry_ms_) && now >= next_reconnect_) {
      spdlog::warn("worker {}: no word from the core at {} for {} ms; reconnecting", id_, o_.connect,
                   std::chrono::duration_cast<std::chrono::milliseconds>(now - last_heard_).count());
      socket_.set(zmq::sockopt::linger, 0);
      socket_.close();
      Connect();
      next_reconnect_ = now + std::chrono::milliseconds(backoff_ms_);
      backoff_ms_ = std::min(backoff_ms_ * 2, o_.max_backoff_ms);
    }
    return -1;
  }

  // Leaves without joining job threads (one may be stuck in a plugin), after
  // giving ZeroMQ a moment to flush the last messages.
  [[noreturn]] void Exit(int code) {
    socket_.close();  // linger: flushes what was queued
    std::fflush(nullptr);
    ::_exit(code);
  }

  const WorkerOptions& o_;
  const PluginHost& plugins_;
  zmq::context_t ctx_;
  zmq::socket_t socket_;
  JobRunner runner_;
  std::string id_;
  bus::CurveKeyPair keys_;
  std::string server_key_;
  int hb_ms_, expiry_ms_;
  int backoff_ms_ = 1000;
  bool welcomed_ = false, draining_ = false;
  Clock::time_point last_heard_{}, last_sent_{}, next_reconnect_{}, drain_deadline_{};
  std::map<std::string, Running> running_;
  // Shared input texts by id, oldest first (worker.proto: at least 8 kept).
  std::deque<std::pair<std::string, std::shared_ptr<const std::string>>> shared_texts_;
};

}  // namespace

int RunWorker(const WorkerOptions& options, const PluginHost& plugins) {
  if (plugins.plugins().empty()) {
    spdlog::error("worker: no usable plugin in {}", options.plugins_dir);
    return kExitConfig;
  }
  if (options.capacity < 1 || options.capacity > 1024) {
    spdlog::error("worker: --capacity must be 1..1024");
    return kExitConfig;
  }
  if (options.memory_limit_mb > 0) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    spdlog::warn("worker: --memory-limit-mb is ignored in a sanitizer build");
#else
    rlimit lim{options.memory_limit_mb << 20, options.memory_limit_mb << 20};
    if (::setrlimit(RLIMIT_AS, &lim) != 0) spdlog::warn("worker: cannot set the memory limit");
#endif
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  Session s(options, plugins);
  return s.Run();
}

}  // namespace normbase::worker
