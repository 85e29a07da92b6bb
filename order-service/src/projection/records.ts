/**
 * Projected rows as the public `hft.v1` messages: what Kafka carries, what reads and order-update
 * streams return. Decimals come from PostgreSQL numeric and are only trimmed of trailing zeros.
 */
import type { Timestamp } from "@hft/contract/grpc/google/protobuf/timestamp.js";
import type { Execution, Order, Position } from "@hft/contract/grpc/hft/v1/order_service.js";
import { CancelReason, Liquidity, OrderStatus, OrderType, RejectReason, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import type { ExecutionRow, OrderRow, PositionRow } from "./apply-events.js";

/** Names for the ids in rows: symbols by instrument id, account names by account id. */
export interface Names {
  symbol(instrumentId: number): string;
  account(accountId: string): string;
}

/** "100.500" -> "100.5", "2.000" -> "2", "0" -> "0". */
export function trimDecimal(value: string): string {
  if (!value.includes(".")) return value;
  const trimmed = value.replace(/0+$/, "");
  return trimmed.endsWith(".") ? trimmed.slice(0, -1) : trimmed;
}

export function toTimestamp(date: Date): Timestamp {
  const ms = date.getTime();
  return { seconds: BigInt(Math.floor(ms / 1_000)), nanos: (((ms % 1_000) + 1_000) % 1_000) * 1_000_000 };
}

const byName = <E extends Record<string, string | number>>(values: E, prefix: string) => (name: string | null): E[keyof E] =>
  (name === null ? 0 : (values[`${prefix}${name.toUpperCase()}` as keyof E] ?? 0)) as E[keyof E];

const orderStatus = byName(OrderStatus, "ORDER_STATUS_");
const orderType = byName(OrderType, "ORDER_TYPE_");
const timeInForce = byName(TimeInForce, "TIME_IN_FORCE_");
const cancelReason = byName(CancelReason, "CANCEL_REASON_");
const rejectReason = byName(RejectReason, "REJECT_REASON_");
const selfTrade = byName(SelfTradePrevention, "SELF_TRADE_PREVENTION_");
const side = (s: "buy" | "sell") => (s === "buy" ? Side.SIDE_BUY : Side.SIDE_SELL);

/**
 * The messages made from rows, by row. Kafka, the order-update publish and the open-order cache
 * each turn the same committed rows into messages: they share one message per row, and with it
 * its encoding (encoded-messages.ts). A row's names never change, so the first call's stand.
 */
const made = new WeakMap<OrderRow | ExecutionRow, Order | Execution>();

export function orderMessage(row: OrderRow, names: Names): Order {
  const known = made.get(row) as Order | undefined;
  if (known) return known;
  const order: Order = {
    orderId: row.order_id,
    clientOrderId: row.client_order_id,
    account: names.account(row.account_id),
    symbol: names.symbol(row.instrument_id),
    side: side(row.side),
    type: orderType(row.order_type),
    timeInForce: timeInForce(row.time_in_force),
    price: row.price === null ? "" : trimDecimal(row.price),
    stopPrice: row.stop_price === null ? "" : trimDecimal(row.stop_price),
    quantity: trimDecimal(row.quantity),
    displayQuantity: row.display_quantity === null ? "" : trimDecimal(row.display_quantity),
    filledQuantity: trimDecimal(row.filled_quantity),
    remainingQuantity: trimDecimal(row.remaining_quantity),
    averageFillPrice: row.average_fill_price === null ? "" : trimDecimal(row.average_fill_price),
    status: orderStatus(row.status),
    rejectReason: rejectReason(row.reject_reason),
    rejectMessage: "",
    cancelReason: cancelReason(row.cancel_reason),
    postOnly: row.post_only,
    selfTradePrevention: row.self_trade_prevention === "none" ? SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED : selfTrade(row.self_trade_prevention),
    createTime: toTimestamp(row.created_at),
    updateTime: toTimestamp(row.updated_at),
    sequence: BigInt(row.last_sequence),
  };
  made.set(row, order);
  return order;
}

export function executionMessage(row: ExecutionRow, clientOrderId: string, names: Names): Execution {
  const known = made.get(row) as Execution | undefined;
  if (known) return known;
  const execution: Execution = {
    tradeId: row.trade_id,
    orderId: row.order_id,
    clientOrderId,
    symbol: names.symbol(row.instrument_id),
    side: side(row.side),
    price: trimDecimal(row.price),
    quantity: trimDecimal(row.quantity),
    liquidity: row.liquidity === "maker" ? Liquidity.LIQUIDITY_MAKER : Liquidity.LIQUIDITY_TAKER,
    fee: trimDecimal(row.fee),
    executeTime: toTimestamp(row.executed_at),
    sequence: BigInt(row.sequence),
    account: names.account(row.account_id),
  };
  made.set(row, execution);
  return execution;
}

export function positionMessage(row: PositionRow, names: Names): Position {
  return {
    account: names.account(row.account_id),
    symbol: names.symbol(row.instrument_id),
    netQuantity: trimDecimal(row.net_quantity),
    averagePrice: trimDecimal(row.average_price),
    realizedPnl: trimDecimal(row.realized_pnl),
    updateTime: toTimestamp(row.updated_at),
    sequence: BigInt(row.last_sequence),
  };
}
