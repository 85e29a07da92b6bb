// Group commit on its own thread: units go out in order and only once durable, what is sealed
// during a sync is committed together, a backlog holds the sealing thread back, failures reach
// the callback.
#include "hft/engine/group_commit.h"

#include <atomic>
#include <chrono>
#include <future>
#include <numeric>
#include <thread>

#include "durability_fixture.h"

namespace hft::engine::testing {
namespace {

using GroupCommitTest = DurabilityTest;

// What each unit carries besides its records: the tags the test gave it.
struct Tags {
  std::vector<int> tags;
  bool empty() const { return tags.empty(); }
  void clear() { tags.clear(); }
};
using Committer = GroupCommitter<Tags>;

struct Handed {
  std::vector<int> tags;
  std::vector<size_t> units_per_call;
  std::vector<IoResult> results;
};

std::vector<Command> generated(size_t count) {
  CommandGenerator generator(7);
  std::vector<Command> commands;
  for (Sequence s = 1; s <= count; ++s) commands.push_back(generator.next(s, s));
  return commands;
}

std::vector<Command> read_journal(const std::string& path) {
  JournalReader reader;
  EXPECT_TRUE(reader.open(path).ok());
  std::vector<Command> commands;
  Command c;
  while (reader.next(c)) commands.push_back(c);
  return commands;
}

TEST_F(GroupCommitTest, HandsOutUnitsInOrderOnlyOnceTheirRecordsAreDurable) {
  JournalWriter writer;
  ASSERT_TRUE(writer.open(journal()).ok());
  const std::vector<Command> commands = generated(30);
  Handed handed;
  std::vector<Sequence> durable_at_handout;
  Committer committer(writer, 1000, [&](const IoResult& result, std::span<Committer::Unit* const> units) {
    handed.results.push_back(result);
    for (Committer::Unit* unit : units) {
      handed.tags.insert(handed.tags.end(), unit->payload.tags.begin(), unit->payload.tags.end());
      // Everything the unit holds is on disk, as a reader of the file sees it.
      if (unit->journal.records() > 0) {
        durable_at_handout.push_back(writer.durable_sequence());
        EXPECT_GE(writer.durable_sequence(), unit->journal.last_sequence());
        EXPECT_GE(read_journal(journal()).size(), unit->journal.last_sequence());
      }
    }
  });
  committer.start();
  for (size_t unit = 0; unit < 10; ++unit) {
    for (size_t i = 0; i < 3; ++i) committer.open().journal.append(commands[unit * 3 + i]);
    committer.open().payload.tags.push_back(static_cast<int>(unit));
    committer.seal();
  }
  committer.drain();
  std::vector<int> expected(10);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(handed.tags, expected);
  for (const IoResult& r : handed.results) EXPECT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(durable_at_handout.size(), 10u);
  EXPECT_TRUE(std::is_sorted(durable_at_handout.begin(), durable_at_handout.end()));
  EXPECT_EQ(writer.durable_sequence(), 30u);
  committer.stop();
  EXPECT_EQ(read_journal(journal()), commands);
}

TEST_F(GroupCommitTest, AUnitWithoutRecordsGoesOutAfterWhatPrecedesItWithoutASync) {
  JournalWriter writer;
  ASSERT_TRUE(writer.open(journal()).ok());
  const std::vector<Command> commands = generated(1);
  Handed handed;
  Committer committer(writer, 1000, [&](const IoResult&, std::span<Committer::Unit* const> units) {
    for (Committer::Unit* unit : units) handed.tags.insert(handed.tags.end(), unit->payload.tags.begin(), unit->payload.tags.end());
  });
  committer.start();
  committer.open().journal.append(commands[0]);
  committer.open().payload.tags.push_back(1);
  committer.seal();
  committer.drain();
  const uint64_t syncs = writer.stats().syncs;
  committer.open().payload.tags.push_back(2);  // a refusal, say: nothing to journal
  committer.drain();
  EXPECT_EQ(handed.tags, (std::vector<int>{1, 2}));
  EXPECT_EQ(writer.stats().syncs, syncs);
}

TEST_F(GroupCommitTest, WhatIsSealedDuringACommitIsCommittedTogetherWithOneSync) {
  JournalWriter writer;
  ASSERT_TRUE(writer.open(journal()).ok());
  const std::vector<Command> commands = generated(4);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> first_call;
  Handed handed;
  Committer committer(writer, 1000, [&](const IoResult&, std::span<Committer::Unit* const> units) {
    handed.units_per_call.push_back(units.size());
    if (handed.units_per_call.size() == 1) {
      first_call.set_value();
      released.wait();  // the first group is still "syncing" while three more are sealed
    }
  });
  committer.start();
  committer.open().journal.append(commands[0]);
  committer.seal();
  first_call.get_future().wait();
  for (size_t i = 1; i < 4; ++i) {
    committer.open().journal.append(commands[i]);
    committer.seal();
  }
  const uint64_t syncs_before = writer.stats().syncs;
  release.set_value();
  committer.drain();
  EXPECT_EQ(handed.units_per_call, (std::vector<size_t>{1, 3}));
  EXPECT_EQ(writer.stats().syncs, syncs_before + 1);
  EXPECT_EQ(read_journal(journal()), commands);
}

TEST_F(GroupCommitTest, SealWaitsWhileTheBacklogIsFull) {
  JournalWriter writer;
  ASSERT_TRUE(writer.open(journal()).ok());
  const std::vector<Command> commands = generated(4);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> first_call;
  int calls = 0;
  Committer committer(writer, 2, [&](const IoResult&, std::span<Committer::Unit* const>) {
    if (++calls == 1) {
      first_call.set_value();
      released.wait();
    }
  });
  committer.start();
  committer.open().journal.append(commands[0]);
  committer.open().journal.append(commands[1]);
  committer.seal();  // two records pending: the backlog is full until they are handed out
  first_call.get_future().wait();
  committer.open().journal.append(commands[2]);
  std::atomic<bool> sealed{false};
  std::thread sealer([&] {
    committer.seal();
    sealed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(sealed);
  release.set_value();
  sealer.join();
  EXPECT_TRUE(sealed);
  committer.drain();
  EXPECT_EQ(read_journal(journal()).size(), 3u);
}

TEST_F(GroupCommitTest, ASmallUnitIsCommittedOnTheCallingThreadWhenTheCommitThreadIsIdle) {
  JournalWriter writer;
  ASSERT_TRUE(writer.open(journal()).ok());
  const std::vector<Command> commands = generated(3);
  std::vector<std::thread::id> handed_on;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> blocked;
  Committer committer(writer, 1000, [&](const IoResult& result, std::span<Committer::Unit* const> units) {
    EXPECT_TRUE(result.ok());
    handed_on.push_back(std::this_thread::get_id());
    if (units[0]->payload.tags == std::vector<int>{2}) {
      blocked.set_value();
      released.wait();
    }
  });
  committer.start();
  committer.open().journal.append(commands[0]);
  committer.open().payload.tags.push_back(1);
  ASSERT_TRUE(committer.commit_here_if_idle(1));
  EXPECT_EQ(writer.durable_sequence(), 1u);  // durable on return, synced by this thread
  EXPECT_EQ(read_journal(journal()).size(), 1u);
  ASSERT_EQ(handed_on.size(), 1u);
  EXPECT_EQ(handed_on[0], std::this_thread::get_id());

  // Busy committing a sealed unit: the next one must wait its turn behind it.
  committer.open().journal.append(commands[1]);
  committer.open().payload.tags.push_back(2);
  committer.seal();
  blocked.get_future().wait();
  committer.open().journal.append(commands[2]);
  committer.open().payload.tags.push_back(3);
  EXPECT_FALSE(committer.commit_here_if_idle(1));
  release.set_value();
  committer.drain();
  ASSERT_EQ(handed_on.size(), 3u);
  EXPECT_NE(handed_on[1], std::this_thread::get_id());
  EXPECT_EQ(read_journal(journal()), commands);

  // Too many records to commit here.
  const std::vector<Command> more = generated(5);
  for (Sequence s = 4; s <= 5; ++s) {
    Command c = more[s - 1];
    c.sequence = s;
    committer.open().journal.append(c);
  }
  EXPECT_FALSE(committer.commit_here_if_idle(1));
  committer.drain();
}

TEST_F(GroupCommitTest, AFailedCommitReachesTheCallback) {
  JournalWriter writer;  // never opened: every commit fails
  const std::vector<Command> commands = generated(1);
  std::vector<IoResult> results;
  Committer committer(writer, 1000, [&](const IoResult& result, std::span<Committer::Unit* const>) { results.push_back(result); });
  committer.start();
  committer.open().journal.append(commands[0]);
  committer.drain();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok());
  EXPECT_EQ(results[0].error, EBADF);
}

TEST_F(GroupCommitTest, StopHandsOutTheOpenUnit) {
  JournalWriter writer;
  ASSERT_TRUE(writer.open(journal()).ok());
  const std::vector<Command> commands = generated(1);
  std::vector<int> tags;
  {
    Committer committer(writer, 1000, [&](const IoResult&, std::span<Committer::Unit* const> units) {
      for (Committer::Unit* unit : units) tags.insert(tags.end(), unit->payload.tags.begin(), unit->payload.tags.end());
    });
    committer.start();
    committer.open().journal.append(commands[0]);
    committer.open().payload.tags.push_back(9);
  }  // the destructor stops it
  EXPECT_EQ(tags, std::vector<int>{9});
  EXPECT_EQ(read_journal(journal()), commands);
}

}  // namespace
}  // namespace hft::engine::testing
