#include "pipeline.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "hft/engine/clock.h"
#include "hft/engine/snapshot.h"
#include "proto_mapping.h"

namespace hft::engine::server {

namespace {

// The most commands the matching thread commits and publishes itself (about 0.1 ms of protobuf).
constexpr size_t kCommitHereRecords = 64;

// The disk failed under the journal or a snapshot: nothing more can be acknowledged as durable,
// so the process stops; recovery at the next start reads what did reach the disk.
[[noreturn]] void fail_stop(const std::string& what, const IoResult& result) {
  std::fprintf(stderr, "{\"level\":\"fatal\",\"service\":\"hft-engine\",\"msg\":\"%s: %s\"}\n", what.c_str(), result.message().c_str());
  std::abort();
}

}  // namespace

Pipeline::Pipeline(MatchingEngine& engine, EventLog& log, EngineMetrics& metrics, PipelineOptions options)
    : engine_(engine),
      log_(log),
      metrics_(metrics),
      options_(std::move(options)),
      journal_(options_.journal),
      // A backlog of four full groups: past that the disk cannot keep up and matching waits.
      committer_(journal_, size_t{4} * std::max<uint32_t>(options_.journal.group_commit_records, 1),
                 [this](const IoResult& committed, std::span<Committer::Unit* const> units) { publish(committed, units); }) {
  const IoResult opened = journal_.open(journal_path(options_.data_dir));
  if (!opened.ok()) fail_stop("cannot open the journal in " + options_.data_dir, opened);
  last_snapshot_ = engine_.last_sequence();
  counters_.durable_sequence = engine_.last_sequence();
  counters_.journal_bytes = journal_.stats().bytes;
}

Pipeline::~Pipeline() { stop(); }

void Pipeline::start() {
  committer_.start();
  thread_ = std::thread([this] { run(); });
}

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
  committer_.stop();
}

void Pipeline::run() {
  pthread_setname_np(pthread_self(), "hft-matching");
  if (options_.matching_cpu >= 0) {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(options_.matching_cpu, &cpus);
    // The flag was checked against the process's CPUs at start; a failure here leaves it unpinned.
    if (const int error = pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus); error != 0)
      std::fprintf(stderr, "{\"level\":\"warn\",\"service\":\"hft-engine\",\"msg\":\"cannot pin the matching thread to CPU %d: %s\"}\n",
                   options_.matching_cpu, std::strerror(error));
  }
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
    // One wall-clock read per round: a command's timestamp is the round's offset plus the
    // monotonic time it was sequenced at, which the latency metrics read anyway.
    wall_offset_ns_ = wall_clock_ns() - monotonic_ns();
    for (Submission& s : work) process(s);
    add_tally();
    end_group();  // the inbox is drained: the group ends here
    work.clear();
    if (!queries.empty()) {
      drain();
      for (auto& q : queries) q(engine_);
      queries.clear();
    }

    if (options_.snapshot_every > 0 && engine_.last_sequence() - last_snapshot_ >= options_.snapshot_every) take_snapshot();
    if (stopping) {
      std::lock_guard lock(mutex_);
      if (inbox_.empty()) break;
    }
  }
  drain();
  if (engine_.last_sequence() != last_snapshot_) take_snapshot();
  // Queries that raced the stop still get an answer.
  std::lock_guard lock(mutex_);
  for (auto& q : queries_) q(engine_);
  queries_.clear();
}

void Pipeline::process(Submission& s) {
  Committer::Unit& group = committer_.open();
  Outbox& out = group.payload;
  AckChannel* channel = s.channel.get();
  if (s.channel) out.channels.push_back(std::move(s.channel));
  if (s.refused != RejectReason::None) {
    ++tally_.commands[s.has_body ? static_cast<size_t>(s.command.type) : 0][EngineMetrics::Refused];
    out.entries.push_back({channel, s.correlation_id, 0, s.command.type, 0, 0, 0, s.refused, 0});
    out.refusals.push_back(std::move(s.refusal));
    return;
  }
  // 2. sequence
  Command& c = s.command;
  c.sequence = engine_.last_sequence() + 1;
  const int64_t sequenced_ns = monotonic_ns();
  c.timestamp = sequenced_ns + wall_offset_ns_;
  // 3. journal
  group.journal.append(c);
  if (group.journal.records() == 1) group_opened_ns_ = sequenced_ns;
  // 4. match
  engine_.apply(c);
  tally_.apply_us.push_back(static_cast<double>(monotonic_ns() - sequenced_ns) / 1e3);
  const EventBuffer& events = engine_.events();
  const bool rejected = !events.empty() && events[0].type == EventType::OrderRejected;
  ++tally_.commands[static_cast<size_t>(c.type)][rejected ? EngineMetrics::Rejected : EngineMetrics::Accepted];
  for (const Event& e : events) ++tally_.events[static_cast<size_t>(e.type)];
  out.entries.push_back({channel, s.correlation_id, c.sequence, c.type, c.timestamp, static_cast<uint32_t>(out.events.size()),
                         static_cast<uint32_t>(events.size()), RejectReason::None, sequenced_ns});
  out.events.insert(out.events.end(), events.begin(), events.end());
  tally_.sequenced += 1;
  tally_.produced += events.size();
  engine_.events().clear();

  // A long burst is cut into groups by size or by the age of its oldest command (the clock is
  // read on every 16th record only), so the journal thread gets to work before the burst ends.
  const size_t records = group.journal.records();
  if (records >= options_.journal.group_commit_records ||
      (records % 16 == 0 && monotonic_ns() - group_opened_ns_ >= int64_t{options_.journal.group_commit_micros} * 1000))
    seal();
}

void Pipeline::add_tally() {
  for (size_t type = 0; type < tally_.commands.size(); ++type)
    for (size_t outcome = 0; outcome < EngineMetrics::kOutcomes; ++outcome)
      if (uint64_t& n = tally_.commands[type][outcome]; n > 0) metrics_.commands[type][outcome].add(std::exchange(n, 0));
  for (size_t type = 0; type < tally_.events.size(); ++type)
    if (uint64_t& n = tally_.events[type]; n > 0) metrics_.events[type].add(std::exchange(n, 0));
  metrics_.apply_latency_us.observe_all(tally_.apply_us);
  tally_.apply_us.clear();
  counters_.commands.fetch_add(std::exchange(tally_.sequenced, 0), std::memory_order_relaxed);
  counters_.events.fetch_add(std::exchange(tally_.produced, 0), std::memory_order_relaxed);
}

void Pipeline::end_group() {
  if (committer_.open().payload.empty()) return;
  bool inbox_empty;
  {
    std::lock_guard lock(mutex_);
    inbox_empty = inbox_.empty();
  }
  // With nothing to match meanwhile the matching thread would only wait, so it commits a small
  // group itself when the journal thread is idle: a lone command saves a hand-off between threads.
  if (inbox_empty && committer_.commit_here_if_idle(kCommitHereRecords)) return;
  committer_.seal();
}

void Pipeline::seal() {
  if (!committer_.open().payload.empty()) committer_.seal();
}

void Pipeline::drain() { committer_.drain(); }

void Pipeline::take_snapshot() {
  // A snapshot must not get ahead of the journal: a restart would find the journal's next
  // record missing after it.
  drain();
  const int64_t started_ns = monotonic_ns();
  const SnapshotWritten written = write_snapshot(engine_, options_.data_dir);
  if (!written.result.ok()) fail_stop("cannot write a snapshot in " + options_.data_dir, written.result);
  prune_snapshots(options_.data_dir, options_.snapshots_kept);
  metrics_.snapshot_duration_us.observe(static_cast<double>(monotonic_ns() - started_ns) / 1e3);
  last_snapshot_ = engine_.last_sequence();
}

void Pipeline::publish(const IoResult& committed, std::span<Committer::Unit* const> units) {
  if (!committed.ok()) fail_stop("cannot commit the journal", committed);
  const JournalStats& stats = journal_.stats();
  // One commit per call, so at most one sync happened since the last look.
  if (stats.syncs != observed_syncs_) metrics_.fsync_latency_us.observe(static_cast<double>(stats.last_sync_ns) / 1e3);
  observed_syncs_ = stats.syncs;
  counters_.durable_sequence = journal_.durable_sequence();
  counters_.journal_bytes = stats.bytes;
  counters_.last_fsync_ns = stats.last_sync_ns;

  // The published messages live as long as the event log keeps them, the acks only until they
  // are written: one arena for each, sized for the group so a small group takes little memory,
  // in blocks malloc serves from its heap (under its mmap threshold), reused as arenas are freed.
  // Each arena is filled in a pass of its own: protobuf caches one arena per thread, and
  // alternating between two would take its slow path on every allocation.
  size_t commands = 0, events = 0;
  for (const Committer::Unit* unit : units) commands += unit->payload.entries.size(), events += unit->payload.events.size();
  if (commands == 0) return;
  const auto arena_for = [](size_t bytes) {
    google::protobuf::ArenaOptions options;
    options.start_block_size = std::clamp<size_t>(bytes, 1024, 64 << 10);
    options.max_block_size = 64 << 10;
    return std::make_shared<google::protobuf::Arena>(options);
  };
  const auto fill_events = [&](const Outbox& out, const Outbox::Entry& entry, google::protobuf::RepeatedPtrField<hft::v1::EngineEvent>* into) {
    into->Reserve(static_cast<int>(entry.event_count));
    for (uint32_t i = 0; i < entry.event_count; ++i) to_proto(out.events[entry.first_event + i], into->Add());
  };

  const std::shared_ptr<google::protobuf::Arena> events_arena = arena_for(commands * 96 + events * 160);
  for (const Committer::Unit* unit : units) {
    for (const Outbox::Entry& entry : unit->payload.entries) {
      if (entry.sequence == 0) continue;
      auto* message = google::protobuf::Arena::CreateMessage<hft::v1::SubscribeResponse>(events_arena.get());
      message->set_sequence(entry.sequence);
      set_timestamp(entry.timestamp, message->mutable_timestamp());
      fill_events(unit->payload, entry, message->mutable_events());
      published_.emplace_back(events_arena, message);
    }
  }

  const std::shared_ptr<google::protobuf::Arena> acks_arena = arena_for(commands * 128 + events * 160);
  const int64_t now_ns = monotonic_ns();
  for (const Committer::Unit* unit : units) {
    const Outbox& out = unit->payload;
    size_t refusal = 0;
    for (const Outbox::Entry& entry : out.entries) {
      if (entry.channel == nullptr) {
        if (entry.sequence == 0) ++refusal;
        continue;
      }
      // One response per stream and group, acks in sequence order.
      auto it = std::find_if(responses_.begin(), responses_.end(), [&](const auto& r) { return r.first == entry.channel; });
      if (it == responses_.end())
        it = responses_.insert(responses_.end(), {entry.channel, google::protobuf::Arena::CreateMessage<hft::v1::OrderFlowResponse>(acks_arena.get())});
      hft::v1::CommandAck* ack = it->second->add_acks();
      ack->set_correlation_id(entry.correlation_id);
      if (entry.sequence == 0) {
        ack->set_reject_reason(static_cast<hft::v1::RejectReason>(entry.refused));
        ack->set_reject_message(out.refusals[refusal++]);
        continue;
      }
      ack->set_sequence(entry.sequence);
      set_timestamp(entry.timestamp, ack->mutable_timestamp());
      fill_events(out, entry, ack->mutable_events());
      if (entry.event_count > 0) {
        const Event& first = out.events[entry.first_event];
        if (first.type == EventType::OrderRejected) {
          ack->set_reject_reason(static_cast<hft::v1::RejectReason>(first.order_rejected.reason));
          const std::string_view reason = to_string(first.order_rejected.reason);
          ack->set_reject_message(reason.data(), reason.size());
          // A rejected new order has the id it was assigned; a rejected cancel's names another order.
          if (entry.type == CommandType::NewOrder) ack->set_order_id(first.order_rejected.order_id);
        } else if (first.type == EventType::OrderAccepted) {
          ack->set_order_id(first.order_accepted.order_id);
        }
      }
      ack_us_.push_back(static_cast<double>(now_ns - entry.sequenced_ns) / 1e3);
    }
  }
  metrics_.ack_latency_us.observe_all(ack_us_);
  ack_us_.clear();
  for (const auto& [channel, response] : responses_) channel->deliver(std::shared_ptr<hft::v1::OrderFlowResponse>(acks_arena, response));
  responses_.clear();
  if (!published_.empty()) log_.publish(std::move(published_));
  published_.clear();
}

}  // namespace hft::engine::server
