/**
 * The order path: who may act for which account, decimals to ticks and lots, idempotency on
 * (account, client_order_id), routing to the engine shard, and the answer from the engine's
 * durable acknowledgement. Reads come from the projection in PostgreSQL.
 */
import * as grpc from "@grpc/grpc-js";
import { SpanKind, SpanStatusCode, type Tracer, context, trace } from "@opentelemetry/api";
import { peerServiceTracer, traceExemplar } from "@hft/otel";
import type { Redis } from "ioredis";
import type pg from "pg";
import { DecimalError, type Identity, emptyMetricsRegistry, formatScaled, fromUnits, toUnits } from "@hft/service-kit";
import type { CommandAck } from "@hft/contract/grpc/hft/v1/engine_service.js";
import {
  type CancelAllOrdersRequest,
  type CancelAllOrdersResponse,
  type CancelOrderRequest,
  type GetOrderRequest,
  type Order,
  type PlaceOrderRequest,
  type ReplaceOrderRequest,
} from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderStatus, OrderType, RejectReason, Side } from "@hft/contract/grpc/hft/v1/types.js";
import type { Batched } from "./batcher.js";
import { type Account, type Catalog, type Instrument, namesOf } from "./catalog.js";
import { ClientOrderIds, requestHash } from "./client-order-ids.js";
import { type EngineCommandBody, type EngineLink, EngineUnavailableError } from "./engine-link.js";
import { OrderMetrics, microsSince } from "./metrics.js";
import { OrderError } from "./order-error.js";
import { ORDER_COLUMNS, type OrderRow } from "./projection/apply-events.js";
import { orderMessage, toTimestamp, trimDecimal } from "./projection/records.js";
import type { SequenceTraces } from "./sequence-traces.js";
import { type RiskInputsKey, type RiskInputsRow, createRiskInputsReader } from "./risk-inputs.js";
import { OrderRateLimiter, type RiskLimits, checkOrderRisk } from "./risk.js";
import { type ShardConfig, shardOfOrder } from "./shards.js";

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
  /** Where the trace of each acknowledged command is kept for the projection. */
  readonly sequenceTraces?: SequenceTraces;
}

/** The engine's spans, built here from its acknowledgements (created on first use, after tracing started). */
let engineSpans: Tracer | undefined;
const engineTracer = (): Tracer => (engineSpans ??= peerServiceTracer("hft-engine"));

const openStatuses = new Set([OrderStatus.ORDER_STATUS_PENDING_TRIGGER, OrderStatus.ORDER_STATUS_NEW, OrderStatus.ORDER_STATUS_PARTIALLY_FILLED]);

export class OrderDesk {
  private readonly rateLimiter: OrderRateLimiter;
  private readonly metrics: OrderMetrics;

  private readonly clientOrderIds: ClientOrderIds;
  private readonly readRiskInputs: Batched<RiskInputsKey, RiskInputsRow | undefined>;

  constructor(private readonly options: OrderDeskOptions) {
    this.rateLimiter = options.rateLimiter ?? new OrderRateLimiter();
    this.metrics = options.metrics ?? new OrderMetrics(emptyMetricsRegistry(), options.pool);
    this.clientOrderIds = new ClientOrderIds({
      pool: options.pool,
      catalog: options.catalog,
      metrics: this.metrics,
      redis: options.redis,
      engineHead: (shard) => this.link(shard).head(),
    });
    this.readRiskInputs = createRiskInputsReader(options.pool, this.metrics);
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
      // The claim and the risk read go out together; the risk rules judge only a first attempt.
      const riskInputs = this.readRiskInputs({ accountId: account.id.toString(), instrumentId: instrument.id });
      riskInputs.catch(() => undefined); // awaited below unless this is a retry
      const earlier = await this.clientOrderIds.claim(account, request.clientOrderId, hash, instrument.shard);
      if (earlier) return earlier;
      try {
        this.checkRisk(await riskInputs, instrument, request, units.price, units.quantity, account);
      } catch (error) {
        await this.clientOrderIds.release(account, request.clientOrderId);
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
        // Never sent: the key is free again, so a retry is a first attempt. Sent, not acknowledged:
        // the claim names the engine process, so a retry knows when that one is gone.
        if (error instanceof EngineUnavailableError && error.notSent) await this.clientOrderIds.release(account, request.clientOrderId);
        else if (error instanceof EngineUnavailableError && error.engineInstance !== undefined) {
          await this.clientOrderIds.inDoubt(account, request.clientOrderId, error.engineInstance).catch(() => undefined); // unmarked, the claim goes stale as before
        }
        throw error;
      }
      const order = orderFromAck(ack, request, account, instrument);
      this.metrics.placed(order.status);
      await this.clientOrderIds.answered(account, request.clientOrderId, hash, order);
      return order;
    });
  }

  cancel(identity: Identity, request: CancelOrderRequest): Promise<Order> {
    return this.measured("cancel", async () => {
      refuseViewer(identity);
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
      refuseViewer(identity);
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

  /** The account's risk limits against its position, open orders and the last trade. */
  private checkRisk(row: RiskInputsRow | undefined, instrument: Instrument, request: PlaceOrderRequest, price: bigint, quantity: bigint, account: Account): void {
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
    if (trading) refuseViewer(identity);
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
      this.metrics.processing.observe({ labels: { operation, stage: "total" }, value: microsSince(start), exemplarLabels: traceExemplar() });
    }
  }

  /**
   * Sends a command to the shard's engine and waits for its durable acknowledgement. The wait is
   * the engine's span in the caller's trace (service hft-engine, from hand-over to acknowledgement,
   * with the moment the engine sequenced it), and the trace is kept for the projection's messages.
   */
  private async submit(operation: string, shard: string, command: EngineCommandBody): Promise<CommandAck> {
    const link = this.link(shard);
    const start = process.hrtime.bigint();
    const span = engineTracer().startSpan(`hft.v1.EngineService/OrderFlow ${command.$case}`, {
      kind: SpanKind.SERVER,
      attributes: { "hft.engine.shard": shard, "hft.engine.command": command.$case },
    });
    try {
      const ack = await link.submit(command);
      span.setAttributes({ "hft.engine.sequence": Number(ack.sequence), "hft.engine.reject_reason": RejectReason[ack.rejectReason] ?? String(ack.rejectReason) });
      if (ack.timestamp) span.addEvent("sequenced", [Number(ack.timestamp.seconds), ack.timestamp.nanos]);
      if (ack.sequence > 0n) this.options.sequenceTraces?.remember(shard, ack.sequence, trace.setSpan(context.active(), span));
      return ack;
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
      this.metrics.processing.observe({ labels: { operation, stage: "engine" }, value: microsSince(start), exemplarLabels: traceExemplar() });
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

/**
 * Viewers only read. Checked before the order is looked up, so a viewer is refused even its own
 * orders (a trader demoted to viewer) on direct gRPC, as the gateway refuses it.
 */
function refuseViewer(identity: Identity): void {
  if (identity.role === "viewer") throw new OrderError(grpc.status.PERMISSION_DENIED, "VIEWER_CANNOT_TRADE", `${identity.account} has the viewer role and cannot trade`);
}
