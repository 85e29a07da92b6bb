#include <sstream>

#include "hft/engine/types.h"

namespace hft::engine {

std::string_view to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::None: return "accepted";
    case RejectReason::UnknownInstrument: return "unknown instrument";
    case RejectReason::InstrumentNotInShard: return "instrument belongs to another shard";
    case RejectReason::InvalidPrice: return "price must be positive for limit orders and absent otherwise";
    case RejectReason::PriceOutOfBand: return "price is outside the instrument's price band";
    case RejectReason::InvalidQuantity: return "quantity must be positive";
    case RejectReason::QuantityBelowMin: return "quantity is below the instrument's minimum";
    case RejectReason::QuantityAboveMax: return "quantity is above the instrument's maximum";
    case RejectReason::InvalidDisplayQuantity: return "display quantity must be between 0 and the quantity, on limit orders only";
    case RejectReason::InvalidStopPrice: return "stop price must be inside the price band for stop orders and absent otherwise";
    case RejectReason::InvalidOrderTypeForTif: return "order type, time in force and post-only do not go together";
    case RejectReason::PostOnlyWouldTake: return "post-only order would trade on arrival";
    case RejectReason::FokCannotFill: return "fill-or-kill order cannot be filled completely";
    case RejectReason::UnknownOrder: return "no open order with this id";
    case RejectReason::NotOrderOwner: return "the order belongs to another account";
    case RejectReason::DuplicateOrderId: return "order id already in use";
    case RejectReason::InvalidReplace: return "replace must change price or quantity of a resting order and keep quantity above the filled quantity";
    case RejectReason::InstrumentConflict: return "instrument id or symbol already defined differently";
    case RejectReason::MalformedCommand: return "malformed command";
  }
  return "unknown reason";
}

std::string describe(const Event& e) {
  std::ostringstream s;
  switch (e.type) {
    case EventType::OrderAccepted: {
      const NewOrder& o = e.accepted.order;
      s << "accepted id=" << e.accepted.order_id << " status=" << int(e.accepted.status) << " acct=" << o.account << " inst=" << o.instrument
        << " coid=" << o.client_order_id.view() << " side=" << int(o.side) << " type=" << int(o.type) << " tif=" << int(o.tif)
        << " stp=" << int(o.stp) << " po=" << o.post_only << " px=" << o.price << " stop=" << o.stop_price << " qty=" << o.quantity
        << " disp=" << o.display_quantity;
      break;
    }
    case EventType::OrderRejected:
      s << "rejected id=" << e.rejected.order_id << " acct=" << e.rejected.account << " inst=" << e.rejected.instrument
        << " coid=" << e.rejected.client_order_id.view() << " reason=" << int(e.rejected.reason);
      break;
    case EventType::Trade: {
      const TradeEvent& t = e.trade;
      s << "trade id=" << t.trade_id << " inst=" << t.instrument << " px=" << t.price << " qty=" << t.quantity << " aggr=" << int(t.aggressor_side)
        << " maker=" << t.maker_order_id << "/" << t.maker_account << " left=" << t.maker_remaining << " taker=" << t.taker_order_id << "/"
        << t.taker_account << " left=" << t.taker_remaining;
      break;
    }
    case EventType::OrderCancelled:
      s << "cancelled id=" << e.cancelled.order_id << " acct=" << e.cancelled.account << " inst=" << e.cancelled.instrument
        << " reason=" << int(e.cancelled.reason) << " qty=" << e.cancelled.cancelled_quantity;
      break;
    case EventType::OrderReplaced:
      s << "replaced id=" << e.replaced.order_id << " acct=" << e.replaced.account << " px=" << e.replaced.price << " qty=" << e.replaced.quantity
        << " left=" << e.replaced.remaining << " kept=" << e.replaced.priority_kept;
      break;
    case EventType::OrderExpired:
      s << "expired id=" << e.expired.order_id << " acct=" << e.expired.account << " qty=" << e.expired.expired_quantity;
      break;
    case EventType::StopTriggered:
      s << "triggered id=" << e.triggered.order_id << " acct=" << e.triggered.account << " last=" << e.triggered.last_trade_price;
      break;
    case EventType::BookLevelChanged:
      s << "level inst=" << e.level.instrument << " side=" << int(e.level.side) << " px=" << e.level.price << " qty=" << e.level.quantity
        << " n=" << e.level.order_count;
      break;
    case EventType::InstrumentDefined:
      s << "defined id=" << e.defined.definition.id << " sym=" << e.defined.definition.symbol.view();
      break;
    case EventType::TradingSessionEnded:
      s << "session_ended all=" << !e.session_ended.has_instrument << " inst=" << e.session_ended.instrument
        << " expired=" << e.session_ended.expired_orders;
      break;
  }
  return s.str();
}

bool operator==(const Event& a, const Event& b) { return a.type == b.type && describe(a) == describe(b); }

}  // namespace hft::engine
