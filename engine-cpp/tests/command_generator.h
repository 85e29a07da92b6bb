// A seeded stream of random commands over two instruments at adjacent ticks (prices 90..110):
// mostly limit orders, with market, stop, stop-limit, iceberg, post-only and every self-trade
// mode among four accounts; cancels and replaces of recent ids; mass cancels, session ends and
// redefinitions; and a share of invalid values that must be rejected.
#pragma once

#include <array>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>

#include "engine_fixture.h"

namespace hft::engine::testing {

inline uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 10) : fallback;
}

// The instruments the generator trades: ids 1 and 2, band 90..110 (redefinitions narrow it).
inline DefineInstrument generator_instrument(InstrumentId id, Price band_low = 90, Price band_high = 110, Quantity max_quantity = 30) {
  DefineInstrument d = test_instrument(id, id == 1 ? "AAA" : "BBB");
  d.band_low = band_low;
  d.band_high = band_high;
  d.max_quantity = max_quantity;
  return d;
}

class CommandGenerator {
 public:
  explicit CommandGenerator(uint64_t seed) : rng_(seed) {}

  // The next command; `next_order_id` lets cancels and replaces name recent orders.
  Command next(Sequence sequence, OrderId next_order_id) {
    Command c = body(next_order_id);
    c.sequence = sequence;
    c.timestamp = static_cast<TimestampNs>(sequence) * 1000;
    return c;
  }

 private:
  Command body(OrderId next_order_id) {
    const int roll = pick(0, 999);
    if (roll < 660) {
      const NewOrder o = order();
      // Orders that may outlive their command are the ones worth cancelling and replacing later.
      if (o.tif == TimeInForce::GTC || o.tif == TimeInForce::DAY) remember(next_order_id, o.account);
      return Command(o);
    }
    if (roll < 800) {
      const auto [id, owner] = recent(next_order_id);
      return Command(CancelOrder{owner, id});
    }
    if (roll < 990) {
      const auto [id, owner] = recent(next_order_id);
      const Price price = pick(0, 2) ? 0 : pick(89, 111);
      const Quantity quantity = pick(0, 2) ? pick(1, 25) : (pick(0, 9) ? 0 : -1);
      return Command(ReplaceOrder{owner, id, price, quantity});
    }
    if (roll < 992) {
      MassCancel m;
      if (pick(0, 1)) m.account = account();
      if (pick(0, 1)) m.instrument = pick(0, 20) ? static_cast<InstrumentId>(pick(1, 2)) : 9;
      return Command(m);
    }
    if (roll < 998) {
      EndTradingSession e;
      if (pick(0, 1)) e.instrument = static_cast<InstrumentId>(pick(1, 2));
      return Command(e);
    }
    const InstrumentId id = static_cast<InstrumentId>(pick(1, 2));
    DefineInstrument d = generator_instrument(id, pick(88, 95), pick(105, 112), pick(15, 30));
    if (pick(0, 9) == 0) d.symbol.assign(id == 1 ? "BBB" : "AAA");  // a conflict
    return Command(d);
  }

  NewOrder order() {
    NewOrder o;
    o.account = account();
    o.instrument = pick(0, 299) ? static_cast<InstrumentId>(pick(1, 2)) : 7;  // 7 is unknown
    o.client_order_id.assign("r" + std::to_string(++orders_));
    o.side = pick(0, 1) ? Side::Buy : Side::Sell;
    const int kind = pick(0, 99);
    o.type = kind < 80 ? OrderType::Limit : kind < 87 ? OrderType::Market : kind < 94 ? OrderType::Stop : OrderType::StopLimit;
    const int tif = pick(0, 99);
    o.tif = tif < 60 ? TimeInForce::GTC : tif < 75 ? TimeInForce::IOC : tif < 85 ? TimeInForce::FOK : TimeInForce::DAY;
    // Mostly valid combinations, sometimes not.
    if (o.type == OrderType::Market && pick(0, 19) > 0) o.tif = pick(0, 1) ? TimeInForce::IOC : TimeInForce::FOK;
    if (is_stop(o.type) && pick(0, 19) > 0) o.tif = pick(0, 1) ? TimeInForce::GTC : TimeInForce::DAY;
    const bool limit = o.type == OrderType::Limit || o.type == OrderType::StopLimit;
    // Buyers mostly below 100 and sellers above, overlapping around it: a book with depth that
    // still trades often.
    o.price = limit ? (o.side == Side::Buy ? pick(91, 101) : pick(99, 109)) : 0;
    o.stop_price = is_stop(o.type) ? pick(93, 107) : 0;
    o.quantity = pick(1, 20);
    if (limit && pick(0, 7) == 0) o.display_quantity = pick(1, static_cast<int>(o.quantity));
    o.post_only = pick(0, 19) == 0;
    o.stp = static_cast<SelfTradePrevention>(pick(0, 3));
    if (pick(0, 199) == 0) o.quantity = pick(-2, 0);
    if (pick(0, 199) == 0) o.price = limit ? pick(0, 1) ? 2'000 : -1 : 5;
    if (pick(0, 299) == 0) o.stop_price = is_stop(o.type) ? 500 : 100;
    if (pick(0, 299) == 0) o.display_quantity = o.quantity + 1;
    if (pick(0, 499) == 0) o.side = static_cast<Side>(3);
    return o;
  }

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  AccountId account() { return static_cast<AccountId>(pick(1, 4)); }
  void remember(OrderId id, AccountId owner) { recent_[remembered_++ % recent_.size()] = {id, owner}; }
  // An order to cancel or replace, with the account asking: mostly one of the recent orders that
  // may rest, asked by its owner; sometimes another account, any recent id, or an id never
  // assigned.
  std::pair<OrderId, AccountId> recent(OrderId next_order_id) {
    if (remembered_ > 0 && pick(0, 9) < 8) {
      const auto [id, owner] = recent_[static_cast<size_t>(pick(0, static_cast<int>(std::min<uint64_t>(remembered_, recent_.size()) - 1)))];
      return {id, pick(0, 9) ? owner : account()};
    }
    const OrderId back = static_cast<OrderId>(pick(1, 80));
    return {next_order_id > back ? next_order_id - back : next_order_id + 5, account()};
  }

  std::mt19937_64 rng_;
  uint64_t orders_ = 0;
  std::array<std::pair<OrderId, AccountId>, 512> recent_{};
  uint64_t remembered_ = 0;
};

}  // namespace hft::engine::testing
