#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "command_generator.h"
#include "hft/engine/journal.h"
#include "hft/engine/snapshot.h"

namespace hft::engine::testing {
namespace {

namespace fs = std::filesystem;

class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("hft-durability-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  // Runs `count` generated commands through `engine`, journaling each; snapshots at `snapshot_at`.
  // Returns the events of every command, by sequence.
  std::vector<std::vector<Event>> run_journaled(MatchingEngine& engine, uint64_t count, Sequence snapshot_at = 0) {
    JournalWriter journal(journal_path(dir), {.group_commit_records = 64});
    std::vector<std::vector<Event>> by_sequence(1);
    CommandGenerator generator(99);
    EventBuffer events;
    for (Sequence s = 1; s <= count; ++s) {
      Command c = s <= 2 ? define_generator_instrument(s, static_cast<InstrumentId>(s)) : generator.next(s, engine.next_order_id());
      if (journal.append(c)) journal.flush();
      events.clear();
      engine.apply(c, events);
      by_sequence.push_back(events);
      if (s == snapshot_at) {
        journal.flush();
        write_snapshot(engine, dir);
      }
    }
    EXPECT_EQ(journal.flush(), count);
    return by_sequence;
  }

  std::string dir;
};

TEST_F(DurabilityTest, JournalRoundTripsEveryCommand) {
  MatchingEngine engine;
  run_journaled(engine, 500);
  std::vector<Sequence> seen;
  JournalScan scan = read_journal(journal_path(dir), [&](const Command& c) { seen.push_back(c.sequence); });
  EXPECT_EQ(scan.records, 500u);
  EXPECT_EQ(scan.first_sequence, 1u);
  EXPECT_EQ(scan.last_sequence, 500u);
  EXPECT_EQ(scan.tail_problem, "");
  EXPECT_EQ(scan.valid_bytes, scan.file_bytes);
  ASSERT_EQ(seen.size(), 500u);
  EXPECT_EQ(seen.back(), 500u);
}

TEST_F(DurabilityTest, RecoveryFromJournalReproducesStateAndEvents) {
  MatchingEngine original;
  const auto events = run_journaled(original, 3000);
  MatchingEngine recovered;
  uint64_t compared = 0;
  RecoveryReport report = recover(recovered, dir, [&](const Command& c, const EventBuffer& replayed) {
    ASSERT_EQ(replayed, events[c.sequence]) << "sequence " << c.sequence;
    ++compared;
  });
  EXPECT_EQ(compared, 3000u);
  EXPECT_EQ(report.replayed_commands, 3000u);
  EXPECT_EQ(recovered.last_sequence(), 3000u);
  EXPECT_EQ(recovered.state_hash(), original.state_hash());
  EXPECT_EQ(recovered.validate_invariants(), "");
}

TEST_F(DurabilityTest, RecoveryFromSnapshotPlusJournalReachesTheSameState) {
  MatchingEngine original;
  const auto events = run_journaled(original, 3000, 1700);
  MatchingEngine recovered;
  RecoveryReport report = recover(recovered, dir, [&](const Command& c, const EventBuffer& replayed) {
    ASSERT_EQ(replayed, events[c.sequence]) << "sequence " << c.sequence;
  });
  EXPECT_EQ(report.snapshot_sequence, 1700u);
  EXPECT_EQ(report.replayed_commands, 1300u);
  EXPECT_EQ(recovered.state_hash(), original.state_hash());
  EXPECT_EQ(recovered.validate_invariants(), "");
  // and the recovered engine goes on exactly like the original
  EventBuffer a, b;
  CommandGenerator more(5);
  for (Sequence s = 3001; s <= 3500; ++s) {
    Command c = more.next(s, original.next_order_id());
    a.clear(), b.clear();
    original.apply(c, a);
    recovered.apply(c, b);
    ASSERT_EQ(a, b) << "sequence " << s;
  }
  EXPECT_EQ(recovered.state_hash(), original.state_hash());
}

TEST_F(DurabilityTest, TornLastRecordIsReportedAndCutToTheLastWholeRecord) {
  MatchingEngine original;
  run_journaled(original, 200);
  const std::string path = journal_path(dir);
  const auto full = fs::file_size(path);
  fs::resize_file(path, full - 10);  // the last record loses its end, as in a crash mid-write

  MatchingEngine recovered;
  RecoveryReport report = recover(recovered, dir);
  EXPECT_EQ(report.last_sequence, 199u);
  EXPECT_NE(report.journal_tail_problem.find("torn record"), std::string::npos) << report.journal_tail_problem;
  EXPECT_EQ(fs::file_size(path), full - (kJournalRecordHeaderSize + sizeof(Command)));

  // After the cut, appending continues from sequence 200 and a new recovery reads all of it.
  {
    JournalWriter journal(path, {});
    Command c;
    c.sequence = 200;
    c.type = CommandType::EndTradingSession;
    journal.append(c);
    EXPECT_EQ(journal.flush(), 200u);
  }
  MatchingEngine again;
  EXPECT_EQ(recover(again, dir).last_sequence, 200u);
}

TEST_F(DurabilityTest, CorruptRecordIsDetectedNeverApplied) {
  MatchingEngine original;
  run_journaled(original, 100);
  const std::string path = journal_path(dir);
  const auto record = kJournalRecordHeaderSize + sizeof(Command);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kJournalHeaderSize + 60 * record + kJournalRecordHeaderSize + 20));
    f.put('\x7f');  // flip a byte inside the payload of record 61
  }
  MatchingEngine recovered;
  RecoveryReport report = recover(recovered, dir);
  EXPECT_EQ(report.last_sequence, 60u);
  EXPECT_NE(report.journal_tail_problem.find("checksum mismatch"), std::string::npos) << report.journal_tail_problem;
}

TEST_F(DurabilityTest, CorruptNewestSnapshotFallsBackToTheOlderOne) {
  MatchingEngine original;
  {
    JournalWriter journal(journal_path(dir), {});
    CommandGenerator generator(3);
    EventBuffer events;
    for (Sequence s = 1; s <= 600; ++s) {
      Command c = s <= 2 ? define_generator_instrument(s, static_cast<InstrumentId>(s)) : generator.next(s, original.next_order_id());
      journal.append(c);
      original.apply(c, events);
      if (s == 200 || s == 400) {
        journal.flush();
        write_snapshot(original, dir);
      }
    }
    journal.flush();
  }
  const std::string newest = (fs::path(dir) / "snapshot-400.bin").string();
  fs::resize_file(newest, fs::file_size(newest) / 2);
  MatchingEngine recovered;
  RecoveryReport report = recover(recovered, dir);
  EXPECT_EQ(report.snapshot_sequence, 200u);
  ASSERT_EQ(report.skipped_snapshots.size(), 1u);
  EXPECT_EQ(recovered.state_hash(), original.state_hash());
}

TEST_F(DurabilityTest, ForeignFileIsRefusedAsAJournal) {
  std::ofstream(journal_path(dir)) << "this is not a journal at all";
  EXPECT_THROW(read_journal(journal_path(dir), [](const Command&) {}), std::runtime_error);
}

}  // namespace
}  // namespace hft::engine::testing
