#include "pipeline.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "hft/engine/clock.h"
#include "hft/engine/snapshot.h"
#include "proto_mapping.h"

namespace hft::engine::server {

namespace {

// The disk failed under the journal or a snapshot: nothing more can be acknowledged as durable,
// so the process stops; recovery at the next start reads what did reach the disk.
[[noreturn]] void fail_stop(const std::string& what, const IoResult& result) {
  std::fprintf(stderr, "{\"level\":\"fatal\",\"service\":\"hft-engine\",\"msg\":\"%s: %s\"}\n", what.c_str(), result.message().c_str());
  std::abort();
}

}  // namespace

Pipeline::Pipeline(MatchingEngine& engine, EventLog& log, EngineMetrics& metrics, PipelineOptions options)
    : engine_(engine), log_(log), metrics_(metrics), options_(std::move(options)), journal_(options_.journal) {
  const IoResult opened = journal_.open(journal_path(options_.data_dir));
  if (!opened.ok()) fail_stop("cannot open the journal in " + options_.data_dir, opened);
  last_snapshot_ = engine_.last_sequence();
  counters_.durable_sequence = engine_.last_sequence();
  counters_.journal_bytes = journal_.stats().bytes;
}

Pipeline::~Pipeline() { stop(); }

void Pipeline::start() { thread_ = std::thread([this] { run(); }); }

bool Pipeline::submit(std::vector<Submission>&& batch) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    if (inbox_.empty()) {
      inbox_ = std::move(batch);
    } else {
      for (Submission& s : batch) inbox_.push_back(std::move(s));
    }
  }
  wake_.notify_one();
  return true;
}

bool Pipeline::query(std::function<void(const MatchingEngine&)> query) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return false;
    queries_.push_back(std::move(query));
  }
  wake_.notify_one();
  return true;
}

void Pipeline::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Pipeline::run() {
  std::vector<Submission> work;
  std::vector<std::function<void(const MatchingEngine&)>> queries;
  for (;;) {
    bool stopping;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return !inbox_.empty() || !queries_.empty() || stopping_; });
      work.swap(inbox_);
      queries.swap(queries_);
      stopping = stopping_;
    }
    for (Submission& s : work) process(s);
    flush_and_publish();  // the inbox is drained: the group ends here
    work.clear();
    for (auto& q : queries) q(engine_);
    queries.clear();

    if (options_.snapshot_every > 0 && engine_.last_sequence() - last_snapshot_ >= options_.snapshot_every) take_snapshot();
    if (stopping) {
      std::lock_guard lock(mutex_);
      if (inbox_.empty()) break;
    }
  }
  if (engine_.last_sequence() != last_snapshot_) take_snapshot();
  // Queries that raced the stop still get an answer.
  std::lock_guard lock(mutex_);
  for (auto& q : queries_) q(engine_);
  queries_.clear();
}

void Pipeline::process(Submission& s) {
  hft::v1::CommandAck ack;
  ack.set_correlation_id(s.correlation_id);
  if (s.refused != RejectReason::None) {
    metrics_.commands[s.has_body ? static_cast<size_t>(s.command.type) : 0][EngineMetrics::Refused].add();
    ack.set_reject_reason(static_cast<hft::v1::RejectReason>(s.refused));
    ack.set_reject_message(s.refusal);
    pending_acks_.push_back({s.channel.get(), std::move(ack), 0});
    pending_channels_.push_back(std::move(s.channel));
    return;
  }
  // 2. sequence
  Command& c = s.command;
  c.sequence = engine_.last_sequence() + 1;
  c.timestamp = wall_clock_ns();
  const int64_t sequenced_ns = monotonic_ns();
  // 3. journal (the group commits by itself once full or old enough)
  const IoResult journaled = journal_.append(c);
  if (!journaled.ok()) fail_stop("cannot journal sequence " + std::to_string(c.sequence), journaled);
  // 4. match
  engine_.apply(c);
  metrics_.apply_latency_us.observe(static_cast<double>(monotonic_ns() - sequenced_ns) / 1e3);
  const EventBuffer& events = engine_.events();
  const bool rejected = !events.empty() && events[0].type == EventType::OrderRejected;
  metrics_.commands[static_cast<size_t>(c.type)][rejected ? EngineMetrics::Rejected : EngineMetrics::Accepted].add();
  for (const Event& e : events) metrics_.events[static_cast<size_t>(e.type)].add();

  auto published = std::make_shared<hft::v1::SubscribeResponse>();
  published->set_sequence(c.sequence);
  set_timestamp(c.timestamp, published->mutable_timestamp());
  for (const Event& e : events) to_proto(e, published->add_events());

  ack.set_sequence(c.sequence);
  *ack.mutable_timestamp() = published->timestamp();
  *ack.mutable_events() = published->events();
  if (rejected) {
    ack.set_reject_reason(static_cast<hft::v1::RejectReason>(events[0].order_rejected.reason));
    ack.set_reject_message(std::string(to_string(events[0].order_rejected.reason)));
    ack.set_order_id(c.type == CommandType::NewOrder ? events[0].order_rejected.order_id : 0);
  } else if (!events.empty() && events[0].type == EventType::OrderAccepted) {
    ack.set_order_id(events[0].order_accepted.order_id);
  }
  counters_.commands.fetch_add(1, std::memory_order_relaxed);
  counters_.events.fetch_add(events.size(), std::memory_order_relaxed);
  engine_.events().clear();
  if (s.channel) {
    pending_acks_.push_back({s.channel.get(), std::move(ack), sequenced_ns});
    pending_channels_.push_back(std::move(s.channel));
  }
  pending_published_.push_back(std::move(published));

  // A long burst is cut into groups by size or by the age of its oldest command: when the
  // append above committed the group, everything so far is durable and goes out now.
  if (journal_.pending_records() == 0) {
    observe_syncs();
    publish();
  }
}

void Pipeline::flush_and_publish() {
  const IoResult flushed = journal_.flush();
  if (!flushed.ok()) fail_stop("cannot commit the journal", flushed);
  observe_syncs();
  publish();
}

void Pipeline::observe_syncs() {
  const JournalStats& stats = journal_.stats();
  // One group commits at a time, so at most one sync happened since the last look.
  if (stats.syncs != observed_syncs_) metrics_.fsync_latency_us.observe(static_cast<double>(stats.last_sync_ns) / 1e3);
  observed_syncs_ = stats.syncs;
}

void Pipeline::take_snapshot() {
  const int64_t started_ns = monotonic_ns();
  const SnapshotWritten written = write_snapshot(engine_, options_.data_dir);
  if (!written.result.ok()) fail_stop("cannot write a snapshot in " + options_.data_dir, written.result);
  prune_snapshots(options_.data_dir, options_.snapshots_kept);
  metrics_.snapshot_duration_us.observe(static_cast<double>(monotonic_ns() - started_ns) / 1e3);
  last_snapshot_ = engine_.last_sequence();
}

void Pipeline::publish() {
  if (pending_acks_.empty() && pending_published_.empty()) return;
  // 5. publish, once durable
  counters_.durable_sequence = journal_.durable_sequence();
  counters_.journal_bytes = journal_.stats().bytes;
  counters_.last_fsync_ns = journal_.stats().last_sync_ns;

  // One delivery per stream, acks in sequence order.
  std::stable_sort(pending_acks_.begin(), pending_acks_.end(), [](const PendingAck& a, const PendingAck& b) { return a.channel < b.channel; });
  const int64_t now_ns = monotonic_ns();
  for (size_t i = 0; i < pending_acks_.size();) {
    AckChannel* channel = pending_acks_[i].channel;
    std::vector<hft::v1::CommandAck> acks;
    for (; i < pending_acks_.size() && pending_acks_[i].channel == channel; ++i) {
      if (pending_acks_[i].sequenced_ns != 0) metrics_.ack_latency_us.observe(static_cast<double>(now_ns - pending_acks_[i].sequenced_ns) / 1e3);
      acks.push_back(std::move(pending_acks_[i].ack));
    }
    channel->deliver(std::move(acks));
  }
  pending_acks_.clear();
  pending_channels_.clear();
  if (!pending_published_.empty()) log_.publish(std::move(pending_published_));
  pending_published_.clear();
}

}  // namespace hft::engine::server
