#include "proto_mapping.h"

namespace hft::engine::server {

namespace v1 = hft::v1;

namespace {

template <typename Enum>
bool in_range(int value, int lo, int hi, Enum& out) {
  if (value < lo || value > hi) return false;
  out = static_cast<Enum>(value);
  return true;
}

}  // namespace

RejectReason to_command(const v1::EngineCommand& in, Command& out, std::string& problem) {
  switch (in.command_case()) {
    case v1::EngineCommand::kNewOrder: {
      const v1::NewOrder& o = in.new_order();
      out = Command(NewOrder{});
      NewOrder& n = out.new_order;
      n.account = o.account_id();
      n.instrument = o.instrument_id();
      if (!n.client_order_id.assign(o.client_order_id())) {
        problem = "client_order_id is longer than 40 characters";
        return RejectReason::MalformedCommand;
      }
      if (!in_range(o.side(), 1, 2, n.side)) problem = "side must be BUY or SELL";
      else if (!in_range(o.type(), 1, 4, n.type)) problem = "type must be LIMIT, MARKET, STOP or STOP_LIMIT";
      else if (!in_range(o.time_in_force(), 1, 4, n.tif)) problem = "time_in_force must be GTC, IOC, FOK or DAY";
      else if (!in_range(o.self_trade_prevention(), 0, 3, n.stp)) problem = "self_trade_prevention is not a known mode";
      if (!problem.empty()) return RejectReason::MalformedCommand;
      n.price = o.price_ticks();
      n.stop_price = o.stop_price_ticks();
      n.quantity = o.quantity_lots();
      n.display_quantity = o.display_quantity_lots();
      n.post_only = o.post_only();
      return RejectReason::None;
    }
    case v1::EngineCommand::kCancelOrder:
      out = Command(CancelOrder{in.cancel_order().account_id(), in.cancel_order().order_id()});
      return RejectReason::None;
    case v1::EngineCommand::kReplaceOrder: {
      const v1::ReplaceOrder& r = in.replace_order();
      out = Command(ReplaceOrder{r.account_id(), r.order_id(), r.new_price_ticks(), r.new_quantity_lots()});
      return RejectReason::None;
    }
    case v1::EngineCommand::kMassCancel: {
      const v1::MassCancel& m = in.mass_cancel();
      MassCancel mass;
      if (m.has_account_id()) mass.account = m.account_id();
      if (m.has_instrument_id()) mass.instrument = m.instrument_id();
      out = Command(mass);
      return RejectReason::None;
    }
    case v1::EngineCommand::kDefineInstrument: {
      const v1::DefineInstrument& d = in.define_instrument();
      out = Command(DefineInstrument{});
      DefineInstrument& def = out.define_instrument;
      def.id = d.instrument_id();
      if (!def.symbol.assign(d.symbol()) || !def.tick_size.assign(d.tick_size()) || !def.lot_size.assign(d.lot_size())) {
        problem = "symbol (16), tick_size or lot_size (24 characters) is too long";
        return RejectReason::MalformedCommand;
      }
      def.min_quantity = d.min_quantity_lots();
      def.max_quantity = d.max_quantity_lots();
      def.band_low = d.price_band_low_ticks();
      def.band_high = d.price_band_high_ticks();
      return RejectReason::None;
    }
    case v1::EngineCommand::kEndTradingSession: {
      EndTradingSession end;
      if (in.end_trading_session().has_instrument_id()) end.instrument = in.end_trading_session().instrument_id();
      out = Command(end);
      return RejectReason::None;
    }
    case v1::EngineCommand::COMMAND_NOT_SET:
      break;
  }
  problem = "command has no body";
  return RejectReason::MalformedCommand;
}

void set_timestamp(TimestampNs ns, google::protobuf::Timestamp* out) {
  out->set_seconds(ns / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
}

void to_proto(const DefineInstrument& def, v1::DefineInstrument* out) {
  out->set_instrument_id(def.id);
  out->set_symbol(def.symbol.view().data(), def.symbol.view().size());
  out->set_tick_size(def.tick_size.view().data(), def.tick_size.view().size());
  out->set_lot_size(def.lot_size.view().data(), def.lot_size.view().size());
  out->set_min_quantity_lots(def.min_quantity);
  out->set_max_quantity_lots(def.max_quantity);
  out->set_price_band_low_ticks(def.band_low);
  out->set_price_band_high_ticks(def.band_high);
}

void to_proto(const Event& e, v1::EngineEvent* out) {
  switch (e.type) {
    case EventType::OrderAccepted: {
      v1::OrderAccepted* a = out->mutable_order_accepted();
      a->set_order_id(e.order_accepted.order_id);
      a->set_status(e.order_accepted.pending_trigger ? v1::ORDER_STATUS_PENDING_TRIGGER : v1::ORDER_STATUS_NEW);
      const NewOrder& o = e.order_accepted.order;
      v1::NewOrder* n = a->mutable_order();
      n->set_account_id(o.account);
      n->set_instrument_id(o.instrument);
      n->set_client_order_id(o.client_order_id.view().data(), o.client_order_id.view().size());
      n->set_side(static_cast<v1::Side>(o.side));
      n->set_type(static_cast<v1::OrderType>(o.type));
      n->set_time_in_force(static_cast<v1::TimeInForce>(o.tif));
      n->set_price_ticks(o.price);
      n->set_stop_price_ticks(o.stop_price);
      n->set_quantity_lots(o.quantity);
      n->set_display_quantity_lots(o.display_quantity);
      n->set_post_only(o.post_only);
      n->set_self_trade_prevention(static_cast<v1::SelfTradePrevention>(o.stp));
      break;
    }
    case EventType::OrderRejected: {
      v1::OrderRejected* r = out->mutable_order_rejected();
      const OrderRejected& rejected = e.order_rejected;
      r->set_order_id(rejected.order_id);
      r->set_account_id(rejected.account);
      r->set_instrument_id(rejected.instrument);
      r->set_client_order_id(rejected.client_order_id.view().data(), rejected.client_order_id.view().size());
      r->set_reason(static_cast<v1::RejectReason>(rejected.reason));
      const std::string_view message = to_string(rejected.reason);
      r->set_message(message.data(), message.size());
      break;
    }
    case EventType::Trade: {
      const Trade& t = e.trade;
      v1::Trade* p = out->mutable_trade();
      p->set_trade_id(t.trade_id);
      p->set_instrument_id(t.instrument);
      p->set_price_ticks(t.price);
      p->set_quantity_lots(t.quantity);
      p->set_aggressor_side(static_cast<v1::Side>(t.aggressor_side));
      p->set_maker_order_id(t.maker_order_id);
      p->set_maker_account_id(t.maker_account);
      p->set_maker_remaining_lots(t.maker_remaining);
      p->set_taker_order_id(t.taker_order_id);
      p->set_taker_account_id(t.taker_account);
      p->set_taker_remaining_lots(t.taker_remaining);
      break;
    }
    case EventType::OrderCancelled: {
      v1::OrderCancelled* c = out->mutable_order_cancelled();
      const OrderCancelled& cancelled = e.order_cancelled;
      c->set_order_id(cancelled.order_id);
      c->set_account_id(cancelled.account);
      c->set_instrument_id(cancelled.instrument);
      c->set_reason(static_cast<v1::CancelReason>(cancelled.reason));
      c->set_cancelled_lots(cancelled.cancelled_quantity);
      break;
    }
    case EventType::OrderReplaced: {
      v1::OrderReplaced* r = out->mutable_order_replaced();
      const OrderReplaced& replaced = e.order_replaced;
      r->set_order_id(replaced.order_id);
      r->set_account_id(replaced.account);
      r->set_instrument_id(replaced.instrument);
      r->set_price_ticks(replaced.price);
      r->set_quantity_lots(replaced.quantity);
      r->set_remaining_lots(replaced.remaining);
      r->set_priority_kept(replaced.priority_kept);
      break;
    }
    case EventType::OrderExpired: {
      v1::OrderExpired* x = out->mutable_order_expired();
      x->set_order_id(e.order_expired.order_id);
      x->set_account_id(e.order_expired.account);
      x->set_instrument_id(e.order_expired.instrument);
      x->set_expired_lots(e.order_expired.expired_quantity);
      break;
    }
    case EventType::StopTriggered: {
      v1::StopTriggered* s = out->mutable_stop_triggered();
      s->set_order_id(e.stop_triggered.order_id);
      s->set_account_id(e.stop_triggered.account);
      s->set_instrument_id(e.stop_triggered.instrument);
      s->set_last_trade_price_ticks(e.stop_triggered.last_trade_price);
      break;
    }
    case EventType::BookLevelChanged: {
      v1::BookLevelChanged* l = out->mutable_book_level_changed();
      const BookLevelChanged& level = e.book_level_changed;
      l->set_instrument_id(level.instrument);
      l->set_side(static_cast<v1::Side>(level.side));
      l->set_price_ticks(level.price);
      l->set_quantity_lots(level.quantity);
      l->set_order_count(level.order_count);
      break;
    }
    case EventType::InstrumentDefined:
      to_proto(e.instrument_defined.definition, out->mutable_instrument_defined()->mutable_instrument());
      break;
    case EventType::TradingSessionEnded: {
      v1::TradingSessionEnded* s = out->mutable_trading_session_ended();
      if (e.trading_session_ended.instrument) s->set_instrument_id(*e.trading_session_ended.instrument);
      s->set_expired_orders(e.trading_session_ended.expired_orders);
      break;
    }
  }
}

}  // namespace hft::engine::server
