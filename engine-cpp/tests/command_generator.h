// A seeded stream of random commands over two instruments at adjacent ticks: mostly limit orders,
// with market, stop, iceberg, post-only and self-trade modes, cancels, replaces, mass cancels,
// session ends, and a share of invalid values that must be rejected.
#pragma once

#include <cstdlib>
#include <random>
#include <string>

#include "engine_fixture.h"

namespace hft::engine::testing {

inline uint64_t env_or(const char* name, uint64_t fallback) {
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

// The two instruments the generator trades: ids 1 and 2, prices 90..110.
inline Command define_generator_instrument(Sequence sequence, InstrumentId id) {
  Command define;
  define.sequence = sequence;
  define.type = CommandType::DefineInstrument;
  define.define = test_instrument(id, id == 1 ? "AAA" : "BBB");
  define.define.band_low = 90;
  define.define.band_high = 110;
  return define;
}

}  // namespace hft::engine::testing
