// Randomized differential test: the same seeded command stream through the engine and through
// the reference book must give identical events and identical books (every queue, every pending
// stop), with the engine's invariants holding throughout. HFT_DIFF_COMMANDS and HFT_DIFF_SEED
// override the size and seed of the long run; every run prints its seed.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "command_generator.h"
#include "reference_book.h"

namespace hft::engine::testing {
namespace {

void expect_same_books(const MatchingEngine& engine, const ReferenceBook& reference, Sequence sequence) {
  for (InstrumentId instrument : {1u, 2u}) {
    for (Side side : {Side::Buy, Side::Sell}) {
      std::vector<std::tuple<OrderId, Price, Quantity, Quantity>> actual, expected;
      for (const LevelView& level : engine.levels(instrument, side))
        for (const Order* o : engine.level_orders(instrument, side, level.price)) actual.emplace_back(o->id, o->price, o->leaves, o->visible);
      for (const ReferenceBook::Order& o : reference.queue(instrument, side)) expected.emplace_back(o.id, o.price, o.leaves, o.visible);
      ASSERT_EQ(actual, expected) << "queues of instrument " << instrument << " " << to_string(side) << " after sequence " << sequence;
    }
    std::vector<OrderId> stops;
    for (const Order* o : engine.orders_of(instrument))
      if (o->state == OrderState::PendingTrigger) stops.push_back(o->id);
    ASSERT_EQ(stops, reference.pending_stops(instrument)) << "pending stops of instrument " << instrument << " after sequence " << sequence;
  }
}

void run_differential(uint64_t seed, uint64_t commands, uint64_t check_every) {
  std::cout << "differential run: seed " << seed << ", " << commands << " commands, books checked every " << check_every << std::endl;
  const auto started = std::chrono::steady_clock::now();
  MatchingEngine engine;
  ReferenceBook reference;
  CommandGenerator generator(seed);
  Sequence sequence = 0;
  uint64_t trades = 0, triggers = 0, rejections = 0;
  for (uint64_t i = 0; i < commands + 2; ++i) {
    Command command = i < 2 ? Command(generator_instrument(static_cast<InstrumentId>(i + 1))) : generator.next(0, engine.next_order_id());
    command.sequence = ++sequence;
    engine.apply(command);
    const std::vector<Event> expected = reference.apply(command);
    if (!std::equal(engine.events().begin(), engine.events().end(), expected.begin(), expected.end())) {
      std::string detail;
      for (const Event& e : engine.events()) detail += "  engine:    " + describe(e) + "\n";
      for (const Event& e : expected) detail += "  reference: " + describe(e) + "\n";
      FAIL() << "events differ at sequence " << sequence << " (seed " << seed << ")\n" << detail;
    }
    for (const Event& e : engine.events()) {
      trades += e.type == EventType::Trade;
      triggers += e.type == EventType::StopTriggered;
      rejections += e.type == EventType::OrderRejected;
    }
    engine.events().clear();
    if (sequence % check_every == 0) {
      ASSERT_EQ(engine.validate_invariants(), "") << "after sequence " << sequence << " (seed " << seed << ")";
      expect_same_books(engine, reference, sequence);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  ASSERT_EQ(engine.validate_invariants(), "");
  expect_same_books(engine, reference, sequence);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "  " << trades << " trades, " << triggers << " stop triggers, " << rejections << " rejections, " << engine.open_orders()
            << " open orders at the end, " << seconds << " s" << std::endl;
  // The workload must exercise matching and stops, not only rejections.
  EXPECT_GT(trades, commands / 10);
  EXPECT_GT(triggers, commands / 200);
}

TEST(Differential, EveryStepChecked) { run_differential(env_or("HFT_DIFF_SEED", 20261125), 50'000, 1); }

TEST(Differential, MillionCommands) {
  run_differential(env_or("HFT_DIFF_SEED", 20261125) + 1, env_or("HFT_DIFF_COMMANDS", 1'000'000), 10'000);
}

}  // namespace
}  // namespace hft::engine::testing
