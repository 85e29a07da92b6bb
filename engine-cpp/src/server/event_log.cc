#include "event_log.h"

#include <algorithm>

namespace hft::engine::server {

void EventLog::start_at(uint64_t next_sequence) {
  std::lock_guard lock(mutex_);
  messages_.clear();
  first_ = next_sequence;
}

void EventLog::publish(std::vector<Published>&& batch) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    for (Published& p : batch) messages_.push_back(std::move(p));
    while (messages_.size() > capacity_) {
      messages_.pop_front();
      ++first_;
    }
    const uint64_t last = first_ + messages_.size() - 1;
    auto ready = std::stable_partition(waiters_.begin(), waiters_.end(), [&](const Waiter& w) { return w.sequence > last; });
    for (auto it = ready; it != waiters_.end(); ++it) wake.push_back(std::move(it->wake));
    waiters_.erase(ready, waiters_.end());
  }
  for (auto& w : wake) w();
}

Published EventLog::at(uint64_t sequence) const {
  std::lock_guard lock(mutex_);
  if (sequence < first_ || sequence >= first_ + messages_.size()) return nullptr;
  return messages_[sequence - first_];
}

uint64_t EventLog::first_sequence() const {
  std::lock_guard lock(mutex_);
  return first_;
}

uint64_t EventLog::last_sequence() const {
  std::lock_guard lock(mutex_);
  return first_ + messages_.size() - 1;
}

uint64_t EventLog::notify_when_published(uint64_t sequence, std::function<void()> wake) {
  {
    std::lock_guard lock(mutex_);
    if (sequence >= first_ + messages_.size()) {
      const uint64_t token = next_token_++;
      waiters_.push_back({token, sequence, std::move(wake)});
      return token;
    }
  }
  wake();
  return 0;
}

void EventLog::cancel_wait(uint64_t token) {
  std::lock_guard lock(mutex_);
  waiters_.erase(std::remove_if(waiters_.begin(), waiters_.end(), [&](const Waiter& w) { return w.token == token; }), waiters_.end());
}

std::shared_ptr<std::atomic<uint64_t>> ReaderPositions::add(uint64_t next) {
  auto position = std::make_shared<std::atomic<uint64_t>>(next);
  std::lock_guard lock(mutex_);
  forget_gone_locked();
  readers_.push_back(position);
  return position;
}

size_t ReaderPositions::count() const {
  std::lock_guard lock(mutex_);
  forget_gone_locked();
  return readers_.size();
}

std::optional<uint64_t> ReaderPositions::slowest() const {
  std::lock_guard lock(mutex_);
  std::optional<uint64_t> slowest;
  for (const auto& reader : readers_)
    if (auto position = reader.lock()) slowest = std::min(slowest.value_or(UINT64_MAX), position->load(std::memory_order_relaxed));
  return slowest;
}

void ReaderPositions::forget_gone_locked() const {
  std::erase_if(readers_, [](const auto& reader) { return reader.expired(); });
}

}  // namespace hft::engine::server
