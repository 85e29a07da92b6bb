// CRC-32C and the journal's command encoding.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "command_generator.h"
#include "hft/engine/command_codec.h"
#include "hft/engine/crc32c.h"

namespace hft::engine::testing {
namespace {

TEST(Crc32c, MatchesTheStandardCheckValue) {
  const std::string check = "123456789";
  EXPECT_EQ(crc32c(check.data(), check.size()), 0xE3069283u);
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
}

TEST(Crc32c, ExtendsAcrossPieces) {
  std::vector<uint8_t> bytes(1000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 31 + 7);
  const uint32_t whole = crc32c(bytes.data(), bytes.size());
  for (size_t cut : {0, 1, 7, 8, 9, 500, 999, 1000}) EXPECT_EQ(crc32c(bytes.data() + cut, bytes.size() - cut, crc32c(bytes.data(), cut)), whole);
}

Command round_trip(const Command& command) {
  uint8_t bytes[kMaxEncodedCommand];
  const size_t size = encode_command(command, bytes);
  EXPECT_LE(size, kMaxEncodedCommand);
  EXPECT_GE(size, kMinEncodedCommand);
  Command decoded;
  EXPECT_TRUE(decode_command(bytes, size, decoded));
  return decoded;
}

TEST(CommandCodec, RoundTripsEveryCommandType) {
  NewOrder order = new_order({.account = 77, .side = Side::Sell, .price = 12345, .quantity = 9, .type = OrderType::StopLimit, .tif = TimeInForce::DAY,
                              .display = 3, .stop = 12000, .post_only = true, .stp = SelfTradePrevention::CancelBoth},
                             std::string(40, 'x'));
  DefineInstrument define = test_instrument(9, "SIXTEEN-CHARS-XX");
  define.tick_size.assign(std::string(24, '1'));
  define.lot_size.assign(std::string(24, '2'));
  const std::vector<Command> commands{Command(order),
                                      Command(CancelOrder{5, 6}),
                                      Command(ReplaceOrder{5, 6, -7, 8}),
                                      Command(MassCancel{}),
                                      Command(MassCancel{3, 4}),
                                      Command(define),
                                      Command(EndTradingSession{}),
                                      Command(EndTradingSession{12})};
  Sequence sequence = 1'000'000'000'000ull;
  for (Command c : commands) {
    c.sequence = ++sequence;
    c.timestamp = -5;
    EXPECT_EQ(round_trip(c), c) << "command type " << static_cast<int>(c.type);
  }
  Command longest(define);
  uint8_t bytes[kMaxEncodedCommand];
  EXPECT_EQ(encode_command(longest, bytes), 120u);
}

TEST(CommandCodec, KeepsOutOfRangeEnumsSoReplayRejectsThemAgain) {
  NewOrder order = new_order({});
  order.side = static_cast<Side>(9);
  Command c(order);
  EXPECT_EQ(round_trip(c).new_order.side, static_cast<Side>(9));
}

TEST(CommandCodec, RefusesBytesThatAreNotOneCommand) {
  uint8_t bytes[kMaxEncodedCommand + 1] = {};
  const size_t size = encode_command(Command(new_order({}, "abc")), bytes);
  Command out;
  EXPECT_FALSE(decode_command(bytes, size - 1, out));  // cut short
  EXPECT_FALSE(decode_command(bytes, size + 1, out));  // a byte too many
  uint8_t bad[kMaxEncodedCommand];
  std::memcpy(bad, bytes, size);
  bad[16] = 42;  // no such command type
  EXPECT_FALSE(decode_command(bad, size, out));
  std::memcpy(bad, bytes, size);
  bad[17 + 8 + 4] = 41;  // a client order id longer than its 40 characters
  EXPECT_FALSE(decode_command(bad, size, out));
  const size_t cancel_size = encode_command(Command(MassCancel{1, std::nullopt}), bad);
  bad[17] = 2;  // a presence flag that is not a bool
  EXPECT_FALSE(decode_command(bad, cancel_size, out));
}

TEST(CommandCodec, RoundTripsARandomStream) {
  CommandGenerator generator(3);
  for (Sequence s = 1; s <= 20'000; ++s) {
    const Command c = generator.next(s, s);
    ASSERT_EQ(round_trip(c), c) << "sequence " << s;
  }
}

}  // namespace
}  // namespace hft::engine::testing
