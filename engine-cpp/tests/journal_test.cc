// The journal: round trip, group commit, and what a torn or corrupt file does to the reader.
#include <fstream>

#include "durability_fixture.h"
#include "hft/engine/command_codec.h"

namespace hft::engine::testing {
namespace {

namespace fs = std::filesystem;

using JournalTest = DurabilityTest;

std::vector<Command> read_all(const std::string& path, JournalReader& reader) {
  std::vector<Command> commands;
  EXPECT_TRUE(reader.open(path).ok());
  Command c;
  while (reader.next(c)) commands.push_back(c);
  EXPECT_TRUE(reader.error().ok()) << reader.error().message();
  return commands;
}

std::vector<Command> generated(size_t count) {
  CommandGenerator generator(42);
  std::vector<Command> commands;
  for (Sequence s = 1; s <= count; ++s) commands.push_back(generator.next(s, s));
  return commands;
}

void write_journal(const std::string& path, const std::vector<Command>& commands) {
  JournalWriter writer({.group_commit_records = 16});
  ASSERT_TRUE(writer.open(path).ok());
  for (const Command& c : commands) ASSERT_TRUE(writer.append(c).ok());
  ASSERT_TRUE(writer.close().ok());
}

// Size of the journal after its first `records` records.
uint64_t size_after(const std::vector<Command>& commands, size_t records) {
  uint64_t size = kJournalHeaderSize;
  uint8_t bytes[kMaxEncodedCommand];
  for (size_t i = 0; i < records; ++i) size += kRecordHeaderSize + encode_command(commands[i], bytes);
  return size;
}

TEST_F(JournalTest, RoundTripsEveryCommand) {
  const std::vector<Command> commands = generated(5'000);
  write_journal(journal(), commands);
  JournalReader reader;
  EXPECT_EQ(read_all(journal(), reader), commands);
  EXPECT_EQ(reader.tail(), JournalTail::Clean);
  EXPECT_EQ(reader.records(), 5'000u);
  EXPECT_EQ(reader.last_sequence(), 5'000u);
  EXPECT_EQ(reader.valid_bytes(), fs::file_size(journal()));
  EXPECT_EQ(reader.valid_bytes(), size_after(commands, commands.size()));
}

TEST_F(JournalTest, GroupCommitSyncsEveryNRecordsAndReportsTheDurableSequence) {
  JournalWriter writer({.group_commit_records = 4, .group_commit_micros = 60'000'000});
  ASSERT_TRUE(writer.open(journal()).ok());
  const std::vector<Command> commands = generated(10);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(writer.append(commands[i]).ok());
  EXPECT_EQ(writer.durable_sequence(), 0u);
  EXPECT_EQ(writer.pending_records(), 3u);
  EXPECT_EQ(fs::file_size(journal()), kJournalHeaderSize);  // nothing written before the group closes
  ASSERT_TRUE(writer.append(commands[3]).ok());
  EXPECT_EQ(writer.durable_sequence(), 4u);
  EXPECT_EQ(writer.stats().syncs, 1u);
  EXPECT_EQ(fs::file_size(journal()), size_after(commands, 4));
  ASSERT_TRUE(writer.append(commands[4]).ok());
  ASSERT_TRUE(writer.poll().ok());  // too young to commit by age
  EXPECT_EQ(writer.durable_sequence(), 4u);
  ASSERT_TRUE(writer.flush().ok());
  EXPECT_EQ(writer.durable_sequence(), 5u);
  EXPECT_EQ(writer.stats().syncs, 2u);
}

TEST_F(JournalTest, GroupCommitSyncsWhenTheOldestRecordIsOldEnough) {
  JournalWriter writer({.group_commit_records = 1000, .group_commit_micros = 2'000});
  ASSERT_TRUE(writer.open(journal()).ok());
  const std::vector<Command> commands = generated(2);
  ASSERT_TRUE(writer.append(commands[0]).ok());
  EXPECT_EQ(writer.durable_sequence(), 0u);
  ::usleep(3'000);
  ASSERT_TRUE(writer.poll().ok());
  EXPECT_EQ(writer.durable_sequence(), 1u);
  const std::vector<Command> more = generated(17);
  ASSERT_TRUE(writer.append(more[1]).ok());
  ::usleep(3'000);
  for (size_t i = 2; i < 16; ++i) ASSERT_TRUE(writer.append(more[i]).ok());
  EXPECT_EQ(writer.durable_sequence(), 1u);
  ASSERT_TRUE(writer.append(more[16]).ok());  // every 16th append checks the age too
  EXPECT_EQ(writer.durable_sequence(), 17u);
}

TEST_F(JournalTest, ReopenedJournalAppendsAfterItsLastRecord) {
  const std::vector<Command> commands = generated(20);
  write_journal(journal(), {commands.begin(), commands.begin() + 10});
  write_journal(journal(), {commands.begin() + 10, commands.end()});
  JournalReader reader;
  EXPECT_EQ(read_all(journal(), reader), commands);
}

TEST_F(JournalTest, TornTailAtEveryByteOfTheLastRecordStopsAtTheRecordBefore) {
  const std::vector<Command> commands = generated(30);
  write_journal(journal(), commands);
  const uint64_t whole_29 = size_after(commands, 29), whole_30 = size_after(commands, 30);
  for (uint64_t size = whole_29 + 1; size < whole_30; ++size) {
    fs::resize_file(journal(), size);  // a crash mid-write leaves any prefix of the last record
    JournalReader reader;
    EXPECT_EQ(read_all(journal(), reader).size(), 29u) << "cut at " << size;
    EXPECT_EQ(reader.tail(), size - whole_29 < kRecordHeaderSize ? JournalTail::TornRecordHeader : JournalTail::TornRecord);
    EXPECT_EQ(reader.valid_bytes(), whole_29);
  }
  JournalReader reader;
  read_all(journal(), reader);
  ASSERT_TRUE(truncate_journal(journal(), reader.valid_bytes()).ok());  // cut back to the last whole record
  EXPECT_EQ(fs::file_size(journal()), whole_29);
  write_journal(journal(), {commands[29]});  // and appending goes on from there
  JournalReader again;
  EXPECT_EQ(read_all(journal(), again), commands);
}

TEST_F(JournalTest, CorruptByteIsAChecksumMismatchAndNothingAfterItIsRead) {
  const std::vector<Command> commands = generated(100);
  write_journal(journal(), commands);
  {
    std::fstream f(journal(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size_after(commands, 60) + kRecordHeaderSize + 3));
    f.put('\x7f');  // inside the payload of record 61
  }
  JournalReader reader;
  const std::vector<Command> read = read_all(journal(), reader);
  EXPECT_EQ(read.size(), 60u);
  EXPECT_EQ(read.back(), commands[59]);
  EXPECT_EQ(reader.tail(), JournalTail::ChecksumMismatch);
  EXPECT_EQ(reader.valid_bytes(), size_after(commands, 60));
}

TEST_F(JournalTest, ZeroedTailIsABadLength) {
  const std::vector<Command> commands = generated(10);
  write_journal(journal(), commands);
  fs::resize_file(journal(), fs::file_size(journal()) + 4096);  // space the file system allocated but never wrote
  JournalReader reader;
  EXPECT_EQ(read_all(journal(), reader).size(), 10u);
  EXPECT_EQ(reader.tail(), JournalTail::BadLength);
}

TEST_F(JournalTest, CorruptLengthIsDetected) {
  const std::vector<Command> commands = generated(10);
  write_journal(journal(), commands);
  {
    std::fstream f(journal(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size_after(commands, 5)));
    f.put('\x11');  // a plausible length, but not the one the checksum covers
  }
  JournalReader reader;
  EXPECT_EQ(read_all(journal(), reader).size(), 5u);
  EXPECT_NE(reader.tail(), JournalTail::Clean);
}

TEST_F(JournalTest, ForeignFileIsRefusedAndLeftAlone) {
  std::ofstream(journal()) << "this is not a journal at all";
  JournalReader reader;
  EXPECT_EQ(reader.open(journal()).error, EINVAL);
  JournalWriter writer;
  EXPECT_EQ(writer.open(journal()).error, EINVAL);
  EXPECT_EQ(fs::file_size(journal()), 28u);
}

TEST_F(JournalTest, EmptyOrHeaderlessFileHasNoRecords) {
  std::ofstream(journal()).close();
  JournalReader empty;
  EXPECT_TRUE(read_all(journal(), empty).empty());
  EXPECT_EQ(empty.tail(), JournalTail::Clean);
  std::ofstream(journal()) << "HFTJR";  // a header cut short
  JournalReader torn;
  EXPECT_TRUE(read_all(journal(), torn).empty());
  EXPECT_EQ(torn.tail(), JournalTail::TornHeader);
  EXPECT_EQ(torn.valid_bytes(), 0u);
}

TEST_F(JournalTest, MissingFileIsAnError) {
  JournalReader reader;
  EXPECT_EQ(reader.open(dir + "/nothing.log").error, ENOENT);
}

}  // namespace
}  // namespace hft::engine::testing
