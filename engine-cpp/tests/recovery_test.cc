// Snapshots and recovery: snapshot + journal replay gives the same state, the same next sequence
// and byte-identical events; damaged files are passed over or cut, never applied.
#include <fstream>

#include "durability_fixture.h"

namespace hft::engine::testing {
namespace {

namespace fs = std::filesystem;

using RecoveryTest = DurabilityTest;

TEST_F(RecoveryTest, JournalReplayReproducesStateAndEvents) {
  MatchingEngine original;
  CommandGenerator generator(99);
  run_journaled(original, generator, 5'000);
  MatchingEngine recovered;
  uint64_t compared = 0;
  const RecoveryReport report = recover(recovered, dir, [&](const Command& c, const EventBuffer& replayed) {
    ASSERT_TRUE(std::equal(replayed.begin(), replayed.end(), events[c.sequence].begin(), events[c.sequence].end())) << "sequence " << c.sequence;
    ++compared;
  });
  EXPECT_EQ(report.error, "");
  EXPECT_EQ(compared, 5'000u);
  EXPECT_EQ(report.replayed_commands, 5'000u);
  EXPECT_EQ(report.snapshot_path, "");
  EXPECT_EQ(recovered.last_sequence(), 5'000u);
  EXPECT_EQ(recovered.next_order_id(), original.next_order_id());
  EXPECT_EQ(recovered.state_hash(), original.state_hash());
  EXPECT_EQ(recovered.validate_invariants(), "");
}

TEST_F(RecoveryTest, SnapshotLoadsToTheSameState) {
  MatchingEngine original;
  CommandGenerator generator(7);
  run_journaled(original, generator, 3'000, {3'000});
  ASSERT_GT(original.open_orders(), 50u);
  MatchingEngine loaded;
  ASSERT_EQ(load_snapshot(list_snapshots(dir).at(0), loaded), "");
  EXPECT_EQ(loaded.state_hash(), original.state_hash());
  EXPECT_EQ(loaded.validate_invariants(), "");
  EXPECT_EQ(loaded.next_trade_id(), original.next_trade_id());
}

TEST_F(RecoveryTest, SnapshotPlusReplayGivesIdenticalStateEventsAndFuture) {
  MatchingEngine original;
  CommandGenerator generator(5);
  run_journaled(original, generator, 6'000, {2'500, 4'000});
  MatchingEngine recovered;
  const RecoveryReport report = recover(recovered, dir, [&](const Command& c, const EventBuffer& replayed) {
    ASSERT_TRUE(std::equal(replayed.begin(), replayed.end(), events[c.sequence].begin(), events[c.sequence].end())) << "sequence " << c.sequence;
  });
  EXPECT_EQ(report.error, "");
  EXPECT_EQ(report.snapshot_sequence, 4'000u);
  EXPECT_EQ(report.replayed_commands, 2'000u);
  EXPECT_EQ(recovered.last_sequence(), original.last_sequence());
  EXPECT_EQ(recovered.state_hash(), original.state_hash());
  // The recovered engine goes on exactly like the original, byte for byte.
  CommandGenerator more(6);
  for (Sequence s = 6'001; s <= 8'000; ++s) {
    const Command c = more.next(s, original.next_order_id());
    original.apply(c);
    recovered.apply(c);
    ASSERT_TRUE(std::equal(original.events().begin(), original.events().end(), recovered.events().begin(), recovered.events().end())) << s;
    original.events().clear();
    recovered.events().clear();
  }
  EXPECT_EQ(recovered.state_hash(), original.state_hash());
}

TEST_F(RecoveryTest, TornJournalTailIsCutAndRecoveryStopsAtTheLastWholeRecord) {
  MatchingEngine original;
  CommandGenerator generator(3);
  run_journaled(original, generator, 1'000, {600});
  fs::resize_file(journal(), fs::file_size(journal()) - 5);
  MatchingEngine recovered;
  const RecoveryReport report = recover(recovered, dir);
  EXPECT_EQ(report.error, "");
  EXPECT_EQ(report.last_sequence, 999u);
  EXPECT_EQ(report.journal_tail, JournalTail::TornRecord);
  EXPECT_GT(report.journal_cut_bytes, 0u);
  // The journal now ends on a whole record: a writer appends and a second recovery reads it all.
  {
    JournalWriter writer;
    ASSERT_TRUE(writer.open(journal()).ok());
    Command c(EndTradingSession{});
    c.sequence = 1'000;
    ASSERT_TRUE(writer.append(c).ok());
  }
  MatchingEngine again;
  const RecoveryReport second = recover(again, dir);
  EXPECT_EQ(second.journal_tail, JournalTail::Clean);
  EXPECT_EQ(second.last_sequence, 1'000u);
}

TEST_F(RecoveryTest, CorruptRecordIsNeverApplied) {
  MatchingEngine original;
  CommandGenerator generator(4);
  run_journaled(original, generator, 300);
  {
    std::fstream f(journal(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-30, std::ios::end);
    f.put('\x55');
  }
  MatchingEngine recovered;
  const RecoveryReport report = recover(recovered, dir);
  EXPECT_EQ(report.journal_tail, JournalTail::ChecksumMismatch);
  EXPECT_EQ(report.last_sequence, 299u);
}

TEST_F(RecoveryTest, DamagedNewestSnapshotFallsBackToTheOlderOne) {
  MatchingEngine original;
  CommandGenerator generator(8);
  run_journaled(original, generator, 900, {300, 600});
  const std::string newest = list_snapshots(dir).at(0);
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x01');
  }
  MatchingEngine recovered;
  const RecoveryReport report = recover(recovered, dir);
  EXPECT_EQ(report.error, "");
  EXPECT_EQ(report.snapshot_sequence, 300u);
  ASSERT_EQ(report.skipped_snapshots.size(), 1u);
  EXPECT_NE(report.skipped_snapshots[0].find("checksum mismatch"), std::string::npos);
  EXPECT_EQ(recovered.state_hash(), original.state_hash());
}

TEST_F(RecoveryTest, CutShortSnapshotIsSkipped) {
  MatchingEngine original;
  CommandGenerator generator(8);
  run_journaled(original, generator, 500, {500});
  fs::resize_file(list_snapshots(dir).at(0), 100);
  MatchingEngine recovered;
  const RecoveryReport report = recover(recovered, dir);
  EXPECT_EQ(report.snapshot_sequence, 0u);
  EXPECT_EQ(report.replayed_commands, 500u);
  EXPECT_EQ(recovered.state_hash(), original.state_hash());
}

TEST_F(RecoveryTest, SnapshotWithoutAJournalIsTheWholeState) {
  MatchingEngine original;
  CommandGenerator generator(2);
  run_journaled(original, generator, 400, {400});
  fs::remove(journal());
  MatchingEngine recovered;
  const RecoveryReport report = recover(recovered, dir);
  EXPECT_EQ(report.error, "");
  EXPECT_EQ(recovered.state_hash(), original.state_hash());
}

TEST_F(RecoveryTest, JournalThatSkipsPastTheSnapshotIsAnError) {
  MatchingEngine original;
  CommandGenerator generator(2);
  run_journaled(original, generator, 200, {100});
  fs::remove(list_snapshots(dir).at(0));
  fs::remove(journal());
  {
    JournalWriter writer;  // a journal that starts at 150: commands 1..149 are missing
    ASSERT_TRUE(writer.open(journal()).ok());
    Command c(EndTradingSession{});
    c.sequence = 150;
    ASSERT_TRUE(writer.append(c).ok());
  }
  MatchingEngine recovered;
  EXPECT_NE(recover(recovered, dir).error, "");
}

TEST_F(RecoveryTest, PruneKeepsTheNewestSnapshots) {
  MatchingEngine original;
  CommandGenerator generator(1);
  run_journaled(original, generator, 40, {10, 20, 30, 40});
  prune_snapshots(dir, 2);
  const std::vector<std::string> left = list_snapshots(dir);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_NE(left[0].find("snapshot-40.bin"), std::string::npos);
  EXPECT_NE(left[1].find("snapshot-30.bin"), std::string::npos);
}

}  // namespace
}  // namespace hft::engine::testing
