// The matching thread's pipeline. Stages, per command:
//   1. receive   gRPC threads hand batches of commands to the inbox
//   2. sequence  the next engine sequence and the wall-clock time are assigned
//   3. journal   the command is encoded into the open journal group
//   4. match     the engine applies it; its events are copied, as they are, into the group
//   5. commit    the journal thread writes and fdatasyncs every group sealed since its last sync
//   6. publish   on the journal thread, once durable: events to protobuf, acks to their streams,
//                events to the log
// When the inbox is empty and the journal thread idle, the matching thread commits and publishes
// a small group itself (it has nothing else to do), which saves a lone command a thread hand-off.
// Nothing leaves the process before it is durable; matching never waits on a stream, and waits
// for the disk only when a whole backlog of groups is still unwritten. The matching thread does
// no protobuf work: while it matches one group, the journal thread syncs and publishes the last.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine_metrics.h"
#include "event_log.h"
#include "hft/engine/group_commit.h"
#include "hft/engine/journal.h"
#include "hft/engine/matching_engine.h"
#include "hft/engine/recovery.h"
#include "hft/v1/engine_service.pb.h"

namespace hft::engine::server {

// Where a stream's acknowledgements go: one response per journal group with the stream's acks in
// sequence order. Called on the journal thread, must not block; the response lives on an arena
// that the pointer keeps alive.
class AckChannel {
 public:
  virtual ~AckChannel() = default;
  virtual void deliver(std::shared_ptr<hft::v1::OrderFlowResponse> acks) = 0;
};

struct Submission {
  Command command;
  uint64_t correlation_id = 0;
  std::shared_ptr<AckChannel> channel;
  // Refused before sequencing (malformed): acknowledged in order with sequence 0.
  RejectReason refused = RejectReason::None;
  std::string refusal;
  bool has_body = true;  // false: the wire command had none, so it has no type either
};

struct PipelineOptions {
  std::string data_dir;
  // group_commit_records and group_commit_micros say when the matching thread seals a group in
  // a long burst (it always does once the inbox is empty); the journal thread commits every
  // group sealed since its last sync at once.
  JournalOptions journal;
  // Write a snapshot every this many commands (0: only at shutdown).
  uint64_t snapshot_every = 1'000'000;
  size_t snapshots_kept = 2;
  // The CPU the matching thread is pinned to; -1 leaves it to the scheduler.
  int matching_cpu = -1;
};

struct PipelineCounters {
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> durable_sequence{0};
  std::atomic<uint64_t> journal_bytes{0};
  std::atomic<int64_t> last_fsync_ns{0};
};

class Pipeline {
 public:
  Pipeline(MatchingEngine& engine, EventLog& log, EngineMetrics& metrics, PipelineOptions options);
  ~Pipeline();

  void start();
  // Queues a batch; false once the pipeline is stopping (the caller answers UNAVAILABLE).
  bool submit(std::vector<Submission>&& batch);
  // Runs `query` on the matching thread between commands; false once stopped.
  bool query(std::function<void(const MatchingEngine&)> query);
  // Stops taking commands, applies and flushes what is queued, writes a snapshot, joins.
  void stop();

  const PipelineCounters& counters() const { return counters_; }

 private:
  // What a journal group releases once it is durable. Events are copied as the engine made them
  // (trivially copyable); the journal thread turns them into protobuf.
  struct Outbox {
    struct Entry {
      AckChannel* channel;  // nullptr: nobody to acknowledge
      uint64_t correlation_id;
      Sequence sequence;  // 0: refused before sequencing (see refused)
      CommandType type;
      TimestampNs timestamp;
      uint32_t first_event;
      uint32_t event_count;
      RejectReason refused;
      int64_t sequenced_ns;  // monotonic
    };
    std::vector<Entry> entries;
    std::vector<Event> events;
    std::vector<std::string> refusals;  // of the refused entries, in order
    std::vector<std::shared_ptr<AckChannel>> channels;  // keeps every entry's channel alive
    bool empty() const { return entries.empty(); }
    void clear() {
      entries.clear();
      events.clear();
      refusals.clear();
      channels.clear();
    }
  };
  using Committer = GroupCommitter<Outbox>;

  void run();
  void process(Submission& submission);
  // Hands the open group to the journal thread (nothing to do when it is empty).
  void seal();
  // Ends the group when the inbox is drained: sealed, or committed right here when it is small,
  // nothing waits in the inbox and the journal thread is idle.
  void end_group();
  // Seals, and waits until everything applied is durable and published: what queries and
  // snapshots see is then exactly what has been acknowledged.
  void drain();
  // 6. publish, on the journal thread (or the matching thread, when it commits a group itself:
  // the committer runs one commit at a time).
  void publish(const IoResult& committed, std::span<Committer::Unit* const> units);
  void take_snapshot();
  // Adds what the round counted to the metrics and counters.
  void add_tally();

  // Metrics the matching thread gathers in a round and adds at its end: the atomic adds happen
  // once a round instead of a few times per command.
  struct Tally {
    std::array<std::array<uint64_t, EngineMetrics::kOutcomes>, std::tuple_size_v<decltype(EngineMetrics::commands)>> commands{};
    std::array<uint64_t, std::tuple_size_v<decltype(EngineMetrics::events)>> events{};
    uint64_t sequenced = 0;
    uint64_t produced = 0;
    std::vector<double> apply_us;
  };

  MatchingEngine& engine_;
  EventLog& log_;
  EngineMetrics& metrics_;
  PipelineOptions options_;
  JournalWriter journal_;
  PipelineCounters counters_;
  Committer committer_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Submission> inbox_;
  std::vector<std::function<void(const MatchingEngine&)>> queries_;
  bool stopping_ = false;
  std::thread thread_;

  // matching-thread state
  Tally tally_;
  Sequence last_snapshot_ = 0;
  int64_t group_opened_ns_ = 0;  // when the open group got its first record
  int64_t wall_offset_ns_ = 0;   // wall clock minus monotonic clock, read at the round's start

  // state of whichever thread commits (one at a time)
  uint64_t observed_syncs_ = 0;
  std::vector<Published> published_;
  std::vector<double> ack_us_;
  std::vector<std::pair<AckChannel*, hft::v1::OrderFlowResponse*>> responses_;
};

}  // namespace hft::engine::server
