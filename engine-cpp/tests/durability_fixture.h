// A scratch directory per test, and a generated command stream run through an engine with the
// journal on, remembering each command's events.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "command_generator.h"
#include "hft/engine/journal.h"
#include "hft/engine/recovery.h"
#include "hft/engine/snapshot.h"

namespace hft::engine::testing {

class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (std::filesystem::temp_directory_path() /
           ("hft-engine-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::string journal() const { return journal_path(dir); }

  // The first two commands define the generator's instruments, the rest are generated.
  static Command command_at(CommandGenerator& generator, Sequence sequence, const MatchingEngine& engine) {
    Command c = sequence <= 2 ? Command(generator_instrument(static_cast<InstrumentId>(sequence))) : generator.next(sequence, engine.next_order_id());
    c.sequence = sequence;
    c.timestamp = static_cast<TimestampNs>(sequence) * 1000;
    return c;
  }

  // Journals and applies commands from..to, snapshotting after each sequence in `snapshot_at`;
  // returns every command's events, indexed by sequence.
  void run_journaled(MatchingEngine& engine, CommandGenerator& generator, Sequence to, const std::vector<Sequence>& snapshot_at = {}) {
    JournalWriter writer({.group_commit_records = 64, .group_commit_micros = 1'000'000});
    ASSERT_TRUE(writer.open(journal()).ok());
    for (Sequence s = engine.last_sequence() + 1; s <= to; ++s) {
      const Command c = command_at(generator, s, engine);
      ASSERT_TRUE(writer.append(c).ok());
      engine.apply(c);
      if (events.size() <= s) events.resize(s + 1);
      events[s].assign(engine.events().begin(), engine.events().end());
      engine.events().clear();
      if (std::find(snapshot_at.begin(), snapshot_at.end(), s) != snapshot_at.end()) {
        ASSERT_TRUE(writer.flush().ok());
        ASSERT_TRUE(write_snapshot(engine, dir).result.ok());
      }
    }
    ASSERT_TRUE(writer.close().ok());
  }

  std::string dir;
  std::vector<std::vector<Event>> events;  // by sequence
};

}  // namespace hft::engine::testing
