#include "workload.h"

#include <charconv>
#include <cstring>
#include <random>
#include <string_view>

#include "hft/engine/matching_engine.h"

namespace hft::engine::bench {

namespace {

constexpr Price kStartMid = 10'000;

// `prefix` followed by the decimal digits of `n`.
template <size_t N>
FixedString<N> numbered(std::string_view prefix, uint64_t n) {
  char text[N];
  std::memcpy(text, prefix.data(), prefix.size());
  const auto [end, error] = std::to_chars(text + prefix.size(), text + N, n);
  return FixedString<N>::of({text, error == std::errc() ? static_cast<size_t>(end - text) : prefix.size()});
}

class Generator {
 public:
  explicit Generator(const WorkloadOptions& options) : options_(options), rng_(options.seed) {
    live_.reserve(1 << 20);
  }

  std::vector<Command> run(WorkloadMix& mix) {
    std::vector<Command> commands;
    commands.reserve(options_.commands + options_.instruments);
    for (InstrumentId id = 1; id <= options_.instruments; ++id) push(commands, Command(definition(id)));
    while (commands.size() < options_.commands + options_.instruments) push(commands, next(mix));
    mix.trades = trades_;
    return commands;
  }

 private:
  struct Live {
    OrderId id;
    AccountId account;
    InstrumentId instrument;
  };

  static DefineInstrument definition(InstrumentId id) {
    DefineInstrument d;
    d.id = id;
    d.symbol = numbered<16>("SYM", id);
    d.tick_size.assign("0.01");
    d.lot_size.assign("1");
    d.min_quantity = 1;
    d.max_quantity = 1'000'000;
    d.band_low = 1;
    d.band_high = 1'000'000;
    return d;
  }

  // Applies the command to the shadow engine and learns which orders are open afterwards.
  void push(std::vector<Command>& commands, Command c) {
    c.sequence = commands.size() + 1;
    c.timestamp = static_cast<TimestampNs>(c.sequence) * 100;
    const OrderId id = shadow_.next_order_id();
    shadow_.apply(c);
    for (const Event& e : shadow_.events()) trades_ += e.type == EventType::Trade;
    shadow_.events().clear();
    if (c.type == CommandType::NewOrder && shadow_.order(id) != nullptr) live_.push_back({id, c.new_order.account, c.new_order.instrument});
    commands.push_back(c);
  }

  Command next(WorkloadMix& mix) {
    uint32_t roll = pick(0, 99);
    const uint32_t passive_from = options_.cancel_percent + options_.replace_percent + options_.aggressive_percent + options_.stop_percent;
    if (roll >= passive_from && live_.size() > 2 * options_.open_orders) roll = 0;
    uint32_t bound = options_.cancel_percent;
    if (roll < bound) {
      if (const Live* order = live_.size() >= options_.open_orders ? take_live(true) : nullptr) {
        ++mix.cancels;
        return Command(CancelOrder{order->account, order->id});
      }
    } else if (roll < (bound += options_.replace_percent)) {
      if (const Live* order = take_live(false)) {
        ++mix.replaces;
        const Order& o = *shadow_.order(order->id);
        // Half shrink in place (priority kept), half move one or two ticks (priority lost).
        if (pick(0, 1) && o.leaves > 1) return Command(ReplaceOrder{order->account, order->id, 0, o.quantity - 1});
        const Price step = o.side == Side::Buy ? -pick(1, 2) : pick(1, 2);
        return Command(ReplaceOrder{order->account, order->id, o.price + step, 0});
      }
    } else if (roll < (bound += options_.aggressive_percent)) {
      ++mix.aggressive;
      return Command(aggressive());
    } else if (roll < (bound += options_.stop_percent)) {
      ++mix.stops;
      return Command(stop());
    }
    ++mix.new_orders;
    return Command(passive());
  }

  // A random open order; removed from the list when `remove` (a cancel) or when it is no longer
  // open. Null when there is none.
  const Live* take_live(bool remove) {
    while (!live_.empty()) {
      const size_t i = static_cast<size_t>(pick(0, static_cast<uint32_t>(live_.size() - 1)));
      picked_ = live_[i];
      const bool open = shadow_.order(picked_.id) != nullptr;
      if (!open || remove) {
        live_[i] = live_.back();
        live_.pop_back();
      }
      if (open) return &picked_;
    }
    return nullptr;
  }

  NewOrder base(InstrumentId instrument) {
    NewOrder o;
    o.account = pick(1, options_.accounts);
    o.instrument = instrument;
    o.client_order_id = numbered<40>("c", ++client_ids_);
    o.side = pick(0, 1) ? Side::Buy : Side::Sell;
    o.quantity = pick(1, 100);
    return o;
  }

  InstrumentId instrument() { return pick(1, options_.instruments); }

  // The best price of one side of the shadow book, or one near the other side when it is empty.
  Price touch(InstrumentId id, Side side) const {
    const OrderBook& book = *shadow_.book(id);
    if (!book.side(side).empty()) return book.side(side).best_price();
    const BookSide& other = book.side(opposite(side));
    const Price reference = other.empty() ? (book.last_trade_price() != 0 ? book.last_trade_price() : kStartMid) : other.best_price();
    return side == Side::Buy ? reference - 1 : reference + 1;
  }

  // Joins the touch most often, queues up to 20 ticks behind it, sometimes improves it inside
  // the spread; never crosses.
  NewOrder passive() {
    const InstrumentId id = instrument();
    NewOrder o = base(id);
    const Price own = touch(id, o.side), other = touch(id, opposite(o.side));
    const Price behind = static_cast<Price>(std::min<double>(20, std::exponential_distribution<double>(0.3)(rng_)));
    const Price improve = pick(0, 9) == 0 ? 1 : 0;
    o.price = o.side == Side::Buy ? std::min(own - behind + improve, other - 1) : std::max(own + behind - improve, other + 1);
    o.tif = pick(0, 9) ? TimeInForce::GTC : TimeInForce::DAY;
    if (pick(0, 99) < 3) o.display_quantity = std::max<Quantity>(1, o.quantity / 4);
    if (pick(0, 99) < 5) o.post_only = true;
    return o;
  }

  // Crosses the spread by a few ticks (IOC limit) or takes at any price (market IOC).
  NewOrder aggressive() {
    const InstrumentId id = instrument();
    NewOrder o = base(id);
    o.quantity = pick(1, 50);
    o.tif = TimeInForce::IOC;
    o.stp = SelfTradePrevention::CancelResting;
    if (pick(0, 3) == 0) {
      o.type = OrderType::Market;
    } else {
      const Price reach = pick(0, 1);
      const Price far = touch(id, opposite(o.side));
      o.price = o.side == Side::Buy ? far + reach : far - reach;
    }
    return o;
  }

  NewOrder stop() {
    const InstrumentId id = instrument();
    NewOrder o = base(id);
    o.type = pick(0, 1) ? OrderType::Stop : OrderType::StopLimit;
    const Price away = pick(3, 15);
    o.stop_price = o.side == Side::Buy ? touch(id, Side::Sell) + away : touch(id, Side::Buy) - away;
    if (o.type == OrderType::StopLimit) o.price = o.side == Side::Buy ? o.stop_price + 2 : o.stop_price - 2;
    return o;
  }

  uint32_t pick(uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng_); }

  const WorkloadOptions& options_;
  std::mt19937_64 rng_;
  MatchingEngine shadow_{{.expected_orders = 1 << 20}};
  std::vector<Live> live_;
  Live picked_{};
  uint64_t client_ids_ = 0;
  uint64_t trades_ = 0;
};

}  // namespace

std::vector<Command> generate_workload(const WorkloadOptions& options, WorkloadMix& mix) { return Generator(options).run(mix); }

}  // namespace hft::engine::bench
