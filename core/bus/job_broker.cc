#include "bus/job_broker.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <zmq.hpp>

#include "bus/curve_keys.h"
#include "bus/wire.h"
#include "normbase/plugin.h"

namespace normbase::bus {
namespace {

using domain::Job;
using domain::Json;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Jobs queued by committed mutations, handed from the committer thread to the
// broker thread. Shared with the store's commit listener, which may outlive
// the broker (the store has no way to remove a listener).
struct Inbox {
  Inbox() : fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Inbox() {
    if (fd >= 0) ::close(fd);
  }
  void Wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
  }
  void Push(Job j) {
    {
      std::lock_guard lk(mu);
      if (closed) return;
      queued.push_back(std::move(j));
    }
    Wake();
  }
  void PushRejected(std::string job_id, int dispatch) {
    {
      std::lock_guard lk(mu);
      if (closed) return;
      rejected.emplace_back(std::move(job_id), dispatch);
    }
    Wake();
  }
  void PushExited(std::string worker_id, std::string how) {
    {
      std::lock_guard lk(mu);
      if (closed) return;
      exited.emplace_back(std::move(worker_id), std::move(how));
    }
    Wake();
  }
  int fd;
  std::mutex mu;
  bool closed = false;                                  // GUARDED_BY(mu)
  std::vector<Job> queued;                              // GUARDED_BY(mu)
  std::vector<std::pair<std::string, int>> rejected;    // GUARDED_BY(mu)
  std::vector<std::pair<std::string, std::string>> exited;  // GUARDED_BY(mu): worker id, how
};

struct Lease {
  std::string job_id, plugin, worker;  // worker: routing identity
  int dispatch = 0;
  bool isolate = false;
  int64_t started = 0, deadline = 0;
  double progress = 0;
  std::string progress_message;
};

struct WorkerState {
  std::string identity;
  pb::Hello hello;
  std::set<std::string> plugins;
  uint32_t capacity = 1;
  std::set<std::string> leased;   // job ids with a live lease
  std::set<std::string> zombies;  // timed-out jobs still taking a slot until the worker lets go
  bool draining = false;
  bool reserved = false;  // kept idle for an isolated job
  int64_t connected_at = 0, last_seen = 0, last_sent = 0;
  int64_t exited_at = 0;  // its process is known to be gone (the local supervisor saw it)
  std::string exit_how;
  // "shared-input": the ids of the shared input texts sent on this
  // connection, oldest first; at most kSharedTextsAssumed (the worker keeps
  // at least twice as many, so every id here is one it still has).
  bool shared_input = false;
  std::deque<std::string> shared_sent;
  size_t Load() const { return leased.size() + zombies.size(); }
  bool HasShared(const std::string& id) const {
    return std::find(shared_sent.begin(), shared_sent.end(), id) != shared_sent.end();
  }
};

constexpr size_t kSharedTextsAssumed = 4;
constexpr int64_t kViewIntervalMs = 50;  // how stale GET /api/v1/workers may be while jobs move
constexpr char kSharedInputFeature[] = "shared-input";

std::string Hex(const std::string& bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes.substr(0, 32)) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

// Printable worker name for logs: its announced id, else the routing id in hex.
std::string Printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return Hex(s);
  return s;
}

bool IsQueuedEvent(const std::string& type) {
  return type == "check.queued" || type == "analysis.queued";
}

}  // namespace

class JobBroker::Impl {
 public:
  Impl(BrokerOptions o, service::Jobs& jobs, store::Store& store)
      : o_(std::move(o)), jobs_(jobs), store_(store), inbox_(std::make_shared<Inbox>()) {}

  ~Impl() {
    stop_ = true;
    inbox_->Wake();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lk(inbox_->mu);
    inbox_->closed = true;
  }

  Status Bind() {
    if (inbox_->fd < 0) return Status::Internal("cannot create an eventfd for the job broker");
    const bool local = IsLocalEndpoint(o_.endpoint);
    const bool curve = !o_.curve_key_file.empty() || o_.require_curve || !local;
    try {
      router_ = zmq::socket_t(ctx_, zmq::socket_type::router);
      router_.set(zmq::sockopt::linger, 0);
      router_.set(zmq::sockopt::router_mandatory, 1);
      router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(o_.max_message_bytes));
      router_.set(zmq::sockopt::sndhwm, 10000);
      router_.set(zmq::sockopt::rcvhwm, 10000);
      if (curve) {
        if (o_.curve_key_file.empty())
          return Status::InvalidArgument("the bus endpoint " + o_.endpoint +
                                         " is reachable from other machines, so it requires CurveZMQ: give "
                                         "--bus.curve-key (make one with `normbase-worker keygen`) and "
                                         "--bus.allowed-keys");
        NB_ASSIGN_OR_RETURN(auto kp, ReadKeyPair(o_.curve_key_file));
        allowed_ = o_.extra_allowed_keys;
        if (!o_.allowed_keys_file.empty()) {
          NB_ASSIGN_OR_RETURN(auto keys, ReadAllowList(o_.allowed_keys_file));
          allowed_.insert(keys.begin(), keys.end());
        }
        if (allowed_.empty())
          spdlog::warn("bus: CurveZMQ is on but no worker key is allowed (--bus.allowed-keys): every worker will be refused");
        zap_ = zmq::socket_t(ctx_, zmq::socket_type::rep);
        zap_.set(zmq::sockopt::linger, 0);
        zap_.bind("inproc://zeromq.zap.01");
        router_.set(zmq::sockopt::zap_domain, "normbase");
        router_.set(zmq::sockopt::curve_server, 1);
        router_.set(zmq::sockopt::curve_secretkey, kp.secret_z85);
        public_key_ = kp.public_z85;
      }
      router_.bind(o_.endpoint);
      bound_ = router_.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
      return Status::Unavailable("cannot bind the bus to " + o_.endpoint + ": " + e.what());
    }
    spdlog::info("bus: listening on {}{}", bound_, public_key_.empty() ? " (no CurveZMQ: loopback only)"
                                                                      : " with CurveZMQ, server key " + public_key_);
    return Status::Ok();
  }

  Status StartThread() {
    // Listen first, then recover: a job re-queued in between arrives twice and
    // is de-duplicated by id, never lost.
    std::weak_ptr<Inbox> weak = inbox_;
    store_.AddCommitListener([weak](const std::vector<domain::Event>& events) {
      auto inbox = weak.lock();
      if (!inbox) return;
      for (const auto& e : events) {
        if (!IsQueuedEvent(e.type)) continue;
        auto payload = domain::ParseJson(e.payload);
        if (!payload.ok() || !payload->contains("job")) continue;
        auto job = domain::JobFromJson((*payload)["job"]);
        if (job.ok()) inbox->Push(std::move(*job));
      }
    });
    NB_ASSIGN_OR_RETURN(auto open, jobs_.RecoverOpenJobs());
    for (auto& j : open) Enqueue(std::move(j));
    if (!open.empty()) spdlog::info("bus: {} open job(s) in the queue", open.size());
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "nb-broker");  // seen in top -H, perf, gdb
      Run();
    });
    return Status::Ok();
  }

  const std::string& endpoint() const { return bound_; }
  const std::string& public_key() const { return public_key_; }

  Json WorkersView() const {
    std::lock_guard lk(view_mu_);
    return view_;
  }
  BrokerStats Stats() const {
    std::lock_guard lk(view_mu_);
    return stats_;
  }
  // Any thread: the process of that worker is gone.
  void WorkerExited(std::string worker_id, std::string how) {
    inbox_->PushExited(std::move(worker_id), std::move(how));
  }

 private:
  // ---- the loop ----------------------------------------------------------------
  void Run() {
    while (!stop_) {
      std::vector<zmq::pollitem_t> items = {{router_.handle(), 0, ZMQ_POLLIN, 0},
                                            {nullptr, inbox_->fd, ZMQ_POLLIN, 0}};
      if (zap_.handle() != nullptr) items.push_back({zap_.handle(), 0, ZMQ_POLLIN, 0});
      try {
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(PollTimeoutMs()));
        if (items[1].revents & ZMQ_POLLIN) DrainInbox();
        if (items.size() > 2 && (items[2].revents & ZMQ_POLLIN)) HandleZap();
        if (items[0].revents & ZMQ_POLLIN) ReceiveAll();
        Timers();
        Dispatch();
        PublishView();
      } catch (const std::exception& e) {
        // A ZeroMQ or protobuf error must not take the core down: log, go on.
        spdlog::error("bus: {}", e.what());
      }
    }
  }

  int PollTimeoutMs() const {
    int ms = std::max(10, std::min(o_.heartbeat_ms / 2, 250));
    if (view_dirty_)
      ms = std::min<int>(
          ms, static_cast<int>(std::max<int64_t>(1, last_view_ + kViewIntervalMs - WallMs())));
    for (const auto& [id, w] : workers_)
      if (w.exited_at != 0) ms = std::min(ms, ExitGraceMs());
    return ms;
  }
  // How long after its process died a worker's leases are released: enough
  // for its last messages to arrive over a local socket.
  int ExitGraceMs() const { return std::max(10, std::min(100, o_.heartbeat_ms)); }

  void DrainInbox() {
    uint64_t n;
    while (::read(inbox_->fd, &n, sizeof n) > 0) {
    }
    std::vector<Job> queued;
    std::vector<std::pair<std::string, int>> rejected;
    std::vector<std::pair<std::string, std::string>> exited;
    {
      std::lock_guard lk(inbox_->mu);
      queued.swap(inbox_->queued);
      rejected.swap(inbox_->rejected);
      exited.swap(inbox_->exited);
    }
    for (auto& [worker_id, how] : exited) {
      // Not at once: what the worker sent just before it died may still be on
      // its way through ZeroMQ's I/O thread, and an innocent job whose result
      // is in flight must not be charged. Timers() releases after the grace.
      for (auto& [identity, w] : workers_)
        if (w.hello.worker_id() == worker_id && w.exited_at == 0) {
          w.exited_at = WallMs();
          w.exit_how = how;
        }
    }
    for (auto& j : queued) Enqueue(std::move(j));
    for (auto& [id, dispatch] : rejected) {
      // The store refused to record a dispatch (the job changed meanwhile):
      // forget the lease; the worker's result will be ignored as stale.
      auto it = leases_.find(id);
      if (it == leases_.end() || it->second.dispatch != dispatch) continue;
      if (auto w = workers_.find(it->second.worker); w != workers_.end()) {
        w->second.leased.erase(id);
        w->second.zombies.insert(id);
      }
      leases_.erase(it);
      known_.erase(id);
    }
  }

  void Enqueue(Job j) {
    if (j.state != domain::JobState::kQueued || known_.count(j.id)) return;
    known_.insert(j.id);
    queues_[j.plugin].push_back(std::move(j));
    ++queued_count_;
  }

  void ReceiveAll() {
    for (int i = 0; i < 1000; ++i) {
      zmq::message_t identity, payload;
      auto got = router_.recv(identity, zmq::recv_flags::dontwait);
      if (!got) return;
      bool extra = false;
      if (identity.more()) {
        (void)router_.recv(payload, zmq::recv_flags::none);
        while (payload.more()) {  // a well-formed peer sends one frame: drain the rest
          zmq::message_t skip;
          (void)router_.recv(skip, zmq::recv_flags::none);
          extra = true;
          if (!skip.more()) break;
        }
      }
      ++stats_local_.messages_in;
      const std::string id = identity.to_string();
      if (extra) {
        Malformed(id, "a message of more than one frame");
        continue;
      }
      auto env = Decode(payload.data(), payload.size());
      if (!env.ok()) {
        if (env.status().code() == Status::Code::kPreconditionFailed) {
          ++stats_local_.malformed;
          spdlog::warn("bus: peer {}: {}", Printable(id), env.status().message());
          SendError(id, pb::Error::PROTOCOL_VERSION, env.status().message(), "");
        } else {
          Malformed(id, env.status().message());
        }
        continue;
      }
      Handle(id, *env);
    }
  }

  void Malformed(const std::string& id, const std::string& what) {
    ++stats_local_.malformed;
    // Rate-limited: a rogue peer must not flood the log either.
    const int64_t now = WallMs();
    if (now - last_malformed_log_ > 1000) {
      spdlog::warn("bus: dropped garbage from {}: {} ({} dropped so far)", Printable(id), what,
                   stats_local_.malformed);
      last_malformed_log_ = now;
    }
  }

  void Handle(const std::string& id, const pb::Envelope& env) {
    const int64_t now = WallMs();
    if (env.has_hello()) return OnHello(id, env.hello(), now);
    auto it = workers_.find(id);
    if (it == workers_.end()) {
      // Not (or no longer) known: e.g. the core restarted. Ask for a hello.
      if (!env.has_goodbye() && !env.has_error())
        SendError(id, pb::Error::UNKNOWN_WORKER, "send Hello first", "");
      return;
    }
    WorkerState& w = it->second;
    w.last_seen = now;
    switch (env.body_case()) {
      case pb::Envelope::kHeartbeat: OnHeartbeat(w, env.heartbeat(), now); break;
      case pb::Envelope::kProgress: OnProgress(w, env.progress()); break;
      case pb::Envelope::kResult: OnResult(w, env.result()); break;
      case pb::Envelope::kGoodbye: OnGoodbye(w, env.goodbye()); break;
      case pb::Envelope::kError:
        spdlog::warn("bus: worker {} reports: {}", w.hello.worker_id(), env.error().message());
        break;
      default: Malformed(id, "a message a worker does not send"); break;
    }
  }

  void OnHello(const std::string& id, const pb::Hello& hello, int64_t now) {
    std::string refusal;
    if (hello.worker_id().empty() || hello.worker_id().size() > 128) refusal = "worker_id must have 1-128 bytes";
    if (hello.capacity() < 1 || hello.capacity() > 1024) refusal = "capacity must be 1..1024";
    if (hello.plugins_size() > 512) refusal = "at most 512 plugins";
    if (!workers_.count(id) && workers_.size() >= o_.max_workers) refusal = "too many workers connected";
    std::set<std::string> plugins;
    for (const auto& p : hello.plugins()) {
      if (p.abi_version() != NB_PLUGIN_ABI_VERSION) {
        spdlog::warn("bus: worker {} announced plugin '{}' built for plugin ABI {}; the core speaks {}: ignored",
                     hello.worker_id(), p.name(), p.abi_version(), NB_PLUGIN_ABI_VERSION);
        continue;
      }
      if (p.name().empty() || p.name().size() > 64) continue;
      plugins.insert(p.name());
    }
    if (refusal.empty() && plugins.empty()) refusal = "no usable plugin announced";
    if (!refusal.empty()) {
      ++stats_local_.refused_hellos;
      spdlog::warn("bus: refused hello from {}: {}", Printable(id), refusal);
      SendError(id, pb::Error::REFUSED, refusal, "");
      return;
    }
    if (auto old = workers_.find(id); old != workers_.end()) {
      // Same worker, new session (it lost us, e.g. after a network cut): what it
      // had is gone; give it back without charging the jobs.
      ReleaseAll(old->second, domain::AttemptLoss::kHandedBack, "the worker reconnected");
      workers_.erase(old);
    }
    WorkerState w;
    w.identity = id;
    w.hello = hello;
    w.plugins = std::move(plugins);
    w.capacity = hello.capacity();
    w.shared_input = std::find(hello.features().begin(), hello.features().end(),
                               kSharedInputFeature) != hello.features().end();
    w.connected_at = w.last_seen = now;
    pb::Envelope env;
    auto* welcome = env.mutable_welcome();
    welcome->set_heartbeat_interval_ms(o_.heartbeat_ms);
    welcome->set_heartbeat_expiry_ms(o_.heartbeat_expiry_ms);
    welcome->set_max_message_bytes(o_.max_message_bytes);
    auto [pos, _] = workers_.emplace(id, std::move(w));
    Send(pos->second, env);
    spdlog::info("bus: worker {} ({} pid {}) connected: capacity {}, plugins {}", hello.worker_id(),
                 hello.hostname(), hello.pid(), hello.capacity(), pos->second.plugins.size());
    WorkerEvent("worker.connected", pos->second, "");
    view_dirty_ = true;
  }

  void OnHeartbeat(WorkerState& w, const pb::Heartbeat& hb, int64_t now) {
    std::set<std::string> running(hb.running().begin(), hb.running().end());
    // Slots of timed-out jobs free up once the worker no longer runs them.
    for (auto it = w.zombies.begin(); it != w.zombies.end();)
      it = running.count(*it) ? std::next(it) : w.zombies.erase(it);
    // A lease the worker does not know of, well after it was sent, was lost
    // on the way or dropped: hand it back rather than wait for its deadline.
    std::vector<std::string> lost;
    for (const auto& job_id : w.leased) {
      const Lease& l = leases_.at(job_id);
      if (!running.count(job_id) && now - l.started > o_.heartbeat_expiry_ms) lost.push_back(job_id);
    }
    for (const auto& job_id : lost) Release(w, job_id, domain::AttemptLoss::kHandedBack, "the worker does not know the job");
  }

  void OnProgress(WorkerState& w, const pb::Progress& p) {
    auto it = leases_.find(p.job_id());
    if (it == leases_.end() || it->second.worker != w.identity || it->second.dispatch != static_cast<int>(p.attempt())) return;
    it->second.progress = std::clamp(p.fraction(), 0.0, 1.0);
    it->second.progress_message = p.message().substr(0, 200);
    view_dirty_ = true;
  }

  void OnResult(WorkerState& w, const pb::Result& r) {
    auto it = leases_.find(r.job_id());
    if (it == leases_.end() || it->second.worker != w.identity || it->second.dispatch != static_cast<int>(r.attempt())) {
      // Late (after a timeout or re-dispatch) or duplicate: results are idempotent.
      ++stats_local_.stale_results;
      // A late OK/FAILED means the plugin let go of its thread; a late TIMEOUT
      // means it still holds it (the heartbeat says when it lets go).
      if (r.status() != pb::Result::TIMEOUT) w.zombies.erase(r.job_id());
      spdlog::debug("bus: ignored a stale result for {} (dispatch {}) from {}", r.job_id(), r.attempt(),
                    w.hello.worker_id());
      MaybeRemoveDrained(w.identity);
      return;
    }
    service::JobReport report;
    report.job_id = r.job_id();
    report.dispatch = static_cast<int>(r.attempt());
    report.worker = w.hello.worker_id();
    report.message = r.message().substr(0, 2000);
    switch (r.status()) {
      case pb::Result::OK: report.outcome = service::JobOutcome::kOk; break;
      case pb::Result::BAD_INPUT: report.outcome = service::JobOutcome::kBadInput; break;
      case pb::Result::TIMEOUT: report.outcome = service::JobOutcome::kTimedOut; break;
      case pb::Result::REFUSED:
        report.outcome = service::JobOutcome::kRefused;
        w.shared_sent.clear();  // it may have refused for want of a shared text: send them again
        break;
      default: report.outcome = service::JobOutcome::kFailed; break;
    }
    if (report.outcome == service::JobOutcome::kOk) report.output = r.output();
    stats_local_.result_bytes_in += r.output().size() + r.message().size();
    if (report.outcome == service::JobOutcome::kTimedOut) {
      ++stats_local_.timeouts;
      w.zombies.insert(r.job_id());  // its thread is still stuck: the slot stays taken
    }
    w.leased.erase(r.job_id());
    leases_.erase(it);
    known_.erase(r.job_id());
    ++stats_local_.results;
    const std::string job_id = r.job_id();
    jobs_.RecordResult(std::move(report), [job_id](Result<Job> j) {
      if (!j.ok()) spdlog::debug("bus: result for {} not recorded: {}", job_id, j.status().message());
    });
    view_dirty_ = true;
    MaybeRemoveDrained(w.identity);
  }

  void OnGoodbye(WorkerState& w, const pb::Goodbye& g) {
    spdlog::info("bus: worker {} says goodbye ({}), handing back {} job(s)", w.hello.worker_id(), g.reason(),
                 g.returned_jobs_size());
    w.draining = true;
    for (const auto& job_id : g.returned_jobs())
      if (w.leased.count(job_id)) Release(w, job_id, domain::AttemptLoss::kHandedBack, "handed back by a draining worker");
    view_dirty_ = true;
    MaybeRemoveDrained(w.identity);
  }

  void MaybeRemoveDrained(const std::string& identity) {
    auto it = workers_.find(identity);
    if (it == workers_.end() || !it->second.draining || !it->second.leased.empty()) return;
    WorkerEvent("worker.left", it->second, "drained");
    workers_.erase(it);
    view_dirty_ = true;
  }

  // ---- leases --------------------------------------------------------------------
  void Release(WorkerState& w, const std::string& job_id, domain::AttemptLoss loss, const std::string& why) {
    auto it = leases_.find(job_id);
    if (it == leases_.end()) return;
    const int dispatch = it->second.dispatch;
    leases_.erase(it);
    w.leased.erase(job_id);
    known_.erase(job_id);  // the re-queue event brings it back with the new counts
    jobs_.RecordLoss(job_id, dispatch, loss, why, [job_id](Result<Job> j) {
      if (!j.ok()) spdlog::debug("bus: loss of {} not recorded: {}", job_id, j.status().message());
      else if (j->state == domain::JobState::kFailed)
        spdlog::warn("bus: job {} failed for good: {}", job_id, j->outcome);
    });
    view_dirty_ = true;
  }

  void ReleaseAll(WorkerState& w, domain::AttemptLoss loss, const std::string& why) {
    std::vector<std::string> ids(w.leased.begin(), w.leased.end());
    for (const auto& id : ids) Release(w, id, loss, why);
  }

  void Timers() {
    const int64_t now = WallMs();
    std::vector<std::string> lost;
    for (auto& [id, w] : workers_) {
      if (now - w.last_seen > o_.heartbeat_expiry_ms ||
          (w.exited_at != 0 && now - w.exited_at >= ExitGraceMs())) {
        lost.push_back(id);
        continue;
      }
      if (now - w.last_sent >= o_.heartbeat_ms) {
        pb::Envelope env;
        env.mutable_heartbeat();
        Send(w, env);
      }
    }
    for (const auto& id : lost) {
      WorkerState& w = workers_.at(id);
      const std::string who = "worker " + w.hello.worker_id() + " (" + w.hello.hostname() + " pid " +
                              std::to_string(w.hello.pid()) + ")";
      const std::string why = w.exited_at != 0 ? who + " " + w.exit_how
                                               : who + " stopped answering for " +
                                                     std::to_string(now - w.last_seen) + " ms";
      spdlog::warn("bus: {}; re-queueing its {} job(s)", why, w.leased.size());
      ++stats_local_.workers_lost;
      ReleaseAll(w, domain::AttemptLoss::kWorkerLost, why);
      WorkerEvent("worker.lost", w, why);
      workers_.erase(id);
      view_dirty_ = true;
    }
    // Deadlines, on the core's clock: the worker normally reports TIMEOUT
    // first; this catches workers that cannot (a plugin stuck in a loop).
    std::vector<std::string> expired;
    for (const auto& [job_id, l] : leases_)
      if (now > l.deadline + o_.heartbeat_ms) expired.push_back(job_id);
    for (const auto& job_id : expired) {
      Lease l = leases_.at(job_id);
      auto w = workers_.find(l.worker);
      if (w == workers_.end()) continue;
      pb::Envelope env;
      env.mutable_cancel()->set_job_id(job_id);
      env.mutable_cancel()->set_attempt(l.dispatch);
      Send(w->second, env);
      ++stats_local_.timeouts;
      Release(w->second, job_id, domain::AttemptLoss::kTimedOut,
              "no result within " + std::to_string(o_.job_timeout_ms) + " ms");
      w->second.zombies.insert(job_id);
    }
  }

  // ---- dispatch ------------------------------------------------------------------
  WorkerState* PickWorker(const Job& job) {
    const std::string& plugin = job.plugin;
    const bool isolate = job.isolate;
    WorkerState* best = nullptr;
    for (auto& [id, w] : workers_) {
      if (w.draining || !w.plugins.count(plugin) || w.Load() >= w.capacity) continue;
      if (w.zombies.count(job.id)) continue;  // still stuck in it there
      if (isolate ? w.Load() > 0 : w.reserved) continue;
      bool runs_isolated = false;
      for (const auto& job_id : w.leased) runs_isolated |= leases_.at(job_id).isolate;
      if (runs_isolated) continue;
      if (best == nullptr || w.Load() < best->Load()) best = &w;
    }
    return best;
  }

  // An isolated job needs an idle worker: stop feeding the least busy one so
  // that it becomes idle, rather than wait for chance under steady load.
  void ReserveForIsolation(const std::string& plugin) {
    WorkerState* best = nullptr;
    for (auto& [id, w] : workers_) {
      if (w.draining || !w.plugins.count(plugin)) continue;
      if (w.reserved) return;
      if (best == nullptr || w.Load() < best->Load()) best = &w;
    }
    if (best != nullptr) best->reserved = true;
  }

  bool AnySlotFor(const std::string& plugin) const {
    for (const auto& [id, w] : workers_)
      if (!w.draining && w.plugins.count(plugin) && w.Load() < w.capacity) return true;
    return false;
  }

  void Dispatch() {
    for (auto& [plugin, queue] : queues_) {
      for (auto it = queue.begin(); it != queue.end() && AnySlotFor(plugin);) {
        WorkerState* w = PickWorker(*it);
        if (w == nullptr) {
          if (it->isolate) ReserveForIsolation(plugin);
          ++it;  // jobs behind an isolated one need not wait for it
          continue;
        }
        Job job = std::move(*it);
        it = queue.erase(it);
        --queued_count_;
        const bool isolate = job.isolate;
        if (!SendJob(*w, job)) {
          queue.insert(it, std::move(job));
          ++queued_count_;
          break;
        }
        if (isolate) w->reserved = false;
      }
    }
  }

  bool SendJob(WorkerState& w, const Job& job) {
    const int dispatch = job.dispatches + 1;
    const int64_t now = WallMs();
    const int64_t deadline = now + o_.job_timeout_ms;
    auto input = jobs_.BuildInput(job);
    if (input.ok() && input->size() + 4096 > o_.max_message_bytes)
      input = Status::TooLarge("the job's input is " + std::to_string(input->size()) +
                               " bytes, more than the bus carries (--bus.max-message-bytes)");
    if (!input.ok()) {
      // The job cannot run at all: record it as an error rather than retry forever.
      spdlog::warn("bus: job {} cannot run: {}", job.id, input.status().message());
      known_.erase(job.id);
      jobs_.RecordDispatch(job.id, dispatch, "core", deadline, [](const Result<Job>&) {});
      jobs_.RecordResult(
          service::JobReport{job.id, dispatch, service::JobOutcome::kFailed, "",
                             "cannot build the job's input: " + input.status().message(), "core"},
          [](const Result<Job>&) {});
      return true;
    }
    pb::Envelope env;
    auto* msg = env.mutable_job();
    msg->set_job_id(job.id);
    msg->set_plugin(job.plugin);
    msg->set_attempt(dispatch);
    msg->set_timeout_ms(static_cast<uint32_t>(o_.job_timeout_ms));
    size_t input_bytes = 0;
    std::vector<std::string> newly_sent;  // shared texts this message carries
    if (w.shared_input) {
      input_bytes = input->own.size();
      msg->set_input(std::move(input->own));
      for (const auto& part : input->shared) {
        auto* m = msg->add_shared();
        m->set_name(part.name);
        m->set_id(part.text->fingerprint);
        if (w.HasShared(part.text->fingerprint)) continue;
        m->set_text(*part.text->body);
        input_bytes += part.text->body->size();
        newly_sent.push_back(part.text->fingerprint);
      }
    } else {
      msg->set_input(input->Whole());
      input_bytes = msg->input().size();
    }
    if (!Send(w, env)) return false;
    for (auto& id : newly_sent) {
      w.shared_sent.push_back(std::move(id));
      if (w.shared_sent.size() > kSharedTextsAssumed) w.shared_sent.pop_front();
    }
    stats_local_.job_bytes_out += input_bytes;
    Lease l{job.id, job.plugin, w.identity, dispatch, job.isolate, now, deadline, 0, ""};
    leases_[job.id] = l;
    w.leased.insert(job.id);
    ++stats_local_.dispatched;
    auto inbox = inbox_;
    const std::string job_id = job.id;
    jobs_.RecordDispatch(job.id, dispatch, w.hello.worker_id(), deadline,
                         [inbox, job_id, dispatch](Result<Job> j) {
                           if (!j.ok()) inbox->PushRejected(job_id, dispatch);
                         });
    view_dirty_ = true;
    return true;
  }

  // ---- sending -----------------------------------------------------------------
  bool Send(WorkerState& w, const pb::Envelope& env) {
    if (!SendTo(w.identity, env)) return false;
    w.last_sent = WallMs();
    return true;
  }

  bool SendTo(const std::string& identity, const pb::Envelope& env) {
    const std::string bytes = Encode(env);
    try {
      if (!router_.send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return false;
      if (!router_.send(zmq::buffer(bytes), zmq::send_flags::dontwait)) return false;
      ++stats_local_.messages_out;
      return true;
    } catch (const zmq::error_t& e) {
      // EHOSTUNREACH: the peer is gone; heartbeat expiry will clean up.
      spdlog::debug("bus: cannot send to {}: {}", Printable(identity), e.what());
      return false;
    }
  }

  void SendError(const std::string& identity, pb::Error::Code code, const std::string& message,
                 const std::string& job_id) {
    pb::Envelope env;
    env.mutable_error()->set_code(code);
    env.mutable_error()->set_message(message);
    env.mutable_error()->set_job_id(job_id);
    SendTo(identity, env);
  }

  // ---- CurveZMQ authentication (ZAP, RFC 27) --------------------------------------
  void HandleZap() {
    for (int i = 0; i < 100; ++i) {
      std::vector<zmq::message_t> frames;
      zmq::message_t f;
      if (!zap_.recv(f, zmq::recv_flags::dontwait)) return;
      frames.push_back(std::move(f));
      while (frames.back().more() && frames.size() < 16) {
        zmq::message_t next;
        (void)zap_.recv(next, zmq::recv_flags::none);
        frames.push_back(std::move(next));
      }
      const std::string request_id = frames.size() > 1 ? frames[1].to_string() : "";
      const std::string address = frames.size() > 3 ? frames[3].to_string() : "?";
      const std::string mechanism = frames.size() > 5 ? frames[5].to_string() : "";
      std::string code = "400", text = "not allowed", user;
      if (mechanism == "CURVE" && frames.size() > 6 && frames[6].size() == 32) {
        char z85[41];
        zmq_z85_encode(z85, static_cast<const uint8_t*>(frames[6].data()), 32);
        if (allowed_.count(z85)) {
          code = "200";
          text = "OK";
          user = z85;
        } else {
          spdlog::warn("bus: refused a worker from {}: its key {} is not in the allow-list", address, z85);
        }
      } else {
        spdlog::warn("bus: refused a {} connection from {}: CurveZMQ is required", mechanism, address);
      }
      zap_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
      zap_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
      zap_.send(zmq::buffer(code), zmq::send_flags::sndmore);
      zap_.send(zmq::buffer(text), zmq::send_flags::sndmore);
      zap_.send(zmq::buffer(user), zmq::send_flags::sndmore);
      zap_.send(zmq::buffer(std::string()), zmq::send_flags::none);
    }
  }

  // ---- views and events ---------------------------------------------------------
  Json WorkerJson(const WorkerState& w, int64_t now) const {
    Json plugins = Json::array();
    for (const auto& p : w.hello.plugins())
      plugins.push_back(Json{{"name", p.name()}, {"version", p.version()}, {"kind", p.kind()},
                             {"abi_version", p.abi_version()}, {"description", p.description()},
                             {"usable", w.plugins.count(p.name()) > 0}});
    Json jobs = Json::array();
    for (const auto& job_id : w.leased) {
      const Lease& l = leases_.at(job_id);
      jobs.push_back(Json{{"job", l.job_id}, {"plugin", l.plugin}, {"dispatch", l.dispatch},
                          {"started_at", l.started}, {"deadline", l.deadline}, {"progress", l.progress},
                          {"message", l.progress_message}});
    }
    return Json{{"id", w.hello.worker_id()},
                {"hostname", w.hello.hostname()},
                {"pid", w.hello.pid()},
                {"software", w.hello.software()},
                {"capacity", w.capacity},
                {"in_flight", jobs},
                {"stuck_slots", w.zombies.size()},
                {"draining", w.draining},
                {"connected_at", w.connected_at},
                {"last_heartbeat_ms_ago", now - w.last_seen},
                {"plugins", plugins}};
  }

  // The counters are published after every turn of the loop (a copy). The
  // workers' view is JSON rebuilt whole, with every lease: at thousands of
  // jobs a second, rebuilding it every turn was a good part of the broker's
  // time, so a changed view goes out at most every kViewIntervalMs (the poll
  // timeout makes sure it does), and an unchanged one every 500 ms for the
  // heartbeat ages in it.
  void PublishView() {
    const int64_t now = WallMs();
    BrokerStats s = stats_local_;
    s.workers = workers_.size();
    s.queued = queued_count_;
    s.in_flight = leases_.size();
    const bool view_due = now - last_view_ >= (view_dirty_ ? kViewIntervalMs : 500);
    Json view;
    if (view_due) {
      Json items = Json::array();
      for (const auto& [id, w] : workers_) items.push_back(WorkerJson(w, now));
      view = Json{{"items", std::move(items)},
                  {"endpoint", bound_},
                  {"curve", !public_key_.empty()},
                  {"queued", s.queued},
                  {"in_flight", s.in_flight}};
      view_dirty_ = false;
      last_view_ = now;
    }
    std::lock_guard lk(view_mu_);
    stats_ = s;
    if (view_due) view_ = std::move(view);
  }

  void WorkerEvent(const std::string& type, const WorkerState& w, const std::string& why) {
    domain::Event e;
    e.type = type;
    e.subjects["worker"] = w.hello.worker_id();
    Json worker{{"id", w.hello.worker_id()}, {"hostname", w.hello.hostname()}, {"pid", w.hello.pid()},
                {"capacity", w.capacity}, {"plugins", Json(std::vector<std::string>(w.plugins.begin(), w.plugins.end()))}};
    e.payload = domain::Dump(Json{{"worker", worker}, {"reason", why}});
    store_.Submit(
        [e = std::move(e)](store::WriteContext& ctx) mutable {
          ctx.AppendEvent(std::move(e));
          return Status::Ok();
        },
        [](const Status&) {});
  }

  BrokerOptions o_;
  service::Jobs& jobs_;
  store::Store& store_;
  std::shared_ptr<Inbox> inbox_;
  zmq::context_t ctx_;
  zmq::socket_t router_;
  zmq::socket_t zap_;
  std::set<std::string> allowed_;
  std::string bound_, public_key_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  // Broker-thread state.
  std::map<std::string, std::deque<Job>> queues_;  // plugin -> FIFO
  std::set<std::string> known_;                    // queued here or leased
  size_t queued_count_ = 0;
  std::map<std::string, WorkerState> workers_;     // routing identity ->
  std::map<std::string, Lease> leases_;            // job id ->
  BrokerStats stats_local_;
  bool view_dirty_ = true;
  int64_t last_view_ = 0, last_malformed_log_ = 0;

  mutable std::mutex view_mu_;
  Json view_ = Json{{"items", Json::array()}};  // GUARDED_BY(view_mu_)
  BrokerStats stats_;                           // GUARDED_BY(view_mu_)
};

Result<std::unique_ptr<JobBroker>> JobBroker::Start(BrokerOptions options, service::Jobs& jobs,
                                                    store::Store& store) {
  auto impl = std::make_unique<Impl>(std::move(options), jobs, store);
  NB_RETURN_IF_ERROR(impl->Bind());
  NB_RETURN_IF_ERROR(impl->StartThread());
  return std::unique_ptr<JobBroker>(new JobBroker(std::move(impl)));
}

JobBroker::JobBroker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JobBroker::~JobBroker() = default;
const std::string& JobBroker::endpoint() const { return impl_->endpoint(); }
const std::string& JobBroker::public_key() const { return impl_->public_key(); }
void JobBroker::WorkerExited(const std::string& worker_id, const std::string& how) {
  impl_->WorkerExited(worker_id, how);
}
domain::Json JobBroker::WorkersView() const { return impl_->WorkersView(); }
BrokerStats JobBroker::Stats() const { return impl_->Stats(); }

}  // namespace normbase::bus
