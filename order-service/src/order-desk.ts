/**
 * The order path: who may act for which account, decimals to ticks and lots, idempotency on
 * (account, client_order_id), routing to the engine shard, and the answer from the engine's
 * durable acknowledgement. Reads come from the projection in PostgreSQL.
 */
import { createHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import type pg from "pg";
import { Registry } from "prom-client";
import { DecimalError, type Identity, formatScaled, fromUnits, toUnits } from "@hft/service-kit";
import type { CommandAck } from "@hft/contract/grpc/hft/v1/engine_service.js";
import {
  type CancelAllOrdersRequest,
  type CancelAllOrdersResponse,
  type CancelOrderRequest,
  type GetOrderRequest,
  Order,
  type PlaceOrderRequest,
  type ReplaceOrderRequest,
} from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderStatus, OrderType, RejectReason, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { type Account, type Catalog, type Instrument, namesOf } from "./catalog.js";
import { type EngineCommandBody, type EngineLink, EngineUnavailableError } from "./engine-link.js";
import { OrderMetrics, microsSince } from "./metrics.js";
import { ORDER_COLUMNS, type OrderRow } from "./projection/apply-events.js";
import { orderMessage, toTimestamp, trimDecimal } from "./projection/records.js";
import { OrderRateLimiter, type RiskLimits, checkOrderRisk } from "./risk.js";
import { type ShardConfig, shardOfOrder } from "./shards.js";

/** A refused request: the gRPC status, a stable reason for machines, a message for people. */
export class OrderError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "OrderError";
  }
}

export interface OrderDeskOptions {
  readonly pool: pg.Pool;
  readonly catalog: Catalog;
  readonly shards: readonly ShardConfig[];
  readonly links: ReadonlyMap<string, EngineLink>;
  /** How long a read after a cancel or replace waits for the projection to show it. */
  readonly projectionWaitMs?: number;
  /** Counts orders per account for max_orders_per_second (per process). */
  readonly rateLimiter?: OrderRateLimiter;
  /** Caches PlaceOrder answers by (account, client_order_id), so a retry is answered without PostgreSQL. */
  readonly redis?: { readonly client: Redis; readonly keyPrefix: string };
  readonly metrics?: OrderMetrics;
}

/** How long a PlaceOrder answer stays in Redis; PostgreSQL keeps it for good. */
const ANSWER_CACHE_SECONDS = 24 * 60 * 60;
/**
 * A client_order_id claimed this long ago with no answer and no projected order belongs to a
 * request that died before reaching the engine (the service crashed): a retry may take it over.
 */
const STALE_CLAIM_SECONDS = 120;

const openStatuses = new Set([OrderStatus.ORDER_STATUS_PENDING_TRIGGER, OrderStatus.ORDER_STATUS_NEW, OrderStatus.ORDER_STATUS_PARTIALLY_FILLED]);

export class OrderDesk {
  private readonly rateLimiter: OrderRateLimiter;
  private readonly metrics: OrderMetrics;

  constructor(private readonly options: OrderDeskOptions) {
    this.rateLimiter = options.rateLimiter ?? new OrderRateLimiter();
    this.metrics = options.metrics ?? new OrderMetrics(new Registry(), options.pool);
  }

  /** Forgets accounts with no order in the rate window; call it now and then. */
  sweepRateLimiter(): void {
    this.rateLimiter.sweep();
  }

  place(identity: Identity, request: PlaceOrderRequest): Promise<Order> {
    return this.measured("place", async () => {
      const account = await this.actingAccount(identity, request.account, true);
      const instrument = await this.instrument(request.symbol);
      const units = convert(() => ({
        price: request.price === "" ? 0n : toUnits(request.price, instrument.tickSize, "price"),
        stopPrice: request.stopPrice === "" ? 0n : toUnits(request.stopPrice, instrument.tickSize, "stop_price"),
        quantity: toUnits(request.quantity, instrument.lotSize, "quantity"),
        display: request.displayQuantity === "" ? 0n : toUnits(request.displayQuantity, instrument.lotSize, "display_quantity"),
      }));

      const hash = requestHash(request, account.name);
      const cached = await this.cachedAnswer(account, request.clientOrderId, hash);
      if (cached) return cached;
      const earlier = await this.claimClientOrderId(account, request.clientOrderId, hash);
      if (earlier) return earlier;
      try {
        await this.checkRisk(account, instrument, request, units.price, units.quantity);
      } catch (error) {
        await this.releaseClientOrderId(account, request.clientOrderId);
        throw error;
      }

      let ack: CommandAck;
      try {
        ack = await this.submit("place", instrument.shard, {
          $case: "newOrder",
          value: {
            accountId: account.id,
            instrumentId: instrument.id,
            clientOrderId: request.clientOrderId,
            side: request.side,
            type: request.type,
            timeInForce: request.timeInForce,
            priceTicks: units.price,
            stopPriceTicks: units.stopPrice,
            quantityLots: units.quantity,
            displayQuantityLots: units.display,
            postOnly: request.postOnly,
            selfTradePrevention: request.selfTradePrevention,
          },
        });
      } catch (error) {
        // Never sent: the key is free again, so a retry is a first attempt.
        if (error instanceof EngineUnavailableError && error.notSent) await this.releaseClientOrderId(account, request.clientOrderId);
        throw error;
      }
      const order = orderFromAck(ack, request, account, instrument);
      this.metrics.placed(order.status);
      await this.recordAnswer(account, request.clientOrderId, hash, order);
      return order;
    });
  }

  cancel(identity: Identity, request: CancelOrderRequest): Promise<Order> {
    return this.measured("cancel", async () => {
      const owner = await this.ownedOrder(identity, request.orderId);
      const ack = await this.submit("cancel", this.shardOf(request.orderId).name, {
        $case: "cancelOrder",
        value: { accountId: BigInt(owner.account_id), orderId: BigInt(request.orderId) },
      });
      this.refuseRejected(ack, request.orderId);
      return this.afterChange(request.orderId, ack.sequence);
    });
  }

  replace(identity: Identity, request: ReplaceOrderRequest): Promise<Order> {
    return this.measured("replace", async () => {
      const owner = await this.ownedOrder(identity, request.orderId);
      const instrument = await this.instrumentById(owner.instrument_id);
      const units = convert(() => ({
        price: request.price === "" ? 0n : toUnits(request.price, instrument.tickSize, "price"),
        quantity: request.quantity === "" ? 0n : toUnits(request.quantity, instrument.lotSize, "quantity"),
      }));
      const ack = await this.submit("replace", this.shardOf(request.orderId).name, {
        $case: "replaceOrder",
        value: { accountId: BigInt(owner.account_id), orderId: BigInt(request.orderId), newPriceTicks: units.price, newQuantityLots: units.quantity },
      });
      this.refuseRejected(ack, request.orderId);
      return this.afterChange(request.orderId, ack.sequence);
    });
  }

  /**
   * Cancels the account's open orders (of one symbol, or on every shard), engaging the kill
   * switch first when asked so that nothing new slips in meanwhile. Releasing the switch is for
   * admins and cancels nothing.
   */
  async cancelAll(identity: Identity, request: CancelAllOrdersRequest): Promise<CancelAllOrdersResponse> {
    const account = await this.actingAccount(identity, request.account, !request.releaseKillSwitch);
    if (request.releaseKillSwitch) {
      if (identity.role !== "admin") throw new OrderError(grpc.status.PERMISSION_DENIED, "ADMIN_ONLY", "only admins release a kill switch");
      await this.options.pool.query("UPDATE risk_limits SET kill_switch = false, updated_at = now() WHERE account_id = $1", [account.id.toString()]);
      return { cancelledCount: 0, killSwitchEngaged: false };
    }
    if (request.engageKillSwitch) {
      await this.options.pool.query(
        `INSERT INTO risk_limits (account_id, kill_switch) VALUES ($1, true)
         ON CONFLICT (account_id) DO UPDATE SET kill_switch = true, updated_at = now()`,
        [account.id.toString()],
      );
    }
    const instrument = request.symbol === "" ? undefined : await this.instrument(request.symbol, false);
    const shards = instrument ? [instrument.shard] : this.options.shards.map((s) => s.name);
    const acks = await Promise.all(
      shards.map((shard) => this.submit("cancel_all", shard, { $case: "massCancel", value: { accountId: account.id, instrumentId: instrument?.id } })),
    );
    const cancelledCount = acks.flatMap((ack) => ack.events).filter((e) => e.event?.$case === "orderCancelled").length;
    const { rows } = await this.options.pool.query<{ kill_switch: boolean }>("SELECT kill_switch FROM risk_limits WHERE account_id = $1", [account.id.toString()]);
    return { cancelledCount, killSwitchEngaged: rows[0]?.kill_switch ?? false };
  }

  async get(identity: Identity, request: GetOrderRequest): Promise<Order> {
    const row = await this.ownedOrder(identity, request.orderId);
    return orderMessage(row, await namesOf(this.options.catalog, [row]));
  }

  /**
   * The account's risk limits against its position, open orders and the last trade, all read in
   * one query from the projection. An account without a risk_limits row has no limits.
   */
  private async checkRisk(account: Account, instrument: Instrument, request: PlaceOrderRequest, price: bigint, quantity: bigint): Promise<void> {
    const { rows } = await this.options.pool.query<{
      max_order_quantity: string | null;
      max_order_notional: string | null;
      max_position: string | null;
      price_collar_bps: number | null;
      max_orders_per_second: number | null;
      kill_switch: boolean;
      net_quantity: string | null;
      open_buy: string;
      open_sell: string;
      last_price: string | null;
    }>(
      `SELECT r.max_order_quantity::text, r.max_order_notional::text, r.max_position::text, r.price_collar_bps,
              r.max_orders_per_second, r.kill_switch,
              (SELECT p.net_quantity::text FROM positions p WHERE p.account_id = r.account_id AND p.instrument_id = $2) AS net_quantity,
              (SELECT coalesce(sum(o.quantity - o.filled_quantity) FILTER (WHERE o.side = 'buy'), 0)::text FROM orders o
                WHERE o.account_id = r.account_id AND o.instrument_id = $2 AND o.status IN ('pending_trigger', 'new', 'partially_filled')) AS open_buy,
              (SELECT coalesce(sum(o.quantity - o.filled_quantity) FILTER (WHERE o.side = 'sell'), 0)::text FROM orders o
                WHERE o.account_id = r.account_id AND o.instrument_id = $2 AND o.status IN ('pending_trigger', 'new', 'partially_filled')) AS open_sell,
              (SELECT e.price::text FROM executions e WHERE e.instrument_id = $2 ORDER BY e.sequence DESC LIMIT 1) AS last_price
         FROM risk_limits r WHERE r.account_id = $1`,
      [account.id.toString(), instrument.id],
    );
    const row = rows[0];
    if (!row) return;
    const limits: RiskLimits = {
      maxOrderQuantity: row.max_order_quantity,
      maxOrderNotional: row.max_order_notional,
      maxPosition: row.max_position,
      priceCollarBps: row.price_collar_bps,
      maxOrdersPerSecond: row.max_orders_per_second,
      killSwitch: row.kill_switch,
    };
    const lots = (value: string) => toUnits(value, instrument.lotSize, "quantity", { allowZero: true, allowNegative: true });
    const types = { [OrderType.ORDER_TYPE_LIMIT]: "limit", [OrderType.ORDER_TYPE_MARKET]: "market", [OrderType.ORDER_TYPE_STOP]: "stop", [OrderType.ORDER_TYPE_STOP_LIMIT]: "stop_limit" } as const;
    const decision = checkOrderRisk(
      {
        accountId: account.id.toString(),
        limits,
        instrument,
        order: {
          side: request.side === Side.SIDE_BUY ? "buy" : "sell",
          type: types[request.type as keyof typeof types],
          price: price === 0n ? undefined : price,
          quantity,
        },
        position: row.net_quantity === null ? 0n : lots(row.net_quantity),
        openBuyQuantity: lots(row.open_buy),
        openSellQuantity: lots(row.open_sell),
        lastTradePrice: row.last_price === null ? undefined : toUnits(row.last_price, instrument.tickSize, "price"),
      },
      this.rateLimiter,
    );
    if (!decision.ok) {
      const code = decision.rule === "orders_per_second" ? grpc.status.RESOURCE_EXHAUSTED : grpc.status.FAILED_PRECONDITION;
      throw new OrderError(code, decision.reason, `risk rule ${decision.rule}: ${decision.message}`);
    }
  }

  /** The account a caller may read: its own, or any for an admin. */
  readableAccount(identity: Identity, requested: string): Promise<Account> {
    return this.actingAccount(identity, requested, false);
  }

  private async actingAccount(identity: Identity, requested: string, trading: boolean): Promise<Account> {
    const name = requested || identity.account;
    if (name !== identity.account && identity.role !== "admin") {
      throw new OrderError(grpc.status.PERMISSION_DENIED, "NOT_ACCOUNT_OWNER", `${identity.account} may not act for account ${name}; only admins act for other accounts`);
    }
    if (trading && identity.role === "viewer") throw new OrderError(grpc.status.PERMISSION_DENIED, "VIEWER_CANNOT_TRADE", `${identity.account} has the viewer role and cannot trade`);
    const account = await this.options.catalog.account(name);
    if (!account) throw new OrderError(grpc.status.NOT_FOUND, "UNKNOWN_ACCOUNT", `account ${name} does not exist`);
    if (trading && account.status !== "active") throw new OrderError(grpc.status.FAILED_PRECONDITION, "ACCOUNT_NOT_ACTIVE", `account ${name} is ${account.status}`);
    return account;
  }

  private async instrument(symbol: string, trading = true): Promise<Instrument> {
    const instrument = await this.options.catalog.instrument(symbol);
    if (!instrument) throw new OrderError(grpc.status.NOT_FOUND, "UNKNOWN_SYMBOL", `symbol ${symbol} is not listed`);
    if (trading && instrument.tradingStatus !== "open") throw new OrderError(grpc.status.FAILED_PRECONDITION, "TRADING_NOT_OPEN", `${symbol} is ${instrument.tradingStatus}`);
    return instrument;
  }

  private async instrumentById(id: number): Promise<Instrument> {
    const instrument = await this.options.catalog.instrumentById(id);
    if (!instrument) throw new OrderError(grpc.status.INTERNAL, "UNKNOWN_INSTRUMENT", `instrument ${id} of a recorded order is not listed`);
    return instrument;
  }

  /** Runs an instruction, timing it and counting how it failed. */
  private async measured<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      return await run();
    } catch (error) {
      if (error instanceof OrderError) this.metrics.refused.inc({ operation, reason: error.reason });
      else this.metrics.executionErrors.inc({ operation, kind: error instanceof EngineUnavailableError ? "engine_unavailable" : "internal" });
      throw error;
    } finally {
      this.metrics.processing.observe({ operation, stage: "total" }, microsSince(start));
    }
  }

  /** Sends a command to the shard's engine and waits for its durable acknowledgement. */
  private async submit(operation: string, shard: string, command: EngineCommandBody): Promise<CommandAck> {
    const link = this.link(shard);
    const start = process.hrtime.bigint();
    try {
      return await link.submit(command);
    } finally {
      this.metrics.processing.observe({ operation, stage: "engine" }, microsSince(start));
    }
  }

  private link(shard: string): EngineLink {
    const link = this.options.links.get(shard);
    if (!link) throw new OrderError(grpc.status.UNAVAILABLE, "SHARD_NOT_CONFIGURED", `no engine is configured for shard ${shard}`);
    return link;
  }

  private shardOf(orderId: string): ShardConfig {
    const shard = shardOfOrder(this.options.shards, BigInt(orderId));
    if (!shard) throw new OrderError(grpc.status.NOT_FOUND, "UNKNOWN_ORDER", `order ${orderId} does not exist`);
    return shard;
  }

  /** The answer Redis holds for a retry; refuses the key when it was used for a different order. */
  private async cachedAnswer(account: Account, clientOrderId: string, requestHash: string): Promise<Order | undefined> {
    const { redis } = this.options;
    if (!redis) return undefined;
    const cached = await this.metrics
      .time("redis", "get_answer", () => redis.client.get(answerKey(redis.keyPrefix, account, clientOrderId)))
      .catch(() => null); // Redis is a cache: without it, PostgreSQL answers.
    if (!cached) return undefined;
    const { hash, order } = JSON.parse(cached) as { hash: string; order: string };
    if (hash !== requestHash) throw reusedKey(account, clientOrderId);
    return Order.decode(Buffer.from(order, "base64"));
  }

  /** Records the answer in PostgreSQL (the record), then in Redis (for fast retries). */
  private async recordAnswer(account: Account, clientOrderId: string, requestHash: string, order: Order): Promise<void> {
    // The answer is kept as the protobuf bytes, so a retry gets it exactly (JSON would round timestamps).
    const encoded = Buffer.from(Order.encode(order).finish()).toString("base64");
    await this.metrics.time("postgres", "record_answer", () =>
      this.options.pool.query("UPDATE idempotency_keys SET order_id = $3, response = $4 WHERE account_id = $1 AND client_order_id = $2", [
        account.id.toString(),
        clientOrderId,
        order.orderId,
        { order: encoded },
      ]),
    );
    const { redis } = this.options;
    if (redis) {
      await this.metrics
        .time("redis", "set_answer", () => redis.client.set(answerKey(redis.keyPrefix, account, clientOrderId), JSON.stringify({ hash: requestHash, order: encoded }), "EX", ANSWER_CACHE_SECONDS))
        .catch(() => undefined);
    }
  }

  /**
   * Records the key before the order goes out. Returns the earlier answer when this is a retry;
   * refuses the key when it was used for a different order. A claim left by a request that died
   * before the engine saw it (no answer, no order, older than STALE_CLAIM_SECONDS) is taken over.
   */
  private async claimClientOrderId(account: Account, clientOrderId: string, requestHash: string): Promise<Order | undefined> {
    const key = [account.id.toString(), clientOrderId];
    const claimed = await this.metrics.time("postgres", "claim_client_order_id", () =>
      this.options.pool.query(
        `INSERT INTO idempotency_keys AS k (account_id, client_order_id, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, client_order_id) DO UPDATE SET request_hash = EXCLUDED.request_hash, created_at = now()
          WHERE k.response IS NULL AND k.created_at < now() - make_interval(secs => $4)
            AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.account_id = $1 AND o.client_order_id = $2)`,
        [...key, requestHash, STALE_CLAIM_SECONDS],
      ),
    );
    if (claimed.rowCount === 1) return undefined;
    const { rows } = await this.options.pool.query<{ request_hash: string; response: { order: string } | null }>(
      "SELECT request_hash, response FROM idempotency_keys WHERE account_id = $1 AND client_order_id = $2",
      key,
    );
    const earlier = rows[0];
    if (earlier && earlier.request_hash !== requestHash) throw reusedKey(account, clientOrderId);
    if (earlier?.response) return Order.decode(Buffer.from(earlier.response.order, "base64"));
    const projected = await this.options.pool.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.account_id = $1 AND o.client_order_id = $2`, key);
    if (projected.rows[0]) return orderMessage(projected.rows[0], await namesOf(this.options.catalog, projected.rows));
    throw new OrderError(
      grpc.status.ABORTED,
      "REQUEST_IN_FLIGHT",
      `an earlier request with client_order_id ${clientOrderId} has no outcome yet; retry shortly with the same client_order_id`,
    );
  }

  private async releaseClientOrderId(account: Account, clientOrderId: string): Promise<void> {
    await this.options.pool.query("DELETE FROM idempotency_keys WHERE account_id = $1 AND client_order_id = $2 AND response IS NULL", [account.id.toString(), clientOrderId]);
  }

  /** The recorded order, if the identity may see it; NOT_FOUND otherwise (another account's order is not revealed). */
  private async ownedOrder(identity: Identity, orderId: string): Promise<OrderRow> {
    const row = await this.waitForOrder(orderId, 0n);
    const account = row ? await this.options.catalog.accountById(BigInt(row.account_id)) : undefined;
    if (!row || (identity.role !== "admin" && account?.name !== identity.account)) {
      throw new OrderError(grpc.status.NOT_FOUND, "UNKNOWN_ORDER", `order ${orderId} does not exist for account ${identity.account}`);
    }
    return row;
  }

  /** The order as the projection records it once it holds `sequence`; waits a little for a fresh order or change. */
  private async waitForOrder(orderId: string, sequence: bigint): Promise<OrderRow | undefined> {
    const deadline = Date.now() + (this.options.projectionWaitMs ?? 2_000);
    for (;;) {
      const { rows } = await this.options.pool.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.order_id = $1 AND o.last_sequence >= $2`, [orderId, sequence.toString()]);
      if (rows[0] || Date.now() > deadline) return rows[0];
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private async afterChange(orderId: string, sequence: bigint): Promise<Order> {
    const row = await this.waitForOrder(orderId, sequence);
    if (!row) throw new OrderError(grpc.status.DEADLINE_EXCEEDED, "PROJECTION_BEHIND", `order ${orderId} changed at sequence ${sequence}, but the record has not caught up yet; read it again shortly`);
    return orderMessage(row, await namesOf(this.options.catalog, [row]));
  }

  private refuseRejected(ack: CommandAck, orderId: string): void {
    switch (ack.rejectReason) {
      case RejectReason.REJECT_REASON_UNSPECIFIED:
        return;
      case RejectReason.REJECT_REASON_UNKNOWN_ORDER:
        throw new OrderError(grpc.status.FAILED_PRECONDITION, "ORDER_NOT_OPEN", `order ${orderId} is no longer open`);
      default:
        throw new OrderError(grpc.status.FAILED_PRECONDITION, RejectReason[ack.rejectReason].replace("REJECT_REASON_", ""), `order ${orderId}: ${ack.rejectMessage}`);
    }
  }

}

/** What identifies a PlaceOrder request for idempotency: a retry must hash the same. */
export const requestHash = (request: PlaceOrderRequest, accountName: string) =>
  createHash("sha256").update(JSON.stringify({ ...request, account: accountName })).digest("hex");

const answerKey = (prefix: string, account: Account, clientOrderId: string) => `${prefix}order-answer:v1:${account.id}:${clientOrderId}`;

const reusedKey = (account: Account, clientOrderId: string) =>
  new OrderError(grpc.status.ALREADY_EXISTS, "CLIENT_ORDER_ID_REUSED", `client_order_id ${clientOrderId} was already used by account ${account.name} for a different order`);

function convert<T>(conversion: () => T): T {
  try {
    return conversion();
  } catch (error) {
    if (error instanceof DecimalError) throw new OrderError(grpc.status.INVALID_ARGUMENT, error.code, error.message);
    throw error;
  }
}

/** The new order as the engine's acknowledgement leaves it: accepted, filled, cancelled or rejected. */
export function orderFromAck(ack: CommandAck, request: PlaceOrderRequest, account: Account, instrument: Instrument): Order {
  const quantity = toUnits(request.quantity, instrument.lotSize, "quantity");
  let status = OrderStatus.ORDER_STATUS_NEW;
  let filledLots = 0n;
  let notional = 0n; // ticks x lots
  let cancelReason = 0;
  for (const { event } of ack.events) {
    if (event?.$case === "orderAccepted" && event.value.orderId === ack.orderId) status = event.value.status;
    if (event?.$case === "stopTriggered" && event.value.orderId === ack.orderId) status = OrderStatus.ORDER_STATUS_NEW;
    if (event?.$case === "trade" && (event.value.makerOrderId === ack.orderId || event.value.takerOrderId === ack.orderId)) {
      filledLots += event.value.quantityLots;
      notional += event.value.quantityLots * event.value.priceTicks;
    }
    if (event?.$case === "orderCancelled" && event.value.orderId === ack.orderId) cancelReason = event.value.reason;
  }
  const rejected = ack.rejectReason !== RejectReason.REJECT_REASON_UNSPECIFIED;
  if (rejected) status = OrderStatus.ORDER_STATUS_REJECTED;
  else if (cancelReason !== 0) status = OrderStatus.ORDER_STATUS_CANCELLED;
  else if (filledLots === quantity) status = OrderStatus.ORDER_STATUS_FILLED;
  else if (filledLots > 0n) status = OrderStatus.ORDER_STATUS_PARTIALLY_FILLED;
  const at = ack.timestamp ? ack.timestamp : toTimestamp(new Date());
  return {
    orderId: ack.orderId.toString(),
    clientOrderId: request.clientOrderId,
    account: account.name,
    symbol: instrument.symbol,
    side: request.side,
    type: request.type,
    timeInForce: request.timeInForce,
    price: request.type === OrderType.ORDER_TYPE_MARKET || request.type === OrderType.ORDER_TYPE_STOP ? "" : trimDecimal(request.price),
    stopPrice: trimDecimal(request.stopPrice),
    quantity: trimDecimal(request.quantity),
    displayQuantity: trimDecimal(request.displayQuantity),
    filledQuantity: trimDecimal(fromUnits(filledLots, instrument.lotSize)),
    remainingQuantity: openStatuses.has(status) ? trimDecimal(fromUnits(quantity - filledLots, instrument.lotSize)) : "0",
    averageFillPrice: filledLots === 0n ? "" : trimDecimal(averagePrice(notional, filledLots, instrument.tickSize)),
    status,
    rejectReason: ack.rejectReason,
    rejectMessage: ack.rejectMessage,
    cancelReason,
    postOnly: request.postOnly,
    selfTradePrevention: request.selfTradePrevention,
    createTime: at,
    updateTime: at,
    sequence: ack.sequence,
  };
}

/** notional / lots ticks, as a price to 18 decimals (rounded down), exactly as PostgreSQL's round(…, 18) would for these values. */
function averagePrice(notionalTickLots: bigint, lots: bigint, tickSize: string): string {
  const scale = 18;
  const tickScaled = toUnits(tickSize, `0.${"0".repeat(scale - 1)}1`, "tick_size"); // tick size x 10^18
  return formatScaled((notionalTickLots * tickScaled) / lots, scale);
}
