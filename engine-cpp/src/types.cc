#include "hft/engine/types.h"

namespace hft::engine {

std::string_view to_string(Side side) {
  switch (side) {
    case Side::Buy: return "buy";
    case Side::Sell: return "sell";
  }
  return "invalid side";
}

std::string_view to_string(OrderType type) {
  switch (type) {
    case OrderType::Limit: return "limit";
    case OrderType::Market: return "market";
    case OrderType::Stop: return "stop";
    case OrderType::StopLimit: return "stop-limit";
  }
  return "invalid order type";
}

std::string_view to_string(TimeInForce tif) {
  switch (tif) {
    case TimeInForce::GTC: return "GTC";
    case TimeInForce::IOC: return "IOC";
    case TimeInForce::FOK: return "FOK";
    case TimeInForce::DAY: return "DAY";
  }
  return "invalid time in force";
}

std::string_view to_string(SelfTradePrevention stp) {
  switch (stp) {
    case SelfTradePrevention::None: return "none";
    case SelfTradePrevention::CancelResting: return "cancel-resting";
    case SelfTradePrevention::CancelIncoming: return "cancel-incoming";
    case SelfTradePrevention::CancelBoth: return "cancel-both";
  }
  return "invalid self-trade prevention";
}

std::string_view to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::None: return "accepted";
    case RejectReason::UnknownInstrument: return "unknown instrument";
    case RejectReason::InstrumentNotInShard: return "instrument belongs to another shard";
    case RejectReason::InvalidPrice: return "limit price must be positive; market and stop orders carry none";
    case RejectReason::PriceOutOfBand: return "price is outside the instrument's price band";
    case RejectReason::InvalidQuantity: return "quantity must be positive";
    case RejectReason::QuantityBelowMin: return "quantity is below the instrument's minimum";
    case RejectReason::QuantityAboveMax: return "quantity is above the instrument's maximum";
    case RejectReason::InvalidDisplayQuantity: return "display quantity must be within [0, quantity] and at least a thousandth of it (what is left open, on a replace), on limit and stop-limit orders only";
    case RejectReason::InvalidStopPrice: return "stop price must be inside the price band on stop orders and absent otherwise";
    case RejectReason::InvalidOrderTypeForTif: return "order type, time in force and post-only do not go together";
    case RejectReason::PostOnlyWouldTake: return "post-only order would trade on arrival";
    case RejectReason::FokCannotFill: return "fill-or-kill order cannot be filled completely";
    case RejectReason::UnknownOrder: return "no open order with this id";
    case RejectReason::NotOrderOwner: return "the order belongs to another account";
    case RejectReason::DuplicateOrderId: return "order id already in use";
    case RejectReason::InvalidReplace: return "replace must leave more than the filled quantity, on an order resting on the book";
    case RejectReason::InstrumentConflict: return "instrument id or symbol is already defined differently";
    case RejectReason::MalformedCommand: return "malformed command";
  }
  return "invalid reject reason";
}

std::string_view to_string(CancelReason reason) {
  switch (reason) {
    case CancelReason::UserRequested: return "user requested";
    case CancelReason::IocRemainder: return "IOC remainder";
    case CancelReason::MarketNoLiquidity: return "market order found no more liquidity";
    case CancelReason::SelfTradePrevention: return "self-trade prevention";
    case CancelReason::MassCancel: return "mass cancel";
  }
  return "invalid cancel reason";
}

}  // namespace hft::engine
