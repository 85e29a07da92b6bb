// Micro-benchmarks of single commands on one book, events included (the buffer is drained after
// every command, as a publisher would). Each benchmark keeps its book in a steady state: when
// the orders it works on run out it rebuilds them with the timer paused, once per many
// thousands of iterations.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "hft/engine/matching_engine.h"

namespace hft::engine::bench {
namespace {

constexpr InstrumentId kInstrument = 1;
constexpr Price kMid = 100'000;
constexpr size_t kOrders = 50'000;

class Book {
 public:
  Book() {
    DefineInstrument d;
    d.id = kInstrument;
    d.symbol.assign("BENCH");
    d.min_quantity = 1;
    d.max_quantity = 1'000'000'000;
    d.band_low = 1;
    d.band_high = 1'000'000'000;
    apply(Command(d));
  }

  void apply(Command c) {
    c.sequence = engine_.last_sequence() + 1;
    engine_.apply(c);
    engine_.events().clear();
  }
  // Places an order and returns its id.
  OrderId place(Side side, Price price, Quantity quantity, TimeInForce tif = TimeInForce::GTC, AccountId account = 1) {
    const OrderId id = engine_.next_order_id();
    NewOrder o;
    o.account = account;
    o.instrument = kInstrument;
    o.side = side;
    o.tif = tif;
    o.price = price;
    o.quantity = quantity;
    apply(Command(o));
    return id;
  }
  // Resting buys spread over 20 levels below kMid, in random order of id.
  std::vector<OrderId> fill_bids(size_t count, Quantity quantity, std::mt19937_64& rng) {
    std::vector<OrderId> ids;
    for (size_t i = 0; i < count; ++i) ids.push_back(place(Side::Buy, kMid - 1 - static_cast<Price>(i % 20), quantity));
    std::shuffle(ids.begin(), ids.end(), rng);
    return ids;
  }
  void clear() { apply(Command(MassCancel{})); }
  MatchingEngine& engine() { return engine_; }

 private:
  MatchingEngine engine_;
};

void BM_AddRestingLimit(benchmark::State& state) {
  Book book;
  size_t added = 0;
  for (auto _ : state) {
    book.place(Side::Buy, kMid - 1 - static_cast<Price>(added % 20), 10);
    if (++added == kOrders) {
      state.PauseTiming();
      book.clear();
      added = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddRestingLimit);

void BM_CancelRestingOrder(benchmark::State& state) {
  Book book;
  std::mt19937_64 rng(1);
  std::vector<OrderId> ids = book.fill_bids(kOrders, 10, rng);
  size_t next = 0;
  for (auto _ : state) {
    book.apply(Command(CancelOrder{1, ids[next]}));
    if (++next == ids.size()) {
      state.PauseTiming();
      ids = book.fill_bids(kOrders, 10, rng);
      next = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CancelRestingOrder);

// Quantity down at the same price: the order keeps its place in the queue.
void BM_ReplaceKeepingPriority(benchmark::State& state) {
  Book book;
  std::mt19937_64 rng(2);
  std::vector<OrderId> ids = book.fill_bids(kOrders, 1'000'000, rng);
  Quantity quantity = 1'000'000;
  size_t next = 0;
  for (auto _ : state) {
    book.apply(Command(ReplaceOrder{1, ids[next], 0, quantity - 1}));
    if (++next == ids.size()) {
      next = 0;
      --quantity;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReplaceKeepingPriority);

// A new price one tick away: the order leaves its level and queues last at the other.
void BM_ReplaceLosingPriority(benchmark::State& state) {
  Book book;
  std::mt19937_64 rng(3);
  std::vector<OrderId> ids = book.fill_bids(kOrders, 10, rng);
  std::vector<Price> prices;
  for (OrderId id : ids) prices.push_back(book.engine().order(id)->price);
  size_t next = 0;
  for (auto _ : state) {
    Price& price = prices[next];
    price += price % 2 == 0 ? 1 : -1;  // moves between two adjacent levels, never crossing
    book.apply(Command(ReplaceOrder{1, ids[next], std::min(price, kMid - 1), 0}));
    if (++next == ids.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReplaceLosingPriority);

// An IOC buy of one lot against a queue of one-lot asks: one trade, the maker leaves the book.
void BM_MatchOneFill(benchmark::State& state) {
  Book book;
  auto refill = [&] {
    for (size_t i = 0; i < kOrders; ++i) book.place(Side::Sell, kMid, 1, TimeInForce::GTC, 2);
  };
  refill();
  size_t taken = 0;
  for (auto _ : state) {
    book.place(Side::Buy, kMid, 1, TimeInForce::IOC);
    if (++taken == kOrders) {
      state.PauseTiming();
      refill();
      taken = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MatchOneFill);

// An IOC buy that sweeps `levels` price levels of one one-lot order each.
void BM_MatchSweepLevels(benchmark::State& state) {
  const auto levels = static_cast<Price>(state.range(0));
  const Price depth = 20'000 / levels * levels;
  Book book;
  Price best = 0;
  auto refill = [&] {
    for (Price p = kMid + depth; p > kMid; --p) book.place(Side::Sell, p, 1, TimeInForce::GTC, 2);  // worst first: appends
    best = kMid + 1;
  };
  refill();
  for (auto _ : state) {
    book.place(Side::Buy, best + levels - 1, levels, TimeInForce::IOC);
    best += levels;
    if (best > kMid + depth) {
      state.PauseTiming();
      refill();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["fills_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * levels), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MatchSweepLevels)->Arg(1)->Arg(5)->Arg(20);

}  // namespace
}  // namespace hft::engine::bench

BENCHMARK_MAIN();
