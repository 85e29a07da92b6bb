// Hostile bytes, from a seeded mutator: the command decoder and the journal reader fed random
// bytes and corrupted copies of valid encodings. Each input must be taken as a well-formed value
// or refused as one (false, a JournalTail, an IoResult), never crash, read out of bounds or hang;
// what the decoder takes must also be safe to apply. The sanitizer build runs the same cases under
// ASan and UBSan. HFT_FUZZ_SEED and HFT_FUZZ_ITERATIONS (per test) make a longer or another run;
// every failure names the seed and the iteration that reproduce it.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <vector>

#include "durability_fixture.h"
#include "hft/engine/command_codec.h"
#include "hft/engine/crc32c.h"

namespace hft::engine::testing {
namespace {

using Bytes = std::vector<uint8_t>;

// Engines that hold a few hundred orders at most: one is made per journal case.
const EngineOptions kSmallEngine{.expected_orders = 1 << 10, .event_capacity = 1 << 10};

const uint64_t kSeed = env_or("HFT_FUZZ_SEED", 20'240'611);
const uint64_t kIterations = env_or("HFT_FUZZ_ITERATIONS", 100'000);
// A journal case writes, reads and recovers a whole file: a hundredth as many fit the same time.
const uint64_t kJournalIterations = std::max<uint64_t>(1, kIterations / 100);

std::string hex(const Bytes& bytes) {
  std::ostringstream out;
  for (uint8_t b : bytes) out << "0123456789abcdef"[b >> 4] << "0123456789abcdef"[b & 15];
  return out.str();
}

std::string reproduce(uint64_t iteration) {
  return "reproduce with HFT_FUZZ_SEED=" + std::to_string(kSeed) + ", iteration " + std::to_string(iteration);
}

Bytes encoded(const Command& command) {
  uint8_t bytes[kMaxEncodedCommand];
  return Bytes(bytes, bytes + encode_command(command, bytes));
}

// Decodes from a heap copy of exactly `input`'s size, so ASan sees any read past its end.
bool decode_exact(const Bytes& input, Command& command) {
  const auto exact = std::make_unique<uint8_t[]>(input.size());
  if (!input.empty()) std::memcpy(exact.get(), input.data(), input.size());
  return decode_command(exact.get(), input.size(), command);
}

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  uint64_t below(uint64_t bound) { return std::uniform_int_distribution<uint64_t>(0, bound - 1)(rng_); }
  uint8_t byte() { return static_cast<uint8_t>(below(256)); }
  Bytes random_bytes(size_t size) {
    Bytes bytes(size);
    for (uint8_t& b : bytes) b = byte();
    return bytes;
  }

  // One to four edits, the kind each time at random: a bit flipped, a byte set (at random or to a
  // boundary value), a byte inserted or erased, the end cut or extended, or eight bytes
  // overwritten with an extreme 64-bit integer (where prices, quantities and ids sit).
  void mutate(Bytes& bytes) {
    static constexpr uint8_t kBoundaryBytes[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff};
    static constexpr int64_t kBoundaryWords[] = {0, 1, -1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                                                 std::numeric_limits<int64_t>::max() / 2 + 1, 1LL << 32};
    for (uint64_t edits = 1 + below(4); edits > 0; --edits) {
      const size_t at = bytes.empty() ? 0 : below(bytes.size());
      switch (below(8)) {
        case 0:
          if (!bytes.empty()) bytes[at] ^= static_cast<uint8_t>(1u << below(8));
          break;
        case 1:
          if (!bytes.empty()) bytes[at] = byte();
          break;
        case 2:
          if (!bytes.empty()) bytes[at] = kBoundaryBytes[below(std::size(kBoundaryBytes))];
          break;
        case 3: bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(at), byte()); break;
        case 4:
          if (!bytes.empty()) bytes.erase(bytes.begin() + static_cast<ptrdiff_t>(at));
          break;
        case 5: bytes.resize(below(bytes.size() + 1)); break;
        case 6: {
          const Bytes tail = random_bytes(1 + below(16));
          bytes.insert(bytes.end(), tail.begin(), tail.end());
          break;
        }
        case 7:
          if (bytes.size() >= 8) {
            const int64_t word = kBoundaryWords[below(std::size(kBoundaryWords))];
            std::memcpy(bytes.data() + below(bytes.size() - 7), &word, 8);
          }
          break;
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

// The commands the decoder takes, applied at the engine's next sequence: whatever their fields
// hold, the engine accepts or rejects them and stays whole.
class HostileEngine {
 public:
  HostileEngine() {
    for (InstrumentId id : {1u, 2u}) apply(Command(generator_instrument(id)));
  }
  void apply(Command command) {
    command.sequence = engine_.last_sequence() + 1;
    engine_.apply(command);
    engine_.events().clear();
  }
  std::string validate_invariants() const { return engine_.validate_invariants(); }
  const MatchingEngine& engine() const { return engine_; }

 private:
  MatchingEngine engine_{kSmallEngine};
};

// A command the decoder took must be the one those bytes encode: encoding it again gives them back.
void expect_canonical(const Bytes& input, const Command& decoded, uint64_t iteration) {
  ASSERT_EQ(hex(encoded(decoded)), hex(input)) << "decoded bytes that are not the command's own encoding; " << reproduce(iteration);
}

TEST(CommandDecoderFuzz, RandomBytesAreOneCommandOrRefused) {
  Mutator random(kSeed);
  HostileEngine engine;
  uint64_t taken = 0;
  for (uint64_t i = 0; i < kIterations; ++i) {
    Bytes input = random.random_bytes(random.below(kMaxEncodedCommand + 24));
    // Half the time a real command type, so the bodies' decoding is reached, not only the head's.
    if (input.size() > 16 && random.below(2) == 0) input[16] = static_cast<uint8_t>(1 + random.below(6));
    Command decoded;
    if (!decode_exact(input, decoded)) continue;
    ++taken;
    expect_canonical(input, decoded, i);
    engine.apply(decoded);
  }
  EXPECT_EQ(engine.validate_invariants(), "") << reproduce(kIterations);
  RecordProperty("taken", static_cast<int>(taken));
}

TEST(CommandDecoderFuzz, MutatedCommandsAreOneCommandOrRefusedAndApplySafely) {
  Mutator mutator(kSeed);
  CommandGenerator generator(kSeed);
  HostileEngine engine;
  uint64_t taken = 0, refused = 0;
  for (uint64_t i = 0; i < kIterations; ++i) {
    Bytes input = encoded(generator.next(i + 1, engine.engine().next_order_id()));
    mutator.mutate(input);
    Command decoded;
    if (!decode_exact(input, decoded)) {
      ++refused;
      continue;
    }
    ++taken;
    expect_canonical(input, decoded, i);
    engine.apply(decoded);
    if (i % 512 == 0) {
      ASSERT_EQ(engine.validate_invariants(), "") << "after input " << hex(input) << "; " << reproduce(i);
    }
  }
  ASSERT_EQ(engine.validate_invariants(), "") << reproduce(kIterations);
  // Both outcomes were reached: the mutations neither always break nor never break a command.
  EXPECT_GT(taken, 0u);
  EXPECT_GT(refused, 0u);
}

// A valid journal, its bytes, and where each of its records starts (and the end of the last).
struct JournalImage {
  std::vector<Command> commands;
  Bytes bytes;
  std::vector<size_t> record_starts;
};

JournalImage valid_journal(const std::string& path, uint64_t seed) {
  JournalImage image;
  CommandGenerator generator(seed);
  JournalWriter writer({.group_commit_records = 16});
  EXPECT_TRUE(writer.open(path).ok());
  size_t offset = kJournalHeaderSize;
  for (Sequence s = 1; s <= 48; ++s) {
    Command c = s <= 2 ? Command(generator_instrument(static_cast<InstrumentId>(s))) : generator.next(s, s);
    c.sequence = s;
    EXPECT_TRUE(writer.append(c).ok());
    image.commands.push_back(c);
    image.record_starts.push_back(offset);
    offset += kRecordHeaderSize + encoded(c).size();
  }
  image.record_starts.push_back(offset);
  EXPECT_TRUE(writer.close().ok());
  std::ifstream in(path, std::ios::binary);
  image.bytes.assign(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(image.bytes.size(), offset);
  return image;
}

// A record whose checksum holds over `payload`, so only the reader's later checks can refuse it.
Bytes checksummed_record(const Bytes& payload) {
  const uint32_t length = static_cast<uint32_t>(payload.size());
  const uint32_t checksum = crc32c(payload.data(), payload.size(), crc32c(&length, sizeof length));
  Bytes record(kRecordHeaderSize + payload.size());
  std::memcpy(record.data(), &length, 4);
  std::memcpy(record.data() + 4, &checksum, 4);
  std::memcpy(record.data() + kRecordHeaderSize, payload.data(), payload.size());
  return record;
}

// One corruption of a valid journal: bit flips, a cut, garbage or a forged record inserted at a
// record boundary, or a record's length or checksum overwritten. Forged records are ones the
// reader must refuse (an unknown command type, or the sequence after the next one).
Bytes corrupt(const JournalImage& image, Mutator& mutator) {
  Bytes bytes = image.bytes;
  const size_t records = image.commands.size();
  const size_t record = mutator.below(records);
  const size_t start = image.record_starts[record];
  auto insert_at = [&](size_t at, const Bytes& extra) { bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(at), extra.begin(), extra.end()); };
  switch (mutator.below(7)) {
    case 0:  // a quarter of the flips within the file header, which is small beside the records
      for (uint64_t flips = 1 + mutator.below(3); flips > 0; --flips)
        bytes[mutator.below(mutator.below(4) == 0 ? kJournalHeaderSize : bytes.size())] ^= static_cast<uint8_t>(1u << mutator.below(8));
      break;
    case 1:  // half the cuts within the file header or the first record
      bytes.resize(mutator.below(mutator.below(2) == 0 ? image.record_starts[1] + 1 : bytes.size() + 1));
      break;
    case 2: insert_at(image.record_starts[mutator.below(records + 1)], mutator.random_bytes(1 + mutator.below(200))); break;
    case 3: {
      Bytes payload = encoded(image.commands[record]);
      payload[16] = 0;  // no such command type
      insert_at(start, checksummed_record(payload));
      break;
    }
    case 4: {
      // Not before the first record: a journal may start at any sequence (after a snapshot).
      const size_t later = 1 + mutator.below(records - 1);
      Command skipped = image.commands[later];
      skipped.sequence += 1;  // the reader expects image.commands[later].sequence here
      insert_at(image.record_starts[later], checksummed_record(encoded(skipped)));
      break;
    }
    case 5: {
      const uint32_t length = static_cast<uint32_t>(mutator.below(2) ? mutator.below(1u << 16) : mutator.below(1ull << 32));
      std::memcpy(bytes.data() + start, &length, 4);
      break;
    }
    case 6: {
      const uint32_t checksum = static_cast<uint32_t>(mutator.below(1ull << 32));
      std::memcpy(bytes.data() + start + 4, &checksum, 4);
      break;
    }
  }
  return bytes;
}

// Each case syncs the file it cuts: on a memory file system (where there is one) a sync costs
// nothing, so the run is bounded by its iterations and not by the disk.
class JournalFuzz : public DurabilityTest {
 protected:
  void SetUp() override {
    if (std::filesystem::is_directory("/dev/shm")) {
      dir = "/dev/shm/hft-engine-fuzz-" + std::to_string(::getpid());
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
    } else {
      DurabilityTest::SetUp();
    }
  }
};

// The longest valid prefix of a corrupted journal is every record wholly before the first byte
// that differs from the valid file (forged records included, since each is refused). The reader
// must hand out exactly those records and say why it stopped; recovery must replay them, cut the
// rest, and leave the state a clean run of them has. A damaged file header is refused instead.
TEST_F(JournalFuzz, CorruptedJournalsGiveTheirLongestValidPrefixOrAClearRefusal) {
  const std::string valid_path = (std::filesystem::path(dir) / "valid.log").string();
  const JournalImage image = valid_journal(valid_path, kSeed);
  std::vector<uint64_t> prefix_hashes;  // state_hash() after the first k commands, clean run
  {
    MatchingEngine reference(kSmallEngine);
    prefix_hashes.push_back(reference.state_hash());
    for (const Command& c : image.commands) {
      reference.apply(c);
      reference.events().clear();
      prefix_hashes.push_back(reference.state_hash());
    }
  }

  Mutator mutator(kSeed);
  std::array<uint64_t, 8> tails{};
  uint64_t refused_headers = 0;
  for (uint64_t i = 0; i < kJournalIterations; ++i) {
    const Bytes bytes = corrupt(image, mutator);
    size_t first_difference = 0;
    while (first_difference < bytes.size() && first_difference < image.bytes.size() && bytes[first_difference] == image.bytes[first_difference]) ++first_difference;
    const bool unchanged = bytes == image.bytes;
    size_t expected_records = 0;
    while (expected_records < image.commands.size() && (unchanged || image.record_starts[expected_records + 1] <= first_difference)) ++expected_records;
    {
      std::ofstream out(journal(), std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    const std::string context = "journal of " + std::to_string(bytes.size()) + " bytes, first difference at " + std::to_string(first_difference) + "; " + reproduce(i);

    JournalReader reader;
    const IoResult opened = reader.open(journal());
    if (!bytes.empty() && first_difference < std::min(kJournalHeaderSize, bytes.size())) {
      ASSERT_EQ(opened.error, EINVAL) << context;
      ASSERT_NE(opened.message().find("not a journal"), std::string::npos) << opened.message();
      MatchingEngine engine(kSmallEngine);
      ASSERT_NE(recover(engine, dir).error.find("not a journal"), std::string::npos) << context;
      ++refused_headers;
      continue;
    }
    ASSERT_TRUE(opened.ok()) << opened.message() << "; " << context;
    std::vector<Command> read;
    for (Command c; reader.next(c);) read.push_back(c);
    ASSERT_TRUE(reader.error().ok()) << reader.error().message() << "; " << context;
    ASSERT_EQ(read.size(), expected_records) << "stopped at " << to_string(reader.tail()) << "; " << context;
    ASSERT_TRUE(std::equal(read.begin(), read.end(), image.commands.begin())) << context;
    // A torn file header (a cut inside it) holds nothing; otherwise the header and the prefix.
    ASSERT_EQ(reader.valid_bytes(), bytes.size() < kJournalHeaderSize ? 0 : image.record_starts[expected_records]) << context;
    ASSERT_EQ(reader.tail() == JournalTail::Clean, bytes.size() == reader.valid_bytes()) << to_string(reader.tail()) << "; " << context;
    tails[static_cast<size_t>(reader.tail())] += 1;

    MatchingEngine engine(kSmallEngine);
    const RecoveryReport report = recover(engine, dir);
    ASSERT_EQ(report.error, "") << context;
    ASSERT_EQ(report.replayed_commands, expected_records) << context;
    ASSERT_EQ(report.journal_tail, reader.tail()) << context;
    ASSERT_EQ(engine.state_hash(), prefix_hashes[expected_records]) << context;
    ASSERT_EQ(std::filesystem::file_size(journal()), reader.valid_bytes()) << "recovery did not cut the tail; " << context;
  }
  // Every way of stopping was met, and the header check too.
  for (JournalTail tail : {JournalTail::TornHeader, JournalTail::TornRecordHeader, JournalTail::BadLength, JournalTail::TornRecord,
                           JournalTail::ChecksumMismatch, JournalTail::Undecodable, JournalTail::SequenceGap})
    EXPECT_GT(tails[static_cast<size_t>(tail)], 0u) << to_string(tail) << " never met in " << kJournalIterations << " corruptions";
  EXPECT_GT(refused_headers, 0u);
}

}  // namespace
}  // namespace hft::engine::testing
