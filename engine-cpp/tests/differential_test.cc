// Randomized differential test: the same seeded command stream through the engine and through
// the reference book must give identical events and identical books, with the engine's
// invariants holding throughout. HFT_DIFF_COMMANDS and HFT_DIFF_SEED override the defaults.
#include <gtest/gtest.h>


#include "command_generator.h"
#include "engine_fixture.h"
#include "reference_book.h"

namespace hft::engine::testing {
namespace {

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
    const Command define = define_generator_instrument(++sequence, id);
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
