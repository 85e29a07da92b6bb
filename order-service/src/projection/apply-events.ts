/**
 * Writes one batch of sequenced engine events into PostgreSQL inside the caller's transaction:
 * orders, both sides of every execution, positions (by `apply_position_fill`, exact numeric
 * arithmetic), and the shard's checkpoint. Ticks and lots become prices and quantities in SQL,
 * multiplied by the instrument's tick and lot size, so no value passes through floating point.
 * Returns the rows as they stand after the batch, for Kafka, Redis and order-update streams.
 */
import type pg from "pg";
import type { SubscribeResponse } from "@hft/contract/grpc/hft/v1/engine_service.js";
import type { Timestamp } from "@hft/contract/grpc/google/protobuf/timestamp.js";
import { CancelReason, OrderType, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";

/** An `orders` row as PostgreSQL returns it (numeric and bigint as strings). */
export interface OrderRow {
  order_id: string;
  account_id: string;
  client_order_id: string;
  instrument_id: number;
  side: "buy" | "sell";
  order_type: string;
  time_in_force: string;
  price: string | null;
  stop_price: string | null;
  quantity: string;
  display_quantity: string | null;
  filled_quantity: string;
  filled_notional: string;
  status: string;
  reject_reason: string | null;
  cancel_reason: string | null;
  post_only: boolean;
  self_trade_prevention: string;
  created_at: Date;
  updated_at: Date;
  last_sequence: string;
  /** Computed in SQL: what is left while the order is open, else 0. */
  remaining_quantity: string;
  /** Computed in SQL: filled notional over filled quantity; null before the first fill. */
  average_fill_price: string | null;
}

export interface ExecutionRow {
  trade_id: string;
  liquidity: "maker" | "taker";
  order_id: string;
  account_id: string;
  instrument_id: number;
  side: "buy" | "sell";
  price: string;
  quantity: string;
  fee: string;
  executed_at: Date;
  sequence: string;
}

/** A `positions` row as POSITION_COLUMNS selects it: decimals as text, rounded as GetPositions shows them. */
export interface PositionRow {
  account_id: string;
  instrument_id: number;
  /** Signed: positive long, negative short. */
  net_quantity: string;
  /** Rounded to 18 decimal places. */
  average_price: string;
  /** Rounded to 18 decimal places. */
  realized_pnl: string;
  updated_at: Date;
  last_sequence: string;
}

export interface AppliedBatch {
  /** Every order the batch touched, in its state after the batch, with the sequence of that state. */
  readonly orders: OrderRow[];
  readonly executions: ExecutionRow[];
  /** Every position the batch's executions changed, in its state after the batch. */
  readonly positions: PositionRow[];
  /** Events that could not be recorded (an order id or client order id already taken, say). */
  readonly skipped: string[];
  readonly firstSequence: bigint;
  readonly lastSequence: bigint;
}

const sides: Record<number, "buy" | "sell"> = { [Side.SIDE_BUY]: "buy", [Side.SIDE_SELL]: "sell" };
const orderTypes: Record<number, string> = {
  [OrderType.ORDER_TYPE_LIMIT]: "limit",
  [OrderType.ORDER_TYPE_MARKET]: "market",
  [OrderType.ORDER_TYPE_STOP]: "stop",
  [OrderType.ORDER_TYPE_STOP_LIMIT]: "stop_limit",
};
const timesInForce: Record<number, string> = {
  [TimeInForce.TIME_IN_FORCE_GTC]: "gtc",
  [TimeInForce.TIME_IN_FORCE_IOC]: "ioc",
  [TimeInForce.TIME_IN_FORCE_FOK]: "fok",
  [TimeInForce.TIME_IN_FORCE_DAY]: "day",
};
const selfTradeModes: Record<number, string> = {
  [SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED]: "none",
  [SelfTradePrevention.SELF_TRADE_PREVENTION_CANCEL_RESTING]: "cancel_resting",
  [SelfTradePrevention.SELF_TRADE_PREVENTION_CANCEL_INCOMING]: "cancel_incoming",
  [SelfTradePrevention.SELF_TRADE_PREVENTION_CANCEL_BOTH]: "cancel_both",
};
const cancelReasons: Record<number, string> = {
  [CancelReason.CANCEL_REASON_USER_REQUESTED]: "user_requested",
  [CancelReason.CANCEL_REASON_IOC_REMAINDER]: "ioc_remainder",
  [CancelReason.CANCEL_REASON_MARKET_NO_LIQUIDITY]: "market_no_liquidity",
  [CancelReason.CANCEL_REASON_SELF_TRADE_PREVENTION]: "self_trade_prevention",
  [CancelReason.CANCEL_REASON_MASS_CANCEL]: "mass_cancel",
};

/** A protobuf Timestamp as a PostgreSQL timestamptz literal, to the microsecond. */
export function timestampLiteral(ts: Timestamp | undefined): string {
  const seconds = ts?.seconds ?? 0n;
  const micros = Math.floor((ts?.nanos ?? 0) / 1_000);
  const iso = new Date(Number(seconds) * 1_000).toISOString().slice(0, 19);
  return `${iso}.${String(micros).padStart(6, "0")}Z`;
}

export const ORDER_COLUMNS = `o.*,
  CASE WHEN o.status IN ('pending_trigger', 'new', 'partially_filled') THEN o.quantity - o.filled_quantity ELSE 0 END AS remaining_quantity,
  CASE WHEN o.filled_quantity > 0 THEN round(o.filled_notional / o.filled_quantity, 18) END AS average_fill_price`;

/** The columns of a PositionRow, from `positions p`. */
export const POSITION_COLUMNS = `p.account_id, p.instrument_id, p.net_quantity::text AS net_quantity,
  round(p.average_price, 18)::text AS average_price, round(p.realized_pnl, 18)::text AS realized_pnl, p.updated_at, p.last_sequence`;

export async function applyEvents(client: pg.ClientBase, shard: string, messages: readonly SubscribeResponse[]): Promise<AppliedBatch> {
  const orders = new Map<string, OrderRow>();
  const executions: ExecutionRow[] = [];
  const skipped: string[] = [];
  const keep = (rows: OrderRow[]) => rows.forEach((row) => orders.set(row.order_id, row));

  for (const message of messages) {
    const at = timestampLiteral(message.timestamp);
    const sequence = message.sequence.toString();
    for (const { event } of message.events) {
      switch (event?.$case) {
        case "orderAccepted": {
          const { orderId, order, status } = event.value;
          if (!order) break;
          const result = await client.query<OrderRow>(
            `INSERT INTO orders AS o (order_id, account_id, client_order_id, instrument_id, side, order_type, time_in_force,
                                 price, stop_price, quantity, display_quantity, status, post_only, self_trade_prevention,
                                 created_at, updated_at, last_sequence)
             SELECT $1, $2, $3, i.instrument_id, $4, $5, $6,
                    CASE WHEN $7::bigint > 0 THEN $7::bigint * i.tick_size END,
                    CASE WHEN $8::bigint > 0 THEN $8::bigint * i.tick_size END,
                    $9::bigint * i.lot_size,
                    CASE WHEN $10::bigint > 0 THEN $10::bigint * i.lot_size END,
                    $11, $12, $13, $14, $14, $15
               FROM instruments i WHERE i.instrument_id = $16
             ON CONFLICT DO NOTHING
             RETURNING ${ORDER_COLUMNS}`,
            [
              orderId.toString(),
              order.accountId.toString(),
              order.clientOrderId,
              sides[order.side],
              orderTypes[order.type],
              timesInForce[order.timeInForce],
              order.priceTicks.toString(),
              order.stopPriceTicks.toString(),
              order.quantityLots.toString(),
              order.displayQuantityLots.toString(),
              status === 1 ? "pending_trigger" : "new",
              order.postOnly,
              selfTradeModes[order.selfTradePrevention] ?? "none",
              at,
              sequence,
              order.instrumentId,
            ],
          );
          if (result.rowCount === 0) skipped.push(`sequence ${sequence}: order ${orderId} (client order id ${order.clientOrderId}) is already recorded or its instrument is unknown`);
          keep(result.rows);
          break;
        }
        case "trade": {
          const t = event.value;
          const makerSide = t.aggressorSide === Side.SIDE_BUY ? "sell" : "buy";
          const takerSide = sides[t.aggressorSide];
          for (const [liquidity, orderId, accountId, side, remaining] of [
            ["maker", t.makerOrderId, t.makerAccountId, makerSide, t.makerRemainingLots],
            ["taker", t.takerOrderId, t.takerAccountId, takerSide, t.takerRemainingLots],
          ] as const) {
            const filled = await client.query<OrderRow>(
              `UPDATE orders AS o
                  SET filled_quantity = o.filled_quantity + $2::bigint * i.lot_size,
                      filled_notional = o.filled_notional + $3::bigint * i.tick_size * $2::bigint * i.lot_size,
                      status = CASE WHEN $4::bigint = 0 THEN 'filled' ELSE 'partially_filled' END,
                      updated_at = $5, last_sequence = $6
                 FROM instruments i
                WHERE o.order_id = $1 AND i.instrument_id = o.instrument_id
               RETURNING ${ORDER_COLUMNS}`,
              [orderId.toString(), t.quantityLots.toString(), t.priceTicks.toString(), remaining.toString(), at, sequence],
            );
            keep(filled.rows);
            const execution = await client.query<ExecutionRow>(
              `INSERT INTO executions (trade_id, liquidity, order_id, account_id, instrument_id, side, price, quantity, executed_at, sequence)
               SELECT $1, $2, $3, $4, i.instrument_id, $5, $6::bigint * i.tick_size, $7::bigint * i.lot_size, $8, $9
                 FROM instruments i WHERE i.instrument_id = $10 AND EXISTS (SELECT 1 FROM orders WHERE order_id = $3)
               ON CONFLICT DO NOTHING
               RETURNING *`,
              [t.tradeId.toString(), liquidity, orderId.toString(), accountId.toString(), side, t.priceTicks.toString(), t.quantityLots.toString(), at, sequence, t.instrumentId],
            );
            if (execution.rowCount === 0) {
              skipped.push(`sequence ${sequence}: the ${liquidity} side of trade ${t.tradeId} (order ${orderId}) is already recorded or its order is unknown`);
              continue;
            }
            executions.push(...execution.rows);
            const fill = execution.rows[0]!;
            await client.query("SELECT apply_position_fill($1, $2, $3, $4, $5, $6, $7)", [
              fill.account_id,
              fill.instrument_id,
              fill.side,
              fill.price,
              fill.quantity,
              at,
              sequence,
            ]);
          }
          break;
        }
        case "orderCancelled":
          keep(await setStatus(client, event.value.orderId, "cancelled", cancelReasons[event.value.reason] ?? null, at, sequence));
          break;
        case "orderExpired":
          keep(await setStatus(client, event.value.orderId, "expired", null, at, sequence));
          break;
        case "stopTriggered":
          keep(await setStatus(client, event.value.orderId, "new", null, at, sequence));
          break;
        case "orderReplaced": {
          const r = event.value;
          const replaced = await client.query<OrderRow>(
            `UPDATE orders AS o
                SET price = CASE WHEN $2::bigint > 0 THEN $2::bigint * i.tick_size ELSE o.price END,
                    quantity = $3::bigint * i.lot_size, updated_at = $4, last_sequence = $5
               FROM instruments i
              WHERE o.order_id = $1 AND i.instrument_id = o.instrument_id
             RETURNING ${ORDER_COLUMNS}`,
            [r.orderId.toString(), r.priceTicks.toString(), r.quantityLots.toString(), at, sequence],
          );
          keep(replaced.rows);
          break;
        }
        default:
          // Rejections never created an order row (the caller got the answer directly); book
          // levels, instrument definitions and session ends are not order state.
          break;
      }
    }
  }

  const positions = executions.length > 0 ? await positionsOf(client, executions) : [];
  const lastSequence = messages.length > 0 ? messages[messages.length - 1]!.sequence : 0n;
  if (messages.length > 0) {
    await client.query(
      `INSERT INTO engine_checkpoints (shard, last_sequence, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (shard) DO UPDATE SET last_sequence = EXCLUDED.last_sequence, updated_at = now()`,
      [shard, lastSequence.toString()],
    );
  }
  return { orders: [...orders.values()], executions, positions, skipped, firstSequence: messages[0]?.sequence ?? 0n, lastSequence };
}

/** The positions of the executions' accounts and instruments, as they now stand: one query per batch. */
async function positionsOf(client: pg.ClientBase, executions: readonly ExecutionRow[]): Promise<PositionRow[]> {
  const pairs = new Map(executions.map((e) => [`${e.account_id}/${e.instrument_id}`, e]));
  const result = await client.query<PositionRow>(
    `SELECT ${POSITION_COLUMNS} FROM positions p
      WHERE (p.account_id, p.instrument_id) IN (SELECT * FROM unnest($1::bigint[], $2::int[]))
      ORDER BY p.account_id, p.instrument_id`,
    [[...pairs.values()].map((e) => e.account_id), [...pairs.values()].map((e) => e.instrument_id)],
  );
  return result.rows;
}

async function setStatus(client: pg.ClientBase, orderId: bigint, status: string, cancelReason: string | null, at: string, sequence: string): Promise<OrderRow[]> {
  const result = await client.query<OrderRow>(
    `UPDATE orders AS o SET status = $2, cancel_reason = coalesce($3, o.cancel_reason), updated_at = $4, last_sequence = $5
      WHERE o.order_id = $1 RETURNING ${ORDER_COLUMNS}`,
    [orderId.toString(), status, cancelReason, at, sequence],
  );
  return result.rows;
}

/** The shard's last applied sequence; 0 before the first batch. */
export async function readCheckpoint(client: pg.Pool | pg.ClientBase, shard: string): Promise<bigint> {
  const result = await client.query<{ last_sequence: string }>("SELECT last_sequence FROM engine_checkpoints WHERE shard = $1", [shard]);
  return BigInt(result.rows[0]?.last_sequence ?? 0);
}
