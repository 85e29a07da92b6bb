// Randomized differential test: the same seeded command stream through the engine and through
// the reference book must give identical events and identical books, with the engine's
// invariants holding throughout. HFT_DIFF_COMMANDS and HFT_DIFF_SEED override the defaults.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "engine_fixture.h"
#include "reference_book.h"

namespace hft::engine::testing {
namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::strtoull(value, nullptr, 10) : fallback;
}

class CommandGenerator {
 public:
  explicit CommandGenerator(uint64_t seed) : rng_(seed) {}

  Command next(Sequence sequence, OrderId next_order_id) {
    Command c;
    c.sequence = sequence;
    c.timestamp = static_cast<TimestampNs>(sequence);
    const int roll = pick(0, 999);
    if (roll < 600) {
      c.type = CommandType::NewOrder;
      NewOrder& o = c.new_order;
      o.account = static_cast<AccountId>(pick(1, 4));
      o.instrument = static_cast<InstrumentId>(pick(1, 2));
      o.client_order_id.assign("r" + std::to_string(sequence));
      o.side = pick(0, 1) ? Side::Buy : Side::Sell;
      const int kind = pick(0, 99);
      o.type = kind < 82 ? OrderType::Limit : kind < 88 ? OrderType::Market : kind < 94 ? OrderType::Stop : OrderType::StopLimit;
      const int tif = pick(0, 99);
      o.tif = tif < 60 ? TimeInForce::Gtc : tif < 75 ? TimeInForce::Ioc : tif < 85 ? TimeInForce::Fok : TimeInForce::Day;
      if (o.type == OrderType::Market && pick(0, 19) > 0) o.tif = pick(0, 1) ? TimeInForce::Ioc : TimeInForce::Fok;
      if ((o.type == OrderType::Stop || o.type == OrderType::StopLimit) && pick(0, 19) > 0) o.tif = pick(0, 1) ? TimeInForce::Gtc : TimeInForce::Day;
      const bool limit = o.type == OrderType::Limit || o.type == OrderType::StopLimit;
      o.price = limit ? pick(90, 110) : 0;
      o.stop_price = (o.type == OrderType::Stop || o.type == OrderType::StopLimit) ? pick(92, 108) : 0;
      o.quantity = pick(1, 20);
      if (limit && pick(0, 9) == 0) o.display_quantity = pick(1, static_cast<int>(o.quantity));
      o.post_only = pick(0, 9) == 0;
      o.stp = static_cast<SelfTradePrevention>(pick(0, 3));
      if (pick(0, 199) == 0) o.quantity = pick(-2, 0);         // invalid quantity
      if (pick(0, 199) == 0) o.price = limit ? 2'000 : 5;      // out of band / price on a market order
      if (pick(0, 299) == 0) o.instrument = 7;                 // unknown instrument
    } else if (roll < 850) {
      c.type = CommandType::CancelOrder;
      c.cancel = {static_cast<AccountId>(pick(1, 4)), recent_id(next_order_id)};
    } else if (roll < 990) {
      c.type = CommandType::ReplaceOrder;
      c.replace = {static_cast<AccountId>(pick(1, 4)), recent_id(next_order_id), pick(0, 2) ? 0 : pick(90, 110), pick(0, 2) ? pick(1, 25) : 0};
    } else if (roll < 996) {
      c.type = CommandType::MassCancel;
      c.mass_cancel = {pick(0, 1) == 1, pick(0, 1) == 1, static_cast<AccountId>(pick(1, 4)), static_cast<InstrumentId>(pick(1, 2))};
    } else {
      c.type = CommandType::EndTradingSession;
      c.end_session = {pick(0, 1) == 1, static_cast<InstrumentId>(pick(1, 2))};
    }
    return c;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  // Mostly orders that may still be live; sometimes ids never assigned.
  OrderId recent_id(OrderId next_order_id) {
    const int back = pick(1, 60);
    return next_order_id > static_cast<OrderId>(back) ? next_order_id - static_cast<OrderId>(back) : next_order_id + 5;
  }
  std::mt19937_64 rng_;
};

std::vector<std::pair<Price, std::pair<Quantity, uint32_t>>> reference_side(const ReferenceBook::LevelTotals& totals, InstrumentId inst, Side side) {
  std::vector<std::pair<Price, std::pair<Quantity, uint32_t>>> levels;
  for (const auto& [key, value] : totals)
    if (std::get<0>(key) == inst && std::get<1>(key) == side) levels.emplace_back(std::get<2>(key), value);
  if (side == Side::Buy) std::reverse(levels.begin(), levels.end());
  return levels;
}

void expect_same_books(const MatchingEngine& engine, const ReferenceBook& reference, Sequence sequence) {
  const auto totals = reference.levels();
  for (InstrumentId inst : {1u, 2u}) {
    for (Side side : {Side::Buy, Side::Sell}) {
      const auto expected = reference_side(totals, inst, side);
      const auto actual = engine.levels(inst, side);
      ASSERT_EQ(actual.size(), expected.size()) << "instrument " << inst << " side " << int(side) << " after " << sequence;
      for (size_t i = 0; i < actual.size(); ++i) {
        ASSERT_EQ(actual[i].price, expected[i].first) << "after " << sequence;
        ASSERT_EQ(actual[i].quantity, expected[i].second.first) << "after " << sequence;
        ASSERT_EQ(actual[i].order_count, expected[i].second.second) << "after " << sequence;
      }
    }
  }
}

void run_differential(uint64_t seed, uint64_t commands, uint64_t invariant_every) {
  std::cout << "differential run: seed " << seed << ", " << commands << " commands" << std::endl;
  MatchingEngine engine;
  ReferenceBook reference;
  CommandGenerator generator(seed);
  EventBuffer events;
  Sequence sequence = 0;
  for (InstrumentId id : {1u, 2u}) {
    Command define;
    define.sequence = ++sequence;
    define.type = CommandType::DefineInstrument;
    define.define = test_instrument(id, id == 1 ? "AAA" : "BBB");
    define.define.band_low = 90;
    define.define.band_high = 110;
    events.clear();
    engine.apply(define, events);
    ASSERT_EQ(events, reference.apply(define));
  }
  uint64_t trades = 0;
  for (uint64_t i = 0; i < commands; ++i) {
    const Command command = generator.next(++sequence, engine.next_order_id());
    events.clear();
    engine.apply(command, events);
    const std::vector<Event> expected = reference.apply(command);
    if (events != expected) {
      std::string detail;
      for (const Event& e : events) detail += "  engine:    " + describe(e) + "\n";
      for (const Event& e : expected) detail += "  reference: " + describe(e) + "\n";
      FAIL() << "events differ at sequence " << sequence << " (seed " << seed << ")\n" << detail;
    }
    for (const Event& e : events) trades += e.type == EventType::Trade;
    if (sequence % invariant_every == 0) {
      ASSERT_EQ(engine.validate_invariants(), "") << "after sequence " << sequence;
      expect_same_books(engine, reference, sequence);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  ASSERT_EQ(engine.validate_invariants(), "");
  expect_same_books(engine, reference, sequence);
  EXPECT_GT(trades, commands / 20) << "the workload should trade often enough to exercise matching";
}

TEST(Differential, EveryStepChecked) { run_differential(env_or("HFT_DIFF_SEED", 20261125), 20'000, 1); }

TEST(Differential, MillionCommands) {
  run_differential(env_or("HFT_DIFF_SEED", 7) + 1, env_or("HFT_DIFF_COMMANDS", 1'000'000), 10'000);
}

}  // namespace
}  // namespace hft::engine::testing
