#include "hft/engine/events.h"

#include <ostream>
#include <sstream>

namespace hft::engine {

bool operator==(const Command& a, const Command& b) {
  if (a.sequence != b.sequence || a.timestamp != b.timestamp || a.type != b.type) return false;
  switch (a.type) {
    case CommandType::NewOrder: return a.new_order == b.new_order;
    case CommandType::CancelOrder: return a.cancel_order == b.cancel_order;
    case CommandType::ReplaceOrder: return a.replace_order == b.replace_order;
    case CommandType::MassCancel: return a.mass_cancel == b.mass_cancel;
    case CommandType::DefineInstrument: return a.define_instrument == b.define_instrument;
    case CommandType::EndTradingSession: return a.end_trading_session == b.end_trading_session;
  }
  return false;
}

bool operator==(const Event& a, const Event& b) {
  if (a.sequence != b.sequence || a.type != b.type) return false;
  switch (a.type) {
    case EventType::OrderAccepted: return a.order_accepted == b.order_accepted;
    case EventType::OrderRejected: return a.order_rejected == b.order_rejected;
    case EventType::Trade: return a.trade == b.trade;
    case EventType::OrderCancelled: return a.order_cancelled == b.order_cancelled;
    case EventType::OrderReplaced: return a.order_replaced == b.order_replaced;
    case EventType::OrderExpired: return a.order_expired == b.order_expired;
    case EventType::StopTriggered: return a.stop_triggered == b.stop_triggered;
    case EventType::BookLevelChanged: return a.book_level_changed == b.book_level_changed;
    case EventType::InstrumentDefined: return a.instrument_defined == b.instrument_defined;
    case EventType::TradingSessionEnded: return a.trading_session_ended == b.trading_session_ended;
  }
  return false;
}

std::string describe(const Event& e) {
  std::ostringstream s;
  s << "#" << e.sequence << " ";
  switch (e.type) {
    case EventType::OrderAccepted: {
      const NewOrder& o = e.order_accepted.order;
      s << "OrderAccepted id=" << e.order_accepted.order_id << (e.order_accepted.pending_trigger ? " pending-trigger" : "")
        << " account=" << o.account << " instrument=" << o.instrument << " client_order_id=" << o.client_order_id.view() << " "
        << to_string(o.side) << " " << to_string(o.type) << " " << to_string(o.tif) << " price=" << o.price << " stop=" << o.stop_price
        << " qty=" << o.quantity << " display=" << o.display_quantity << (o.post_only ? " post-only" : "") << " stp=" << to_string(o.stp);
      break;
    }
    case EventType::OrderRejected: {
      const OrderRejected& r = e.order_rejected;
      s << "OrderRejected id=" << r.order_id << " account=" << r.account << " instrument=" << r.instrument
        << " client_order_id=" << r.client_order_id.view() << " reason=" << to_string(r.reason);
      break;
    }
    case EventType::Trade: {
      const Trade& t = e.trade;
      s << "Trade id=" << t.trade_id << " instrument=" << t.instrument << " " << t.quantity << "@" << t.price << " aggressor "
        << to_string(t.aggressor_side) << " maker=" << t.maker_order_id << "/" << t.maker_account << " left " << t.maker_remaining
        << " taker=" << t.taker_order_id << "/" << t.taker_account << " left " << t.taker_remaining;
      break;
    }
    case EventType::OrderCancelled: {
      const OrderCancelled& c = e.order_cancelled;
      s << "OrderCancelled id=" << c.order_id << " account=" << c.account << " instrument=" << c.instrument
        << " reason=" << to_string(c.reason) << " qty=" << c.cancelled_quantity;
      break;
    }
    case EventType::OrderReplaced: {
      const OrderReplaced& r = e.order_replaced;
      s << "OrderReplaced id=" << r.order_id << " account=" << r.account << " instrument=" << r.instrument << " price=" << r.price
        << " qty=" << r.quantity << " remaining=" << r.remaining << (r.priority_kept ? " priority kept" : " priority lost");
      break;
    }
    case EventType::OrderExpired: {
      const OrderExpired& x = e.order_expired;
      s << "OrderExpired id=" << x.order_id << " account=" << x.account << " instrument=" << x.instrument << " qty=" << x.expired_quantity;
      break;
    }
    case EventType::StopTriggered: {
      const StopTriggered& t = e.stop_triggered;
      s << "StopTriggered id=" << t.order_id << " account=" << t.account << " instrument=" << t.instrument << " last=" << t.last_trade_price;
      break;
    }
    case EventType::BookLevelChanged: {
      const BookLevelChanged& l = e.book_level_changed;
      s << "BookLevelChanged instrument=" << l.instrument << " " << to_string(l.side) << " " << l.quantity << "@" << l.price
        << " orders=" << l.order_count;
      break;
    }
    case EventType::InstrumentDefined: {
      const DefineInstrument& d = e.instrument_defined.definition;
      s << "InstrumentDefined id=" << d.id << " symbol=" << d.symbol.view() << " tick=" << d.tick_size.view() << " lot=" << d.lot_size.view()
        << " qty=[" << d.min_quantity << "," << d.max_quantity << "] band=[" << d.band_low << "," << d.band_high << "]";
      break;
    }
    case EventType::TradingSessionEnded: {
      const TradingSessionEnded& t = e.trading_session_ended;
      s << "TradingSessionEnded instrument=";
      if (t.instrument)
        s << *t.instrument;
      else
        s << "all";
      s << " expired=" << t.expired_orders;
      break;
    }
  }
  return s.str();
}

std::ostream& operator<<(std::ostream& out, const Event& event) { return out << describe(event); }

}  // namespace hft::engine
