// The pipeline without the gRPC transport: every command is acknowledged once, in order per
// stream, only after it is in the journal, with exactly the events the engine produced (as the
// ack was built before the journal got a thread of its own); the published log carries the same
// events; queries see only published state; a stop leaves a recoverable data directory.
#include "pipeline.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>

#include "command_generator.h"
#include "proto_mapping.h"

namespace hft::engine::server {
namespace {

namespace v1 = hft::v1;
using hft::engine::testing::CommandGenerator;
using hft::engine::testing::generator_instrument;

// What a stream would be sent, and whether each response left only once durable.
class RecordingChannel final : public AckChannel {
 public:
  explicit RecordingChannel(std::string journal) : journal_(std::move(journal)) {}

  void deliver(std::shared_ptr<v1::OrderFlowResponse> response) override {
    uint64_t last = 0;
    for (const v1::CommandAck& ack : response->acks()) last = std::max(last, ack.sequence());
    JournalReader reader;
    Command c;
    const bool opened = reader.open(journal_).ok();
    while (opened && reader.next(c)) {
    }
    char thread[16] = {};
    pthread_getname_np(pthread_self(), thread, sizeof thread);
    std::lock_guard lock(mutex_);
    if (reader.last_sequence() < last) ++not_durable_;
    ++responses_;
    threads_.insert(thread);
    for (const v1::CommandAck& ack : response->acks()) acks_.push_back(ack);
    arrived_.notify_all();
  }

  // The acks once `count` have arrived (bounded: a lost ack fails the test instead of hanging it).
  std::vector<v1::CommandAck> wait_for(size_t count) {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, std::chrono::seconds(60), [&] { return acks_.size() >= count; });
    return acks_;
  }
  size_t not_durable() {
    std::lock_guard lock(mutex_);
    return not_durable_;
  }
  size_t responses() {
    std::lock_guard lock(mutex_);
    return responses_;
  }
  // The threads the responses were delivered on.
  std::set<std::string> threads() {
    std::lock_guard lock(mutex_);
    return threads_;
  }

 private:
  const std::string journal_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<v1::CommandAck> acks_;
  size_t not_durable_ = 0;
  size_t responses_ = 0;
  std::set<std::string> threads_;
};

Submission submission(const Command& command, uint64_t correlation_id, std::shared_ptr<AckChannel> channel) {
  Submission s;
  s.command = command;
  s.correlation_id = correlation_id;
  s.channel = std::move(channel);
  return s;
}

// The commands of a seeded flow, and for each (by sequence) the ack the pipeline must send:
// applied to an engine of its own in the same order, acknowledged as the engine's events say.
struct Flow {
  std::vector<Command> commands;
  std::vector<v1::CommandAck> acks;  // index = sequence - 1; correlation id = sequence
};

Flow flow(size_t count) {
  Flow f;
  MatchingEngine reference;
  CommandGenerator generator(11);
  for (Sequence s = 1; s <= count; ++s) {
    Command c = s <= 2 ? Command(generator_instrument(static_cast<InstrumentId>(s))) : generator.next(s, reference.next_order_id());
    c.sequence = s;
    reference.apply(c);
    v1::CommandAck& ack = f.acks.emplace_back();
    ack.set_correlation_id(s);
    ack.set_sequence(s);
    const EventBuffer& events = reference.events();
    for (const Event& e : events) to_proto(e, ack.add_events());
    if (!events.empty() && events[0].type == EventType::OrderRejected) {
      ack.set_reject_reason(static_cast<v1::RejectReason>(events[0].order_rejected.reason));
      ack.set_reject_message(std::string(to_string(events[0].order_rejected.reason)));
      ack.set_order_id(c.type == CommandType::NewOrder ? events[0].order_rejected.order_id : 0);
    } else if (!events.empty() && events[0].type == EventType::OrderAccepted) {
      ack.set_order_id(events[0].order_accepted.order_id);
    }
    reference.events().clear();
    f.commands.push_back(c);
  }
  return f;
}

// The ack without what the pipeline chooses itself (the timestamp), as bytes.
std::string comparable(v1::CommandAck ack) {
  ack.clear_timestamp();
  return ack.SerializeAsString();
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (std::filesystem::temp_directory_path() /
           ("hft-pipeline-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  PipelineOptions options(uint32_t group_records = 64) const {
    return {.data_dir = dir, .journal = {.group_commit_records = group_records, .group_commit_micros = 200}};
  }
  std::shared_ptr<RecordingChannel> channel() const { return std::make_shared<RecordingChannel>(journal_path(dir)); }

  std::string dir;
  MatchingEngine engine;
  EventLog log{1'000'000};
  EngineMetrics metrics;
};

TEST_F(PipelineTest, AcknowledgesEveryCommandOnceInOrderWithTheEnginesEventsOnlyOnceDurable) {
  const Flow f = flow(3'000);
  Pipeline pipeline(engine, log, metrics, options());
  pipeline.start();
  const auto a = channel(), b = channel();
  std::vector<uint64_t> sent_a, sent_b;
  // Batches of 1 to 97 commands, alternating between two streams.
  size_t next = 0;
  for (size_t batch = 0; next < f.commands.size(); ++batch) {
    const auto& to = batch % 2 == 0 ? a : b;
    std::vector<Submission> submissions;
    for (size_t n = 0; n < 1 + (batch * 37) % 97 && next < f.commands.size(); ++n, ++next) {
      submissions.push_back(submission(f.commands[next], next + 1, to));
      (batch % 2 == 0 ? sent_a : sent_b).push_back(next + 1);
    }
    ASSERT_TRUE(pipeline.submit(std::move(submissions)));
  }
  for (const auto& [stream, sent] : {std::pair{a, sent_a}, std::pair{b, sent_b}}) {
    const std::vector<v1::CommandAck> acks = stream->wait_for(sent.size());
    ASSERT_EQ(acks.size(), sent.size());
    for (size_t i = 0; i < acks.size(); ++i) {
      ASSERT_EQ(acks[i].correlation_id(), sent[i]) << "ack " << i;
      EXPECT_EQ(comparable(acks[i]), comparable(f.acks[sent[i] - 1])) << "sequence " << sent[i];
      EXPECT_TRUE(acks[i].has_timestamp());
    }
    EXPECT_EQ(stream->not_durable(), 0u);
  }
  // The published log: every sequence once, with the ack's events and timestamp.
  for (Sequence s = 1; s <= f.commands.size(); ++s) {
    const Published message = log.at(s);
    ASSERT_NE(message, nullptr) << s;
    v1::CommandAck from_log;
    from_log.mutable_events()->CopyFrom(message->events());
    v1::CommandAck expected;
    expected.mutable_events()->CopyFrom(f.acks[s - 1].events());
    EXPECT_EQ(from_log.SerializeAsString(), expected.SerializeAsString()) << s;
  }
  EXPECT_EQ(pipeline.counters().durable_sequence, f.commands.size());
  pipeline.stop();
}

TEST_F(PipelineTest, ALongBurstIsCommittedInGroupsOfTheConfiguredSize) {
  const Flow f = flow(1'000);
  Pipeline pipeline(engine, log, metrics, options(16));
  pipeline.start();
  const auto a = channel();
  std::vector<Submission> submissions;
  for (size_t i = 0; i < f.commands.size(); ++i) submissions.push_back(submission(f.commands[i], i + 1, a));
  ASSERT_TRUE(pipeline.submit(std::move(submissions)));
  const std::vector<v1::CommandAck> acks = a->wait_for(f.commands.size());
  ASSERT_EQ(acks.size(), f.commands.size());
  for (size_t i = 0; i < acks.size(); ++i) EXPECT_EQ(comparable(acks[i]), comparable(f.acks[i]));
  // Sealed every 16 commands, so the acks left in more than one response, each after its sync.
  EXPECT_GT(a->responses(), 1u);
  EXPECT_GT(metrics.fsync_latency_us.totals().count, 1u);
  EXPECT_EQ(a->not_durable(), 0u);
  pipeline.stop();
}

TEST_F(PipelineTest, ALoneCommandIsCommittedByTheMatchingThreadABurstByTheJournalThread) {
  const Flow f = flow(1'001);
  Pipeline pipeline(engine, log, metrics, options(16));
  pipeline.start();
  const auto lone = channel(), burst = channel();
  std::vector<Submission> one;
  one.push_back(submission(f.commands[0], 1, lone));
  ASSERT_TRUE(pipeline.submit(std::move(one)));
  ASSERT_EQ(lone->wait_for(1).size(), 1u);
  // Nothing else to match and the journal thread idle: no hand-off for it.
  EXPECT_EQ(lone->threads(), std::set<std::string>{"hft-matching"});
  EXPECT_EQ(lone->not_durable(), 0u);

  std::vector<Submission> many;
  for (size_t i = 1; i < f.commands.size(); ++i) many.push_back(submission(f.commands[i], i + 1, burst));
  ASSERT_TRUE(pipeline.submit(std::move(many)));
  const std::vector<v1::CommandAck> acks = burst->wait_for(f.commands.size() - 1);
  ASSERT_EQ(acks.size(), f.commands.size() - 1);
  for (size_t i = 0; i < acks.size(); ++i) EXPECT_EQ(comparable(acks[i]), comparable(f.acks[i + 1]));
  // Groups sealed every 16 commands of the burst went to the journal thread.
  EXPECT_TRUE(burst->threads().contains("hft-journal"));
  EXPECT_EQ(burst->not_durable(), 0u);
  pipeline.stop();
}

TEST_F(PipelineTest, ARefusedCommandIsAcknowledgedInItsPlaceWithSequenceZero) {
  const Flow f = flow(3);
  Pipeline pipeline(engine, log, metrics, options());
  pipeline.start();
  const auto a = channel();
  Submission refused = submission(Command(), 2, a);
  refused.refused = RejectReason::MalformedCommand;
  refused.refusal = "command has no body";
  refused.has_body = false;
  std::vector<Submission> batch;
  batch.push_back(submission(f.commands[0], 1, a));
  batch.push_back(std::move(refused));
  batch.push_back(submission(f.commands[1], 3, a));
  ASSERT_TRUE(pipeline.submit(std::move(batch)));
  // A refusal alone, with nothing to journal, is acknowledged too.
  Submission alone = submission(Command(), 4, a);
  alone.refused = RejectReason::MalformedCommand;
  alone.refusal = "client_order_id is longer than 40 characters";
  std::vector<Submission> second;
  second.push_back(std::move(alone));
  ASSERT_TRUE(pipeline.submit(std::move(second)));

  const std::vector<v1::CommandAck> acks = a->wait_for(4);
  ASSERT_EQ(acks.size(), 4u);
  EXPECT_EQ(comparable(acks[0]), comparable(f.acks[0]));
  EXPECT_EQ(acks[1].correlation_id(), 2u);
  EXPECT_EQ(acks[1].sequence(), 0u);
  EXPECT_EQ(acks[1].reject_reason(), v1::REJECT_REASON_MALFORMED_COMMAND);
  EXPECT_EQ(acks[1].reject_message(), "command has no body");
  EXPECT_FALSE(acks[1].has_timestamp());
  EXPECT_EQ(acks[2].correlation_id(), 3u);
  EXPECT_EQ(acks[2].sequence(), 2u);  // the refusal took no sequence
  EXPECT_EQ(acks[3].correlation_id(), 4u);
  EXPECT_EQ(acks[3].reject_message(), "client_order_id is longer than 40 characters");
  pipeline.stop();
  // Acks go out before the group is published to the log, so look only once the pipeline stopped.
  EXPECT_EQ(log.last_sequence(), 2u);
}

TEST_F(PipelineTest, AQuerySeesOnlyWhatIsDurableAndPublished) {
  const Flow f = flow(2'000);
  Pipeline pipeline(engine, log, metrics, options());
  pipeline.start();
  const auto a = channel();
  std::vector<Submission> submissions;
  for (size_t i = 0; i < f.commands.size(); ++i) submissions.push_back(submission(f.commands[i], i + 1, a));
  ASSERT_TRUE(pipeline.submit(std::move(submissions)));
  std::promise<std::array<uint64_t, 3>> seen;
  ASSERT_TRUE(pipeline.query([&](const MatchingEngine& e) {
    seen.set_value({e.last_sequence(), log.last_sequence(), pipeline.counters().durable_sequence.load()});
  }));
  const auto [applied, published, durable] = seen.get_future().get();
  EXPECT_EQ(applied, f.commands.size());  // submitted first, so applied before the query
  EXPECT_EQ(published, applied);
  EXPECT_EQ(durable, applied);
  pipeline.stop();
}

TEST_F(PipelineTest, StopLeavesADirectoryThatRecoversToTheSameBooks) {
  const Flow f = flow(2'000);
  {
    Pipeline pipeline(engine, log, metrics, options());
    pipeline.start();
    std::vector<Submission> submissions;
    for (size_t i = 0; i < f.commands.size(); ++i) submissions.push_back(submission(f.commands[i], i + 1, nullptr));
    ASSERT_TRUE(pipeline.submit(std::move(submissions)));
    pipeline.stop();
    EXPECT_FALSE(pipeline.submit({}));
  }
  EXPECT_EQ(engine.last_sequence(), f.commands.size());
  MatchingEngine recovered;
  const RecoveryReport report = recover(recovered, dir);
  ASSERT_TRUE(report.error.empty()) << report.error;
  EXPECT_EQ(report.snapshot_sequence, f.commands.size());  // the snapshot written at stop
  EXPECT_EQ(recovered.state_hash(), engine.state_hash());
}

TEST_F(PipelineTest, PinsTheMatchingThreadToTheCpuItIsGiven) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  int cpu = 0;
  while (!CPU_ISSET(cpu, &allowed)) ++cpu;
  PipelineOptions pinned = options();
  pinned.matching_cpu = cpu;
  Pipeline pipeline(engine, log, metrics, pinned);
  pipeline.start();
  std::promise<std::pair<int, int>> seen;  // queries run on the matching thread
  ASSERT_TRUE(pipeline.query([&](const MatchingEngine&) {
    cpu_set_t mine;
    sched_getaffinity(0, sizeof mine, &mine);
    seen.set_value({CPU_COUNT(&mine), sched_getcpu()});
  }));
  const auto [cpus, running_on] = seen.get_future().get();
  EXPECT_EQ(cpus, 1);
  EXPECT_EQ(running_on, cpu);
  pipeline.stop();
}

}  // namespace
}  // namespace hft::engine::server
