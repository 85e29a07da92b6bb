// Group commit on a thread of its own. The sequencing thread fills a Unit (journal records and a
// Payload of whatever must wait for them: acknowledgements, events to publish) and seals it; the
// commit thread writes every unit sealed since its last commit with one writev() and one
// fdatasync(), then hands those units to `durable`, in the order they were sealed, and recycles
// them. While one fdatasync runs the next group builds up, so a group holds what arrived during
// the previous sync: small when idle (one command is synced at once), large under load. The
// sequencing thread never waits for the disk unless `max_pending_records` already wait for it.
// A small unit sealed while the commit thread has nothing to do can be committed by the sealing
// thread itself (commit_here_if_idle): a lone command then pays no hand-off to another thread.
//
// Payload needs a default constructor, empty() and clear(); a recycled unit keeps its capacity.
#pragma once

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "hft/engine/journal.h"

namespace hft::engine {

template <typename Payload>
class GroupCommitter {
 public:
  struct Unit {
    JournalGroup journal;
    Payload payload;
  };
  // Runs on the commit thread after each commit with the units it covered. After a failed commit
  // (`result` not ok) the journal can no longer be trusted: every later commit fails too.
  using Durable = std::function<void(const IoResult& result, std::span<Unit* const> units)>;

  // `writer` must be open; from start() on only the commit thread touches it.
  GroupCommitter(JournalWriter& writer, size_t max_pending_records, Durable durable)
      : writer_(writer), max_pending_records_(std::max<size_t>(max_pending_records, 1)), durable_(std::move(durable)), open_(std::make_unique<Unit>()) {}
  ~GroupCommitter() { stop(); }
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  // The unit being filled; only the sequencing thread touches it.
  Unit& open() { return *open_; }

  // Hands the open unit to the commit thread, even one without records (its payload still goes
  // out after everything sealed before it), and opens a recycled one. Waits while
  // `max_pending_records` records are sealed and not yet handed to `durable`.
  void seal() {
    std::unique_ptr<Unit> next;
    {
      std::unique_lock lock(mutex_);
      handed_.wait(lock, [this] { return pending_records_ < max_pending_records_; });
      pending_records_ += open_->journal.records();
      sealed_.push_back(std::move(open_));
      ++sealed_units_;
      if (!free_.empty()) {
        next = std::move(free_.back());
        free_.pop_back();
      }
    }
    work_.notify_one();
    open_ = next ? std::move(next) : std::make_unique<Unit>();
  }

  // Commits the open unit on the calling thread, hands it to `durable` there and opens it again
  // empty, when it holds at most `max_records` records and the commit thread has nothing sealed
  // and nothing in hand; otherwise does nothing and returns false (the caller seals instead).
  bool commit_here_if_idle(size_t max_records) {
    if (open_->journal.records() > max_records) return false;
    {
      std::lock_guard lock(mutex_);
      if (!sealed_.empty() || committing_) return false;
      committing_ = true;  // the commit thread takes nothing until this commit is handed out
      ++sealed_units_;
    }
    Unit* unit = open_.get();
    const size_t records = unit->journal.records();
    const JournalGroup* group = &unit->journal;
    const IoResult result = records > 0 ? writer_.commit({&group, 1}) : IoResult{};
    durable_(result, {&unit, 1});
    unit->journal.clear();
    unit->payload.clear();
    {
      std::lock_guard lock(mutex_);
      committing_ = false;
      ++handed_units_;
    }
    handed_.notify_all();
    work_.notify_one();
    return true;
  }

  // Seals the open unit (unless it holds nothing) and waits until every sealed unit has been
  // handed to `durable`.
  void drain() {
    if (open_->journal.records() > 0 || !open_->payload.empty()) seal();
    std::unique_lock lock(mutex_);
    handed_.wait(lock, [this] { return handed_units_ == sealed_units_; });
  }

  // Drains, then ends the commit thread.
  void stop() {
    if (!thread_.joinable()) return;
    drain();
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_.notify_one();
    thread_.join();
  }

 private:
  void run() {
    pthread_setname_np(pthread_self(), "hft-journal");
    std::vector<std::unique_ptr<Unit>> batch;
    std::vector<Unit*> units;
    std::vector<const JournalGroup*> groups;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        work_.wait(lock, [this] { return (!sealed_.empty() && !committing_) || (stopping_ && !committing_); });
        if (sealed_.empty()) return;
        batch.swap(sealed_);
        committing_ = true;
      }
      units.clear();
      groups.clear();
      size_t records = 0;
      for (const std::unique_ptr<Unit>& unit : batch) {
        units.push_back(unit.get());
        groups.push_back(&unit->journal);
        records += unit->journal.records();
      }
      const IoResult result = records > 0 ? writer_.commit(groups) : IoResult{};
      durable_(result, units);
      for (const std::unique_ptr<Unit>& unit : batch) {
        unit->journal.clear();
        unit->payload.clear();
      }
      {
        std::lock_guard lock(mutex_);
        committing_ = false;
        pending_records_ -= records;
        handed_units_ += batch.size();
        for (std::unique_ptr<Unit>& unit : batch) free_.push_back(std::move(unit));
      }
      batch.clear();
      handed_.notify_all();
    }
  }

  JournalWriter& writer_;
  const size_t max_pending_records_;
  Durable durable_;
  std::unique_ptr<Unit> open_;

  std::mutex mutex_;
  std::condition_variable work_;    // the commit thread waits here for sealed units
  std::condition_variable handed_;  // seal() and drain() wait here for the commit thread
  std::vector<std::unique_ptr<Unit>> sealed_;
  std::vector<std::unique_ptr<Unit>> free_;
  size_t pending_records_ = 0;  // sealed, not yet handed to `durable`
  uint64_t sealed_units_ = 0;
  uint64_t handed_units_ = 0;
  bool committing_ = false;  // a commit is under way, on the commit thread or the caller's
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hft::engine
