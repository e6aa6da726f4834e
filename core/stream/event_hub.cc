#include "stream/event_hub.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "domain/codec.h"

namespace normbase::stream {

FramePtr EventHub::MakeFrame(const domain::Event& e) {
  auto f = std::make_shared<StreamFrame>();
  f->seq = e.seq;
  f->type = e.type;
  f->subjects = e.subjects;
  f->text = domain::EncodeEvent(e, "event");
  return f;
}

EventHub::EventHub(EventHubOptions options, const store::Store& store)
    : options_(options), store_(store) {
  if (options_.replay_window == 0) options_.replay_window = 1;
  last_seq_ = store.LastEventSeq();
  const uint64_t from = last_seq_ > options_.replay_window ? last_seq_ - options_.replay_window : 0;
  auto events = store.ReadEvents(from, options_.replay_window);
  if (events.ok()) {
    for (const auto& e : *events) ring_.push_back(MakeFrame(e));
  } else {
    spdlog::warn("event hub: could not load the replay window: {}", events.status().message());
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "nb-hub");  // seen in top -H, perf, gdb
    Run();
  });
}

EventHub::~EventHub() {
  {
    std::lock_guard lk(inbox_mu_);
    stopping_ = true;
  }
  inbox_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventHub::Publish(const std::vector<domain::Event>& events) {
  {
    std::lock_guard lk(inbox_mu_);
    inbox_.insert(inbox_.end(), events.begin(), events.end());
  }
  inbox_cv_.notify_one();
}

void EventHub::Run() {
  for (;;) {
    std::vector<domain::Event> batch;
    {
      std::unique_lock lk(inbox_mu_);
      inbox_cv_.wait(lk, [&] { return stopping_ || !inbox_.empty(); });
      if (inbox_.empty()) return;
      batch.swap(inbox_);
    }
    std::vector<FramePtr> frames;
    frames.reserve(batch.size());
    for (const auto& e : batch) frames.push_back(MakeFrame(e));  // once per event
    std::lock_guard scope_lk(scope_mu_);
    if (fan_out_scope_)
      fan_out_scope_([&] { Deliver(frames); });
    else
      Deliver(frames);
  }
}

void EventHub::SetFanOutScope(FanOutScope scope) {
  std::lock_guard lk(scope_mu_);
  fan_out_scope_ = std::move(scope);
}

void EventHub::Deliver(const std::vector<FramePtr>& frames) {
  struct Target {
    std::shared_ptr<StreamSink> sink;
    std::shared_ptr<const TopicFilter> filter;
    uint64_t floor;
  };
  std::vector<Target> targets;
  {
    std::lock_guard lk(mu_);
    targets.reserve(subscribers_.size());
    for (const auto& f : frames) {
      ring_.push_back(f);
      last_seq_ = f->seq;
    }
    while (ring_.size() > options_.replay_window) ring_.pop_front();
    // Gathers the live subscribers and drops those whose connection is gone
    // (in one pass: erasing from the middle of a deque one by one is quadratic).
    std::erase_if(subscribers_, [&](const Subscriber& sub) {
      auto s = sub.sink.lock();
      if (!s) return true;
      targets.push_back(Target{std::move(s), sub.filter, sub.floor});
      return false;
    });
  }
  // Outside the lock: filtering and queueing per client. Most clients want
  // every frame of the batch: they get the hub's own vector, so the per-client
  // cost is the sink's queue append, with no allocation here.
  std::vector<FramePtr> mine;
  for (auto& t : targets) {
    size_t wanted = 0;
    for (const auto& f : frames)
      if (f->seq > t.floor && t.filter->Matches(f->type, f->subjects)) ++wanted;
    if (wanted == frames.size()) {
      t.sink->Push(frames);
    } else if (wanted > 0) {
      mine.clear();
      for (const auto& f : frames)
        if (f->seq > t.floor && t.filter->Matches(f->type, f->subjects)) mine.push_back(f);
      t.sink->Push(mine);
    }
  }
}

SubscribeResult EventHub::Subscribe(uint64_t id, std::weak_ptr<StreamSink> sink,
                                    std::shared_ptr<const TopicFilter> filter,
                                    std::optional<uint64_t> since,
                                    const std::function<FramePtr(const SubscribeResult&)>& make_hello) {
  std::lock_guard lk(mu_);
  SubscribeResult r;
  r.last_seq = last_seq_;
  const uint64_t oldest_in_ring = ring_.empty() ? last_seq_ + 1 : ring_.front()->seq;
  r.oldest_replayable = oldest_in_ring - 1;
  std::vector<FramePtr> out;
  uint64_t floor = 0;
  if (!since) {
    // "From now" means from what is durable now, even if the hub has not
    // caught up with it yet: the client may have read it over REST already.
    floor = std::max(last_seq_, store_.LastEventSeq());
    r.last_seq = floor;
  } else if (*since > last_seq_ && *since <= store_.LastEventSeq()) {
    // Durable but not yet through the hub: the client saw it elsewhere (REST).
    // Nothing to replay; skip those events when they arrive.
    floor = *since;
    r.last_seq = *since;
  } else if (since && *since > last_seq_) {
    r.reset = true;
    r.reason = "since=" + std::to_string(*since) + " is ahead of the event log (last is " +
               std::to_string(last_seq_) + "); the server's data may have been restored";
  } else if (since && *since < r.oldest_replayable) {
    r.reset = true;
    r.reason = "since=" + std::to_string(*since) + " is older than the replay window (oldest " +
               std::to_string(r.oldest_replayable) + "); reload the state";
  }
  if (r.reset) {
    // The client reloads what is durable now; events up to there are in that state.
    floor = std::max(last_seq_, store_.LastEventSeq());
    r.last_seq = floor;
  }
  out.push_back(make_hello(r));
  if (since && !r.reset) {
    for (const auto& f : ring_)
      if (f->seq > *since && filter->Matches(f->type, f->subjects)) out.push_back(f);
  }
  if (auto s = sink.lock()) s->Push(out);
  Subscriber sub{id, std::move(sink), std::move(filter), floor};
  // Ids are handed out in order, so this is nearly always the end.
  auto it = FindLocked(id);
  if (it != subscribers_.end() && it->id == id)
    *it = std::move(sub);
  else
    subscribers_.insert(it, std::move(sub));
  return r;
}

std::deque<EventHub::Subscriber>::iterator EventHub::FindLocked(uint64_t id) {
  return std::lower_bound(subscribers_.begin(), subscribers_.end(), id,
                          [](const Subscriber& s, uint64_t v) { return s.id < v; });
}

void EventHub::SetFilter(uint64_t id, std::shared_ptr<const TopicFilter> filter) {
  std::lock_guard lk(mu_);
  auto it = FindLocked(id);
  if (it != subscribers_.end() && it->id == id) it->filter = std::move(filter);
}

void EventHub::Unsubscribe(uint64_t id) {
  std::lock_guard lk(mu_);
  auto it = FindLocked(id);
  if (it != subscribers_.end() && it->id == id) subscribers_.erase(it);
}

uint64_t EventHub::LastSeq() const {
  std::lock_guard lk(mu_);
  return last_seq_;
}

size_t EventHub::SubscriberCount() const {
  std::lock_guard lk(mu_);
  return subscribers_.size();
}

}  // namespace normbase::stream
