// The published event stream: the recent sequenced commands' events, in sequence order, shared by
// the matching thread (which appends after each durable flush) and the Subscribe streams (which
// read). Older sequences are served by replaying the journal (see journal_replayer.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "hft/v1/engine_service.pb.h"

namespace hft::engine::server {

using Published = std::shared_ptr<const hft::v1::SubscribeResponse>;

class EventLog {
 public:
  explicit EventLog(size_t capacity) : capacity_(capacity) {}

  // Appends durable sequences (contiguous, in order) and wakes every waiting reader.
  void publish(std::vector<Published>&& batch);

  // The message for `sequence`; nullptr when it is not published yet (the caller may wait with
  // `notify_when_past`), or when it was evicted (check `first_sequence`).
  Published at(uint64_t sequence) const;
  uint64_t first_sequence() const;
  uint64_t last_sequence() const;

  // Calls `wake` once, from the publishing thread, as soon as a sequence >= `sequence` exists
  // (at once when it already does). Returns a token to cancel the wait.
  uint64_t notify_when_published(uint64_t sequence, std::function<void()> wake);
  void cancel_wait(uint64_t token);

  // Marks where publication starts after recovery (the next sequence the engine will publish).
  void start_at(uint64_t next_sequence);

 private:
  struct Waiter {
    uint64_t token;
    uint64_t sequence;
    std::function<void()> wake;
  };
  mutable std::mutex mutex_;
  std::deque<Published> messages_;
  uint64_t first_ = 1;  // sequence of messages_.front()
  size_t capacity_;
  std::vector<Waiter> waiters_;
  uint64_t next_token_ = 1;
};

// Where each Subscribe stream is in the log (the next sequence it will send), for the subscriber
// count and lag metrics. A stream holds its slot; a slot is forgotten when the stream lets it go.
class ReaderPositions {
 public:
  std::shared_ptr<std::atomic<uint64_t>> add(uint64_t next);
  size_t count() const;
  // The smallest next sequence among the live streams; nothing when there are none.
  std::optional<uint64_t> slowest() const;

 private:
  void forget_gone_locked() const;
  mutable std::mutex mutex_;
  mutable std::vector<std::weak_ptr<std::atomic<uint64_t>>> readers_;
};

}  // namespace hft::engine::server
