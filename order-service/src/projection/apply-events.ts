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

/** An order's state as the batch leaves it, folded from its events: ticks and lots, converted in SQL. */
interface OrderFold {
  readonly orderId: string;
  /** Set when the batch accepted the order: the row to insert. */
  readonly accepted?: {
    readonly accountId: string;
    readonly clientOrderId: string;
    readonly instrumentId: number;
    readonly side: string;
    readonly orderType: string;
    readonly timeInForce: string;
    readonly stopPriceTicks: string;
    readonly displayLots: string;
    readonly postOnly: boolean;
    readonly selfTradePrevention: string;
    readonly createdAt: string;
  };
  /** Set by an acceptance or a replace with a price; null keeps the recorded price. */
  priceTicks: string | null;
  /** Set by an acceptance or a replace; null keeps the recorded quantity. */
  quantityLots: string | null;
  /** Fills of this batch: lots, and price ticks x lots. */
  fillLots: bigint;
  fillTickLots: bigint;
  /** null keeps the recorded status (or cancel reason). */
  status: string | null;
  cancelReason: string | null;
  updatedAt: string;
  lastSequence: string;
}

interface ExecutionFold {
  readonly tradeId: string;
  readonly liquidity: "maker" | "taker";
  readonly orderId: string;
  readonly accountId: string;
  readonly instrumentId: number;
  readonly side: "buy" | "sell";
  readonly priceTicks: string;
  readonly quantityLots: string;
  readonly at: string;
  readonly sequence: string;
}

/**
 * Folds the batch's events per order in memory, then writes them in a fixed number of set-based
 * statements whatever the batch's size: new orders, changed orders, executions, positions (fills
 * applied one by one in event order inside PostgreSQL, since each depends on the one before),
 * checkpoint. The rows PostgreSQL returns are the state after the whole batch, as applying the
 * events one at a time would leave it. Sequences the checkpoint already holds are left out: a
 * batch comes again after a COMMIT whose answer was lost (the connection reset as it committed),
 * and its fills must not be counted twice.
 */
export async function applyEvents(client: pg.ClientBase, shard: string, received: readonly SubscribeResponse[]): Promise<AppliedBatch> {
  // Locked, so that the check and the checkpoint's update are one step for whoever projects.
  const { rows: checkpoint } = await client.query<{ last_sequence: string }>("SELECT last_sequence FROM engine_checkpoints WHERE shard = $1 FOR UPDATE", [shard]);
  const committed = BigInt(checkpoint[0]?.last_sequence ?? 0);
  const messages = received.filter((m) => m.sequence > committed);
  const folds = new Map<string, OrderFold>();
  const executions: ExecutionFold[] = [];
  const skipped: string[] = [];
  const change = (orderId: bigint, at: string, sequence: string): OrderFold => {
    const id = orderId.toString();
    let fold = folds.get(id);
    if (!fold) {
      fold = { orderId: id, priceTicks: null, quantityLots: null, fillLots: 0n, fillTickLots: 0n, status: null, cancelReason: null, updatedAt: at, lastSequence: sequence };
      folds.set(id, fold);
    }
    fold.updatedAt = at;
    fold.lastSequence = sequence;
    return fold;
  };

  for (const message of messages) {
    const at = timestampLiteral(message.timestamp);
    const sequence = message.sequence.toString();
    for (const { event } of message.events) {
      switch (event?.$case) {
        case "orderAccepted": {
          const { orderId, order, status } = event.value;
          if (!order) break;
          const id = orderId.toString();
          if (folds.has(id)) {
            skipped.push(`sequence ${sequence}: order ${id} (client order id ${order.clientOrderId}) was accepted twice in one batch`);
            break;
          }
          folds.set(id, {
            orderId: id,
            accepted: {
              accountId: order.accountId.toString(),
              clientOrderId: order.clientOrderId,
              instrumentId: order.instrumentId,
              side: sides[order.side]!,
              orderType: orderTypes[order.type]!,
              timeInForce: timesInForce[order.timeInForce]!,
              stopPriceTicks: order.stopPriceTicks.toString(),
              displayLots: order.displayQuantityLots.toString(),
              postOnly: order.postOnly,
              selfTradePrevention: selfTradeModes[order.selfTradePrevention] ?? "none",
              createdAt: at,
            },
            priceTicks: order.priceTicks > 0n ? order.priceTicks.toString() : null,
            quantityLots: order.quantityLots.toString(),
            fillLots: 0n,
            fillTickLots: 0n,
            status: status === 1 ? "pending_trigger" : "new",
            cancelReason: null,
            updatedAt: at,
            lastSequence: sequence,
          });
          break;
        }
        case "trade": {
          const t = event.value;
          const makerSide = t.aggressorSide === Side.SIDE_BUY ? "sell" : "buy";
          // Maker before taker, as the engine reports them: a self-trade's two fills change one position in that order.
          for (const [liquidity, orderId, accountId, side, remaining] of [
            ["maker", t.makerOrderId, t.makerAccountId, makerSide, t.makerRemainingLots],
            ["taker", t.takerOrderId, t.takerAccountId, sides[t.aggressorSide]!, t.takerRemainingLots],
          ] as const) {
            const fold = change(orderId, at, sequence);
            fold.fillLots += t.quantityLots;
            fold.fillTickLots += t.quantityLots * t.priceTicks;
            fold.status = remaining === 0n ? "filled" : "partially_filled";
            executions.push({
              tradeId: t.tradeId.toString(),
              liquidity,
              orderId: orderId.toString(),
              accountId: accountId.toString(),
              instrumentId: t.instrumentId,
              side,
              priceTicks: t.priceTicks.toString(),
              quantityLots: t.quantityLots.toString(),
              at,
              sequence,
            });
          }
          break;
        }
        case "orderCancelled": {
          const fold = change(event.value.orderId, at, sequence);
          fold.status = "cancelled";
          fold.cancelReason = cancelReasons[event.value.reason] ?? fold.cancelReason;
          break;
        }
        case "orderExpired":
          change(event.value.orderId, at, sequence).status = "expired";
          break;
        case "stopTriggered":
          change(event.value.orderId, at, sequence).status = "new";
          break;
        case "orderReplaced": {
          const r = event.value;
          const fold = change(r.orderId, at, sequence);
          if (r.priceTicks > 0n) fold.priceTicks = r.priceTicks.toString();
          fold.quantityLots = r.quantityLots.toString();
          break;
        }
        default:
          // Rejections never created an order row (the caller got the answer directly); book
          // levels, instrument definitions and session ends are not order state.
          break;
      }
    }
  }

  const all = [...folds.values()];
  const inserted = await insertOrders(client, all.filter((f) => f.accepted));
  for (const fold of all) {
    if (fold.accepted && !inserted.some((row) => row.order_id === fold.orderId)) {
      skipped.push(`sequence ${fold.lastSequence}: order ${fold.orderId} (client order id ${fold.accepted.clientOrderId}) is already recorded or its instrument is unknown`);
    }
  }
  const updated = await updateOrders(client, all.filter((f) => !f.accepted));
  const recorded = await insertExecutions(client, executions);
  const recordedKeys = new Set(recorded.map((e) => `${e.trade_id}/${e.liquidity}`));
  const executedAt = new Map(executions.map((e) => [`${e.tradeId}/${e.liquidity}`, e.at]));
  for (const e of executions) {
    if (!recordedKeys.has(`${e.tradeId}/${e.liquidity}`)) {
      skipped.push(`sequence ${e.sequence}: the ${e.liquidity} side of trade ${e.tradeId} (order ${e.orderId}) is already recorded or its order is unknown`);
    }
  }
  if (recorded.length > 0) {
    await client.query("SELECT apply_position_fills($1, $2, $3, $4, $5, $6, $7)", [
      recorded.map((e) => e.account_id),
      recorded.map((e) => e.instrument_id),
      recorded.map((e) => e.side),
      recorded.map((e) => e.price),
      recorded.map((e) => e.quantity),
      // The event's own timestamp literal: a Date would drop the microseconds.
      recorded.map((e) => executedAt.get(`${e.trade_id}/${e.liquidity}`)),
      recorded.map((e) => e.sequence),
    ]);
  }

  const positions = recorded.length > 0 ? await positionsOf(client, recorded) : [];
  const lastSequence = messages.length > 0 ? messages[messages.length - 1]!.sequence : committed;
  if (messages.length > 0) {
    await client.query(
      `INSERT INTO engine_checkpoints (shard, last_sequence, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (shard) DO UPDATE SET last_sequence = EXCLUDED.last_sequence, updated_at = now()`,
      [shard, lastSequence.toString()],
    );
  }
  return { orders: [...inserted, ...updated], executions: recorded, positions, skipped, firstSequence: messages[0]?.sequence ?? 0n, lastSequence };
}

/** Column arrays of `rows`, one per field, for `unnest`. */
function columns<T, K extends keyof T>(rows: readonly T[], keys: readonly K[]): T[K][][] {
  return keys.map((key) => rows.map((row) => row[key]));
}

async function insertOrders(client: pg.ClientBase, folds: readonly OrderFold[]): Promise<OrderRow[]> {
  if (folds.length === 0) return [];
  const rows = folds.map((f) => ({ ...f.accepted!, ...f, fillLots: f.fillLots.toString(), fillTickLots: f.fillTickLots.toString() }));
  const result = await client.query<OrderRow>(
    `INSERT INTO orders AS o (order_id, account_id, client_order_id, instrument_id, side, order_type, time_in_force,
                              price, stop_price, quantity, display_quantity, filled_quantity, filled_notional, status, cancel_reason,
                              post_only, self_trade_prevention, created_at, updated_at, last_sequence)
     SELECT n.order_id, n.account_id, n.client_order_id, i.instrument_id, n.side, n.order_type, n.time_in_force,
            n.price_ticks * i.tick_size,
            CASE WHEN n.stop_price_ticks > 0 THEN n.stop_price_ticks * i.tick_size END,
            n.quantity_lots * i.lot_size,
            CASE WHEN n.display_lots > 0 THEN n.display_lots * i.lot_size END,
            n.fill_lots * i.lot_size, n.fill_tick_lots * i.tick_size * i.lot_size, n.status, n.cancel_reason,
            n.post_only, n.self_trade_prevention, n.created_at, n.updated_at, n.last_sequence
       FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                   $10::bigint[], $11::bigint[], $12::numeric[], $13::numeric[], $14::text[], $15::text[], $16::boolean[], $17::text[],
                   $18::timestamptz[], $19::timestamptz[], $20::bigint[])
            AS n(order_id, account_id, client_order_id, instrument_id, side, order_type, time_in_force, price_ticks, stop_price_ticks,
                 quantity_lots, display_lots, fill_lots, fill_tick_lots, status, cancel_reason, post_only, self_trade_prevention,
                 created_at, updated_at, last_sequence)
       JOIN instruments i ON i.instrument_id = n.instrument_id
     ON CONFLICT DO NOTHING
     RETURNING ${ORDER_COLUMNS}`,
    columns(rows, [
      "orderId", "accountId", "clientOrderId", "instrumentId", "side", "orderType", "timeInForce", "priceTicks", "stopPriceTicks",
      "quantityLots", "displayLots", "fillLots", "fillTickLots", "status", "cancelReason", "postOnly", "selfTradePrevention",
      "createdAt", "updatedAt", "lastSequence",
    ]),
  );
  return result.rows;
}

/** Changes to orders recorded before the batch; an order id that is not recorded changes nothing. */
async function updateOrders(client: pg.ClientBase, folds: readonly OrderFold[]): Promise<OrderRow[]> {
  if (folds.length === 0) return [];
  const rows = folds.map((f) => ({ ...f, fillLots: f.fillLots.toString(), fillTickLots: f.fillTickLots.toString() }));
  const result = await client.query<OrderRow>(
    `UPDATE orders AS o
        SET price = coalesce(c.price_ticks * i.tick_size, o.price),
            quantity = coalesce(c.quantity_lots * i.lot_size, o.quantity),
            filled_quantity = o.filled_quantity + c.fill_lots * i.lot_size,
            filled_notional = o.filled_notional + c.fill_tick_lots * i.tick_size * i.lot_size,
            status = coalesce(c.status, o.status),
            cancel_reason = coalesce(c.cancel_reason, o.cancel_reason),
            updated_at = c.updated_at, last_sequence = c.last_sequence
       FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::numeric[], $5::numeric[], $6::text[], $7::text[], $8::timestamptz[], $9::bigint[])
              AS c(order_id, price_ticks, quantity_lots, fill_lots, fill_tick_lots, status, cancel_reason, updated_at, last_sequence),
            instruments i
      WHERE o.order_id = c.order_id AND i.instrument_id = o.instrument_id
     RETURNING ${ORDER_COLUMNS}`,
    columns(rows, ["orderId", "priceTicks", "quantityLots", "fillLots", "fillTickLots", "status", "cancelReason", "updatedAt", "lastSequence"]),
  );
  return result.rows;
}

/** Both sides of every trade whose order is recorded, in the batch's order (sequence, trade, maker first). */
async function insertExecutions(client: pg.ClientBase, executions: readonly ExecutionFold[]): Promise<ExecutionRow[]> {
  if (executions.length === 0) return [];
  const result = await client.query<ExecutionRow>(
    `INSERT INTO executions (trade_id, liquidity, order_id, account_id, instrument_id, side, price, quantity, executed_at, sequence)
     SELECT x.trade_id, x.liquidity, x.order_id, x.account_id, i.instrument_id, x.side, x.price_ticks * i.tick_size, x.quantity_lots * i.lot_size,
            x.executed_at, x.sequence
       FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::int[], $6::text[], $7::bigint[], $8::bigint[], $9::timestamptz[], $10::bigint[])
              WITH ORDINALITY AS x(trade_id, liquidity, order_id, account_id, instrument_id, side, price_ticks, quantity_lots, executed_at, sequence, position)
       JOIN instruments i ON i.instrument_id = x.instrument_id
      WHERE EXISTS (SELECT 1 FROM orders o WHERE o.order_id = x.order_id)
      ORDER BY x.position
     ON CONFLICT DO NOTHING
     RETURNING *`,
    columns(executions, ["tradeId", "liquidity", "orderId", "accountId", "instrumentId", "side", "priceTicks", "quantityLots", "at", "sequence"]),
  );
  // RETURNING does not promise the insertion order; the positions need it.
  const position = new Map(executions.map((e, i) => [`${e.tradeId}/${e.liquidity}`, i]));
  return result.rows.sort((a, b) => position.get(`${a.trade_id}/${a.liquidity}`)! - position.get(`${b.trade_id}/${b.liquidity}`)!);
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

/** The shard's last applied sequence; 0 before the first batch. */
export async function readCheckpoint(client: pg.Pool | pg.ClientBase, shard: string): Promise<bigint> {
  const result = await client.query<{ last_sequence: string }>("SELECT last_sequence FROM engine_checkpoints WHERE shard = $1", [shard]);
  return BigInt(result.rows[0]?.last_sequence ?? 0);
}
