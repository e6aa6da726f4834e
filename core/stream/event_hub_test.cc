// EventHub's fan-out against a real (empty) store: every sink gets each
// event once and in order, filters are applied per sink, gone sinks are
// dropped, subscribers are found by id in any order, and the transport's
// fan-out scope wraps every delivery.
#include "stream/event_hub.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "support/temp_dir.h"

namespace normbase::stream {
namespace {

using normbase::testing::TempDir;

// Records what the hub pushes; Wait blocks until `n` event frames arrived.
class RecordingSink : public StreamSink {
 public:
  void Push(std::span<const FramePtr> frames) override {
    std::lock_guard lk(mu_);
    for (const auto& f : frames)
      if (f->seq) seqs_.push_back(f->seq);
    cv_.notify_all();
  }
  std::vector<uint64_t> Wait(size_t n) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::seconds(5), [&] { return seqs_.size() >= n; });
    return seqs_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint64_t> seqs_;
};

domain::Event MakeEvent(uint64_t seq, const std::string& type, const std::string& proposal) {
  domain::Event e;
  e.seq = seq;
  e.type = type;
  e.subjects["proposal"] = proposal;
  e.payload = "{}";
  return e;
}

std::shared_ptr<const TopicFilter> Filter(const std::vector<std::string>& topics) {
  auto f = TopicFilter::Parse(topics, /*privileged=*/false);
  EXPECT_TRUE(f.ok());
  return std::make_shared<const TopicFilter>(std::move(f).value());
}

class EventHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.path = dir_.path();
    o.sync = false;
    auto s = store::Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    hub_ = std::make_unique<EventHub>(EventHubOptions{}, *store_);
  }

  void Subscribe(uint64_t id, const std::shared_ptr<StreamSink>& sink,
                 std::shared_ptr<const TopicFilter> filter) {
    hub_->Subscribe(id, sink, std::move(filter), std::nullopt,
                    [](const SubscribeResult&) { return std::make_shared<StreamFrame>(); });
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<EventHub> hub_;
};

TEST_F(EventHubTest, EverySinkGetsWhatItsFilterWantsOnceAndInOrder) {
  auto all = std::make_shared<RecordingSink>();
  auto one = std::make_shared<RecordingSink>();
  Subscribe(1, all, Filter({"all"}));
  Subscribe(2, one, Filter({"proposal:7"}));
  // One batch with a mix: the "all" sink takes the hub's whole batch, the
  // other only its proposal's events.
  hub_->Publish({MakeEvent(1, "proposal.created", "7"), MakeEvent(2, "proposal.created", "8"),
                 MakeEvent(3, "comment.added", "7")});
  hub_->Publish({MakeEvent(4, "comment.added", "8")});
  EXPECT_EQ(all->Wait(4), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(one->Wait(2), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(hub_->LastSeq(), 4u);
}

TEST_F(EventHubTest, GoneSinksAreDropped) {
  auto kept = std::make_shared<RecordingSink>();
  Subscribe(1, kept, Filter({}));
  {
    auto gone = std::make_shared<RecordingSink>();
    Subscribe(2, gone, Filter({}));
  }
  EXPECT_EQ(hub_->SubscriberCount(), 2u);
  hub_->Publish({MakeEvent(1, "proposal.created", "1")});
  EXPECT_EQ(kept->Wait(1), (std::vector<uint64_t>{1}));
  EXPECT_EQ(hub_->SubscriberCount(), 1u);
}

// Subscribers are kept in id order; ids may subscribe out of order (two
// connections accepted on two threads), and each one is found again by id.
TEST_F(EventHubTest, SubscribersOutOfIdOrderAreFoundByIdForFilterAndUnsubscribe) {
  std::vector<std::shared_ptr<RecordingSink>> sinks;
  for (int i = 0; i < 6; ++i) sinks.push_back(std::make_shared<RecordingSink>());
  for (uint64_t id : {3, 1, 6, 2, 5, 4})
    Subscribe(id, sinks[id - 1], TopicFilter::Everything(false));
  EXPECT_EQ(hub_->SubscriberCount(), 6u);
  hub_->SetFilter(5, Filter({"proposal:9"}));
  hub_->Unsubscribe(2);
  hub_->Unsubscribe(42);  // unknown: nothing happens
  EXPECT_EQ(hub_->SubscriberCount(), 5u);
  hub_->Publish({MakeEvent(1, "proposal.created", "8"), MakeEvent(2, "proposal.created", "9")});
  for (uint64_t id : {1, 3, 4, 6})
    EXPECT_EQ(sinks[id - 1]->Wait(2), (std::vector<uint64_t>{1, 2})) << id;
  EXPECT_EQ(sinks[4]->Wait(1), (std::vector<uint64_t>{2}));
  EXPECT_EQ(sinks[1]->Wait(0), (std::vector<uint64_t>{})) << "unsubscribed";
}

TEST(TopicFilterDefault, ClientsNamingNoTopicShareOneFilterThatMatchesLikeAll) {
  EXPECT_EQ(TopicFilter::Everything(false), TopicFilter::Everything(false));
  EXPECT_NE(TopicFilter::Everything(false), TopicFilter::Everything(true));
  EXPECT_EQ(TopicFilter::Everything(false)->topics(), (std::vector<std::string>{"all"}));
  const std::map<std::string, std::string> none;
  EXPECT_TRUE(TopicFilter::Everything(false)->Matches("proposal.created", none));
  EXPECT_FALSE(TopicFilter::Everything(false)->Matches("user.created", none));
  EXPECT_TRUE(TopicFilter::Everything(true)->With({"users"})->Matches("user.created", none));
  EXPECT_FALSE(TopicFilter::Everything(false)->With({"users"}).ok()) << "users needs a moderator";
}

TEST_F(EventHubTest, FanOutScopeWrapsEachDeliveryUntilRemoved) {
  std::mutex mu;
  int scopes = 0;
  bool pushed_inside = false;
  auto sink = std::make_shared<RecordingSink>();
  Subscribe(1, sink, Filter({}));
  hub_->SetFanOutScope([&](const std::function<void()>& fan_out) {
    const size_t before = sink->Wait(0).size();
    fan_out();
    std::lock_guard lk(mu);
    ++scopes;
    pushed_inside = sink->Wait(0).size() > before;  // the pushes happened within the scope
  });
  hub_->Publish({MakeEvent(1, "proposal.created", "1")});
  ASSERT_EQ(sink->Wait(1).size(), 1u);
  hub_->SetFanOutScope(nullptr);  // waits for a fan-out in progress
  {
    std::lock_guard lk(mu);
    EXPECT_EQ(scopes, 1);
    EXPECT_TRUE(pushed_inside);
  }
  hub_->Publish({MakeEvent(2, "proposal.created", "1")});
  EXPECT_EQ(sink->Wait(2), (std::vector<uint64_t>{1, 2}));
  std::lock_guard lk(mu);
  EXPECT_EQ(scopes, 1) << "a removed scope must not be called again";
}

}  // namespace
}  // namespace normbase::stream
