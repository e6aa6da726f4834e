#include "domain/job.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace normbase::domain {
namespace {

Job Running(int max_attempts = 3) {
  Job j;
  j.id = ProposalJobId(12, 3, "codebook");
  j.plugin = "codebook";
  j.max_attempts = max_attempts;
  ApplyDispatch(j, "w1", 1000, 61000);
  return j;
}

TEST(Job, IdsAreDeterministicPerSubjectAndPlugin) {
  EXPECT_EQ(ProposalJobId(12, 3, "codebook"), "p12.r3.codebook");
  EXPECT_EQ(DatasetJobId(7, "trend"), "d7.trend");
}

TEST(Job, DispatchLeasesTheJobToAWorkerUntilADeadline) {
  Job j = Running();
  EXPECT_EQ(j.state, JobState::kRunning);
  EXPECT_EQ(j.dispatches, 1);
  EXPECT_EQ(j.worker, "w1");
  EXPECT_EQ(j.lease_deadline, 61000);
  ASSERT_EQ(j.attempts.size(), 1u);
  EXPECT_EQ(j.attempts[0].dispatch, 1);
}

TEST(Job, AWorkerLossIsChargedAndIsolatesTheJob) {
  Job j = Running();
  ApplyAttemptLoss(j, AttemptLoss::kWorkerLost, "worker w1 stopped answering", 2000);
  EXPECT_EQ(j.state, JobState::kQueued);
  EXPECT_EQ(j.failures, 1);
  EXPECT_TRUE(j.isolate);
  EXPECT_TRUE(j.worker.empty());
  EXPECT_EQ(j.attempts.back().outcome, "worker lost");
  EXPECT_EQ(j.attempts.back().ended_at, 2000);
}

TEST(Job, HandBacksAndCoreRestartsAreNotCharged) {
  Job j = Running(1);
  ApplyAttemptLoss(j, AttemptLoss::kHandedBack, "draining", 2000);
  EXPECT_EQ(j.state, JobState::kQueued);
  EXPECT_EQ(j.failures, 0);
  EXPECT_FALSE(j.isolate);
  ApplyDispatch(j, "w2", 3000, 9000);
  ApplyAttemptLoss(j, AttemptLoss::kOrphaned, "", 4000);
  EXPECT_EQ(j.state, JobState::kQueued);
  EXPECT_EQ(j.failures, 0);
  EXPECT_EQ(j.dispatches, 2);
}

TEST(Job, TheLastChargedFailureFailsTheJobWithTheReason) {
  Job j = Running(2);
  ApplyAttemptLoss(j, AttemptLoss::kTimedOut, "no result within 500 ms", 2000);
  EXPECT_EQ(j.state, JobState::kQueued);
  ApplyDispatch(j, "w2", 3000, 9000);
  ApplyAttemptLoss(j, AttemptLoss::kWorkerLost, "w2 died", 4000);
  EXPECT_EQ(j.state, JobState::kFailed);
  EXPECT_TRUE(j.Terminal());
  EXPECT_EQ(j.outcome, "gave up after 2 failed attempts (last: worker lost: w2 died)");
}

TEST(Job, AttemptHistoryIsBounded) {
  Job j = Running(1000);
  for (int i = 0; i < 30; ++i) {
    ApplyAttemptLoss(j, AttemptLoss::kHandedBack, "", i);
    ApplyDispatch(j, "w", i, i + 1);
  }
  EXPECT_EQ(j.attempts.size(), kMaxJobAttemptsKept);
  EXPECT_EQ(j.attempts.back().dispatch, j.dispatches);
}

TEST(Job, JsonRoundTripKeepsEverything) {
  Job j = Running();
  ApplyAttemptLoss(j, AttemptLoss::kWorkerLost, "x", 5);
  auto back = JobFromJson(ToJson(j));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(ToJson(*back), ToJson(j));
  EXPECT_FALSE(JobFromJson(Json{{"id", "x"}}).ok());
  EXPECT_FALSE(JobFromJson(Json{{"id", "x"}, {"plugin", "p"}, {"state", "sleeping"}}).ok());
}

TEST(Job, ACheckOutputMustSayPassedOrFailed) {
  auto ok = ReadCheckOutput(Json{{"status", "failed"}, {"findings", Json::array({Json::object()})}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->outcome, "failed");
  EXPECT_EQ(ok->summary, "1 finding");
  EXPECT_EQ(ReadCheckOutput(Json{{"status", "passed"}, {"summary", "fine"}})->summary, "fine");
  EXPECT_FALSE(ReadCheckOutput(Json::array()).ok());
  EXPECT_FALSE(ReadCheckOutput(Json{{"status", "maybe"}}).ok());
  EXPECT_FALSE(ReadCheckOutput(Json{{"status", "passed"}, {"findings", "none"}}).ok());
  EXPECT_FALSE(ReadCheckOutput(Json{{"summary", "no status"}}).ok());
}

}  // namespace
}  // namespace normbase::domain
