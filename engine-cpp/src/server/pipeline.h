// The matching thread's pipeline. Stages, per command:
//   1. receive   gRPC threads hand batches of commands to the inbox
//   2. sequence  the next engine sequence and the wall-clock time are assigned
//   3. journal   the command is appended to the journal's group-commit buffer
//   4. match     the engine applies it and appends its events
//   5. publish   once the group is fdatasync'ed: acks to their streams, events to the log
// Nothing leaves the process before it is durable; matching never waits on a stream.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine_metrics.h"
#include "event_log.h"
#include "hft/engine/journal.h"
#include "hft/engine/matching_engine.h"
#include "hft/engine/recovery.h"
#include "hft/v1/engine_service.pb.h"

namespace hft::engine::server {

// Where a stream's acknowledgements go; called on the matching thread, must not block.
class AckChannel {
 public:
  virtual ~AckChannel() = default;
  virtual void deliver(std::vector<hft::v1::CommandAck>&& acks) = 0;
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
  JournalOptions journal;
  // Write a snapshot every this many commands (0: only at shutdown).
  uint64_t snapshot_every = 1'000'000;
  size_t snapshots_kept = 2;
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
  void run();
  void process(Submission& submission);
  // Commits the journal group, then publishes what is durable.
  void flush_and_publish();
  void publish();
  void take_snapshot();
  void observe_syncs();

  struct PendingAck {
    AckChannel* channel;
    hft::v1::CommandAck ack;
    int64_t sequenced_ns;  // monotonic; 0 for a command refused before sequencing
  };

  MatchingEngine& engine_;
  EventLog& log_;
  EngineMetrics& metrics_;
  PipelineOptions options_;
  JournalWriter journal_;
  PipelineCounters counters_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Submission> inbox_;
  std::vector<std::function<void(const MatchingEngine&)>> queries_;
  bool stopping_ = false;
  std::thread thread_;

  // matching-thread state
  std::vector<PendingAck> pending_acks_;
  std::vector<std::shared_ptr<AckChannel>> pending_channels_;
  std::vector<Published> pending_published_;
  Sequence last_snapshot_ = 0;
  uint64_t observed_syncs_ = 0;
};

}  // namespace hft::engine::server
