// EventHub: fans committed events out to live-stream clients.
//
// The store's commit listener hands each durable group of events to
// Publish(), which only queues them: serialisation (once per event, shared by
// every client) and fan-out run on the hub's own thread, so a thousand viewers
// never slow the committer. The hub keeps the last `replay_window` frames in
// memory for resume.
//
// Subscribe(since = N) registers a sink under the hub's lock and, in the same
// critical section, pushes the sink a hello (or a reset) and the backlog
// (N, last]; every later event is pushed after that by the hub thread. So a
// client sees each event after N exactly once, in order, with no window
// between backlog and live. If N is outside the replay window (older than it,
// or ahead of the log after a restore), the client gets a reset telling it to
// reload state and which seq the stream continues after. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "domain/event.h"
#include "store/store.h"
#include "stream/topics.h"

namespace normbase::stream {

// One event, serialised once: {"kind":"event","seq",...} as sent to clients.
struct StreamFrame {
  uint64_t seq = 0;  // 0 for control messages (hello, reset)
  std::string type;
  std::map<std::string, std::string> subjects;
  std::string text;
};
using FramePtr = std::shared_ptr<const StreamFrame>;

// A client connection as the hub sees it. Push must not block (queue and
// return); the sink enforces its own queue bound and closes itself when a
// client is too slow. The frames are only borrowed for the call: a sink that
// keeps them copies the pointers.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void Push(std::span<const FramePtr> frames) = 0;
};

// Wraps one fan-out (a batch of events pushed to every subscriber) on the hub
// thread; it must call `fan_out` exactly once. A transport uses it to start the
// writes of a whole fan-out with a few hand-offs to its I/O threads instead of
// one per subscriber.
using FanOutScope = std::function<void(const std::function<void()>& fan_out)>;

struct EventHubOptions {
  size_t replay_window = 10000;  // events kept in memory for resume
};

struct SubscribeResult {
  bool reset = false;        // the client must reload state
  uint64_t last_seq = 0;     // the stream continues with events after this
  uint64_t oldest_replayable = 0;  // the smallest `since` that replays without reset
  std::string reason;        // why a reset happened
};

class EventHub {
 public:
  EventHub(EventHubOptions options, const store::Store& store);  // loads the replay window
  ~EventHub();  // stops the hub thread
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // From the store's commit listener: durable events, in seq order.
  void Publish(const std::vector<domain::Event>& events);

  // Registers `sink` (see the class comment). `make_hello` builds the first
  // message from the result (hello or reset); it runs under the hub's lock.
  SubscribeResult Subscribe(uint64_t id, std::weak_ptr<StreamSink> sink,
                            std::shared_ptr<const TopicFilter> filter, std::optional<uint64_t> since,
                            const std::function<FramePtr(const SubscribeResult&)>& make_hello);
  void SetFilter(uint64_t id, std::shared_ptr<const TopicFilter> filter);
  void Unsubscribe(uint64_t id);

  // Installs (or, with nullptr, removes) the fan-out scope. Waits for a
  // fan-out in progress, so after SetFanOutScope(nullptr) returns the old
  // scope is never called again: the transport may go away.
  void SetFanOutScope(FanOutScope scope);

  uint64_t LastSeq() const;
  size_t SubscriberCount() const;
  uint64_t NextSubscriberId() { return next_id_.fetch_add(1) + 1; }

  static FramePtr MakeFrame(const domain::Event& e);

 private:
  struct Subscriber {
    uint64_t id = 0;
    std::weak_ptr<StreamSink> sink;
    std::shared_ptr<const TopicFilter> filter;
    uint64_t floor = 0;  // never push events at or below this seq (already had them)
  };
  void Run();
  void Deliver(const std::vector<FramePtr>& frames);
  std::deque<Subscriber>::iterator FindLocked(uint64_t id);

  EventHubOptions options_;
  const store::Store& store_;
  mutable std::mutex mu_;
  std::deque<FramePtr> ring_;                  // GUARDED_BY(mu_)
  uint64_t last_seq_ = 0;                      // GUARDED_BY(mu_)
  // In id order. A deque, not a map: with ten thousand idle clients a tree
  // node per subscriber (twice the entry) is memory the target counts.
  std::deque<Subscriber> subscribers_;  // GUARDED_BY(mu_)

  std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::vector<domain::Event> inbox_;  // GUARDED_BY(inbox_mu_); drained whole by Run()
  bool stopping_ = false;             // GUARDED_BY(inbox_mu_)
  std::atomic<uint64_t> next_id_{0};

  std::mutex scope_mu_;        // held for a whole fan-out: SetFanOutScope waits for it
  FanOutScope fan_out_scope_;  // GUARDED_BY(scope_mu_)
  std::thread thread_;
};

}  // namespace normbase::stream
