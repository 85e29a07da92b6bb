/**
 * The market maker: one bid and one ask of one symbol resting around the fair price, placed and
 * cancelled over one OrderEntry stream, moved when the others' best bid and offer move, skewed by
 * its position and withdrawn at max position. Its orders and fills come from StreamOrderUpdates,
 * which it resumes from the sequence after the last update it saw whenever it reconnects.
 *
 * A connection is the three streams (market data, order updates, order entry) together: when one
 * fails (the order service restarting answers UNAVAILABLE) all three are dropped, and it connects
 * again with backoff, first reading its open orders back so that it adopts the quotes it already
 * has instead of placing them twice. Client order ids name the run, the side and the quote's
 * generation, so a place retried across a reconnect is answered with the original order.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Execution,
  type Order,
  type OrderEntryRequestSchema,
  type OrderEntryResponse,
  OrderStatus,
  OrderType,
  type PlatformClients,
  RejectReasonSchema,
  Side,
  TimeInForce,
} from "@hft/sdk";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { type ActionPacer, createActionPacer } from "./action-pacer.js";
import { type BookView, type Instrument, createBookView } from "./book-view.js";
import type { MarketMakerConfig } from "./config.js";
import { fromSteps, toSteps } from "./decimal-steps.js";
import { fairPrice, needsRequote, targetQuotes } from "./quoting.js";
import { createRequestQueue } from "./request-queue.js";

export interface MarketMakerOptions {
  readonly config: MarketMakerConfig;
  readonly clients: PlatformClients;
  readonly logger: Logger;
  /** Names this run in client order ids; the start time by default. */
  readonly runId?: string;
}

/** How long a side rests after a refusal: doubled on each refusal in a row, up to the maximum. */
const REFUSAL_BACKOFF = { firstMs: 1000, maxMs: 30_000 }; // 1 s, 30 s
/** How long to wait before connecting again: doubled on each failure in a row, up to the maximum. */
const RECONNECT_BACKOFF = { firstMs: 250, maxMs: 2000 }; // 250 ms, 2 s
/** Deadline of each unary call (reads, and the cancels on the way out). */
const CALL_TIMEOUT_MS = 5000; // 5 s
/** Orders and fills remembered for deduplication; the oldest half is forgotten beyond this, so a long run stays small. */
const REMEMBERED = 10_000;

type SideName = "bid" | "ask";

interface QuoteSide {
  readonly name: SideName;
  readonly side: Side;
  /** The resting quote, as last seen open. */
  order?: Order;
  /** Client order id of the latest place; kept while its outcome is unknown, so a retry reuses it. */
  clientOrderId?: string;
  unconfirmed: boolean;
  generation: number;
  pausedUntil: number;
  backoffMs: number;
  resumeTimer?: NodeJS.Timeout;
}

type EntryAction = MessageInitShape<typeof OrderEntryRequestSchema>["action"];

const isOpen = (order: Order) => order.status === OrderStatus.NEW || order.status === OrderStatus.PARTIALLY_FILLED;
const rejectReasonName = (order: Order) => RejectReasonSchema.value[order.rejectReason]?.name ?? String(order.rejectReason);

export interface MarketMaker {
  /** Quotes until `signal` aborts, then cancels its quotes; rejects only when the symbol cannot be traded at all. */
  run(signal: AbortSignal): Promise<void>;
}

export function createMarketMaker({ config, clients, logger, runId = Date.now().toString(36) }: MarketMakerOptions): MarketMaker {
  const { orders, marketData } = clients;
  const runPrefix = `${config.idPrefix}-${runId}-`;
  const pacer: ActionPacer = createActionPacer(config.maxActionsPerSecond);
  const sides: Record<SideName, QuoteSide> = {
    bid: { name: "bid", side: Side.BUY, unconfirmed: false, generation: 0, pausedUntil: 0, backoffMs: 0 },
    ask: { name: "ask", side: Side.SELL, unconfirmed: false, generation: 0, pausedUntil: 0, backoffMs: 0 },
  };
  const sideOf = (side: Side) => (side === Side.BUY ? sides.bid : sides.ask);
  /** Orders of ours that are neither side's current quote: an earlier run's, or a superseded generation's. */
  const strays = new Map<string, Order>();
  const seenSequence = new Map<string, bigint>();
  const seenExecutions = new Map<string, true>();
  /** Remembers `key` in `seen`, forgetting the oldest half once it holds REMEMBERED. */
  function remember<V>(seen: Map<string, V>, key: string, value: V) {
    seen.set(key, value);
    if (seen.size <= REMEMBERED) return;
    for (const old of [...seen.keys()].slice(0, REMEMBERED / 2)) seen.delete(old);
  }

  let instrument: Instrument;
  let book: BookView;
  let quoting: { spreadTicks: bigint; quoteLots: bigint; maxPositionLots: bigint; thresholdTicks: bigint; referenceTicks?: bigint };
  let positionLots = 0n;
  let lastSequence = 0n;
  let bookReady = false;
  let send: ((action: EntryAction) => Promise<OrderEntryResponse>) | undefined;

  const ticks = (price: string) => toSteps(price, instrument.tickSize, "price");
  const lots = (quantity: string) => toSteps(quantity, instrument.lotSize, "quantity");
  const price = (tickCount: bigint) => fromSteps(tickCount, instrument.tickSize);
  const quantity = (lotCount: bigint) => fromSteps(lotCount, instrument.lotSize);

  async function loadInstrument() {
    const { instruments } = await marketData.listInstruments({}, { timeoutMs: CALL_TIMEOUT_MS });
    const found = instruments.find((candidate) => candidate.symbol === config.symbol);
    if (!found) throw new Error(`symbol ${config.symbol} is not listed (listed: ${instruments.map((i) => i.symbol).join(", ") || "none"})`);
    instrument = found;
    book = createBookView(found);
    quoting = {
      spreadTicks: BigInt(config.spreadTicks),
      quoteLots: toSteps(config.quoteSize, found.lotSize, "--quote-size"),
      maxPositionLots: toSteps(config.maxPosition, found.lotSize, "--max-position"),
      thresholdTicks: BigInt(config.requoteTicks),
      ...(config.referencePrice ? { referenceTicks: toSteps(config.referencePrice, found.tickSize, "--reference-price") } : {}),
    };
    const { positions } = await orders.getPositions({ symbol: config.symbol }, { timeoutMs: CALL_TIMEOUT_MS });
    const held = positions.find((position) => position.symbol === config.symbol);
    if (held) {
      positionLots = lots(held.netQuantity);
      lastSequence = held.sequence;
    }
    logger.info({ symbol: found.symbol, tickSize: found.tickSize, lotSize: found.lotSize, position: quantity(positionLots), runPrefix }, "instrument");
  }

  /**
   * Applies an order as any source reports it (a result, the update stream, a read), newest
   * sequence wins. Only the update stream advances the resume point: a result may overtake a fill
   * that the stream has not delivered yet.
   */
  function applyOrder(order: Order, fromUpdateStream = false) {
    if (order.symbol !== config.symbol || !order.clientOrderId.startsWith(`${config.idPrefix}-`)) return;
    const known = seenSequence.get(order.orderId);
    if (known !== undefined && order.sequence < known) return;
    remember(seenSequence, order.orderId, order.sequence);
    if (fromUpdateStream && order.sequence > lastSequence) lastSequence = order.sequence;
    const side = sideOf(order.side);
    const current = order.clientOrderId === side.clientOrderId;
    if (current && isOpen(order)) {
      side.order = order;
      side.unconfirmed = false;
    } else if (side.order?.orderId === order.orderId) {
      side.order = undefined;
      if (!isOpen(order)) logger.info({ side: side.name, orderId: order.orderId, clientOrderId: order.clientOrderId, status: OrderStatus[order.status] }, "quote closed");
    }
    if (!current && isOpen(order)) strays.set(order.orderId, order);
    else strays.delete(order.orderId);
  }

  function applyExecution(execution: Execution) {
    if (execution.symbol !== config.symbol) return;
    const key = `${execution.tradeId}/${execution.orderId}`;
    if (seenExecutions.has(key)) return;
    remember(seenExecutions, key, true);
    if (execution.sequence > lastSequence) lastSequence = execution.sequence;
    const filled = lots(execution.quantity);
    positionLots += execution.side === Side.BUY ? filled : -filled;
    const side = sideOf(execution.side).name;
    logger.info({ action: "fill", side, orderId: execution.orderId, price: execution.price, quantity: execution.quantity, position: quantity(positionLots), sequence: execution.sequence.toString() }, "filled");
  }

  function pause(side: QuoteSide) {
    side.backoffMs = Math.min(side.backoffMs === 0 ? REFUSAL_BACKOFF.firstMs : side.backoffMs * 2, REFUSAL_BACKOFF.maxMs);
    side.pausedUntil = Date.now() + side.backoffMs;
    clearTimeout(side.resumeTimer);
    side.resumeTimer = setTimeout(scheduleRequote, side.backoffMs);
    return side.backoffMs;
  }

  async function place(side: QuoteSide, target: bigint, signal: AbortSignal) {
    if (!side.unconfirmed || !side.clientOrderId) {
      side.generation += 1;
      side.clientOrderId = `${runPrefix}${side.name[0]}${side.generation}`;
      side.unconfirmed = true;
    }
    const clientOrderId = side.clientOrderId;
    const request = { clientOrderId, symbol: config.symbol, side: side.side, type: OrderType.LIMIT, timeInForce: TimeInForce.GTC, price: price(target), quantity: quantity(quoting.quoteLots), postOnly: true };
    await pacer.next(signal);
    const response = await send!({ case: "place", value: request });
    if (response.result.case === "order") {
      const order = response.result.value;
      side.unconfirmed = false;
      if (order.status === OrderStatus.REJECTED) {
        const retryInMs = pause(side);
        logger.warn({ action: "place", side: side.name, clientOrderId, price: request.price, reason: rejectReasonName(order), message: order.rejectMessage, retryInMs }, "quote rejected by the engine");
        return;
      }
      side.backoffMs = 0;
      applyOrder(order);
      logger.info({ action: "place", side: side.name, orderId: order.orderId, clientOrderId, price: order.price, quantity: order.quantity, status: OrderStatus[order.status] }, "placed");
      return;
    }
    const { code, reason, message } = response.result.value ?? { code: Code.Unknown, reason: "NO_RESULT", message: "OrderEntry answered without a result" };
    // UNAVAILABLE: the outcome is unknown, so the same client order id goes again (idempotent).
    if (code !== Code.Unavailable) side.unconfirmed = false;
    const retryInMs = pause(side);
    const risk = reason.startsWith("RISK_");
    logger.warn({ action: "place", side: side.name, clientOrderId, price: request.price, code: Code[code], reason, message, retryInMs }, risk ? "risk rejection: backing off the side" : "quote refused");
  }

  async function cancel(order: Order, sideName: SideName, signal: AbortSignal) {
    await pacer.next(signal);
    const response = await send!({ case: "cancel", value: { orderId: order.orderId } });
    if (response.result.case === "order") {
      applyOrder(response.result.value);
      logger.info({ action: "cancel", side: sideName, orderId: order.orderId, clientOrderId: order.clientOrderId, price: order.price, status: OrderStatus[response.result.value.status] }, "cancelled");
      return;
    }
    // Refused, typically because it has just been filled: read it back rather than guess.
    logger.warn({ action: "cancel", side: sideName, orderId: order.orderId, reason: response.result.value?.reason, message: response.result.value?.message }, "cancel refused");
    const { order: current } = await orders.getOrder({ orderId: order.orderId }, { timeoutMs: CALL_TIMEOUT_MS, signal });
    if (current) applyOrder(current);
  }

  function ownLevels() {
    const own = new Map<bigint, bigint>();
    for (const order of [sides.bid.order, sides.ask.order, ...strays.values()]) {
      if (order) own.set(ticks(order.price), (own.get(ticks(order.price)) ?? 0n) + lots(order.remainingQuantity));
    }
    return own;
  }

  async function requoteOnce(signal: AbortSignal) {
    for (const stray of [...strays.values()]) await cancel(stray, sideOf(stray.side).name, signal);
    const own = ownLevels();
    const fair = fairPrice({ bestBid: book.bestBid(own), bestAsk: book.bestAsk(own), lastTrade: book.lastTrade(), reference: quoting.referenceTicks });
    const targets = fair === undefined ? {} : targetQuotes(fair, positionLots, quoting);
    const moving = [sides.bid, sides.ask].filter((side) => {
      const resting = side.order ? ticks(side.order.price) : undefined;
      return Date.now() >= side.pausedUntil && (side.unconfirmed || needsRequote(resting, targets[side.name], quoting.thresholdTicks));
    });
    // Every cancel before any place: a bid moved up must not meet the ask still resting there.
    for (const side of moving) if (side.order) await cancel(side.order, side.name, signal);
    for (const side of moving) {
      const target = targets[side.name];
      if (target !== undefined && !side.order) await place(side, target, signal);
    }
  }

  let requoting: Promise<void> | undefined;
  let requoteWanted = false;
  let runSignal: AbortSignal;
  const connected = () => send !== undefined;
  /** Runs one requote pass after the current one, however many events asked for it meanwhile. */
  function scheduleRequote() {
    requoteWanted = true;
    if (requoting || !connected() || !bookReady || runSignal.aborted) return;
    requoting = (async function requoteWhileWanted() {
      while (requoteWanted && connected() && !runSignal.aborted) {
        requoteWanted = false;
        try {
          await requoteOnce(runSignal);
        } catch (error) {
          // A dropped connection is the connection loop's to report and recover.
          if (connected()) logger.warn({ err: error }, "requote failed");
          break;
        }
      }
      requoting = undefined;
    })();
  }

  /** Reads the open orders back after (re)connecting: ours that are current are adopted, others cancelled. */
  async function reconcile(signal: AbortSignal) {
    const { orders: open } = await orders.listOrders({ symbol: config.symbol, statuses: [OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED], pageSize: 1000 }, { timeoutMs: CALL_TIMEOUT_MS, signal });
    for (const side of [sides.bid, sides.ask]) if (side.order && !open.some((order) => order.orderId === side.order!.orderId)) side.order = undefined;
    for (const order of open) applyOrder(order);
    logger.info({ bid: sides.bid.order?.orderId ?? null, ask: sides.ask.order?.orderId ?? null, strays: strays.size }, "reconciled open orders");
  }

  /** One connection: until one of its streams fails or `signal` aborts. */
  async function connectOnce(signal: AbortSignal) {
    const connection = new AbortController();
    const linked = AbortSignal.any([signal, connection.signal]);
    await reconcile(linked);
    const fromSequence = lastSequence > 0n ? lastSequence + 1n : 0n;
    const requests = createRequestQueue<MessageInitShape<typeof OrderEntryRequestSchema>>();
    const pending = new Map<bigint, { resolve: (response: OrderEntryResponse) => void; reject: (error: unknown) => void }>();
    let nextRequestId = 1n;

    async function readEntry() {
      for await (const response of orders.orderEntry(requests.requests, { signal: linked })) {
        const waiter = pending.get(response.requestId);
        pending.delete(response.requestId);
        waiter?.resolve(response);
      }
      throw new ConnectError("the order-entry stream ended", Code.Unavailable);
    }
    async function readMarketData() {
      for await (const update of marketData.streamMarketData({ symbols: [config.symbol], depth: 50, includeL2: true, includeTrades: true }, { signal: linked })) {
        if (update.update.case === "snapshot") {
          book.applySnapshot(update.update.value);
          bookReady = true;
        } else if (update.update.case === "l2") book.applyDelta(update.update.value);
        else if (update.update.case === "trade") book.applyTrade(update.update.value.price);
        scheduleRequote();
      }
      throw new ConnectError("the market data stream ended", Code.Unavailable);
    }
    async function readOrderUpdates() {
      for await (const update of orders.streamOrderUpdates({ fromSequence, symbol: config.symbol }, { signal: linked })) {
        if (update.order) applyOrder(update.order, true);
        if (update.execution) applyExecution(update.execution);
        scheduleRequote();
      }
      throw new ConnectError("the order update stream ended", Code.Unavailable);
    }

    send = function sendAction(action) {
      const requestId = nextRequestId++;
      return new Promise((resolve, reject) => {
        pending.set(requestId, { resolve, reject });
        requests.push({ requestId, action });
      });
    };
    logger.info({ fromSequence: fromSequence.toString() }, fromSequence > 0n ? "connected, order updates resumed" : "connected");
    const streams = [readEntry(), readMarketData(), readOrderUpdates()];
    const stopped = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    scheduleRequote();
    try {
      await Promise.race([...streams, stopped]);
    } finally {
      send = undefined;
      bookReady = false;
      connection.abort();
      requests.close();
      for (const waiter of pending.values()) waiter.reject(new ConnectError("disconnected", Code.Unavailable));
      await Promise.allSettled([...streams, requoting]);
    }
  }

  /**
   * Cancels every open order of this run on the way out: read back, as a place sent just before
   * the stop may have been accepted without its result arriving; the known ones if that fails.
   */
  async function cancelEverything() {
    let open = [sides.bid.order, sides.ask.order, ...strays.values()].filter((order): order is Order => order !== undefined);
    try {
      const listed = await orders.listOrders({ symbol: config.symbol, statuses: [OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED], pageSize: 1000 }, { timeoutMs: CALL_TIMEOUT_MS });
      open = listed.orders.filter((order) => order.clientOrderId.startsWith(runPrefix) || strays.has(order.orderId));
    } catch (error) {
      logger.warn({ err: error }, "reading the open orders on the way out failed; cancelling the known ones");
    }
    let cancelled = 0;
    for (const order of open) {
      try {
        const { order: after } = await orders.cancelOrder({ orderId: order.orderId }, { timeoutMs: CALL_TIMEOUT_MS });
        cancelled += 1;
        logger.info({ action: "cancel", side: sideOf(order.side).name, orderId: order.orderId, clientOrderId: order.clientOrderId, status: after ? OrderStatus[after.status] : null }, "cancelled");
      } catch (error) {
        logger.warn({ orderId: order.orderId, err: error }, "cancel on the way out failed");
      }
    }
    return cancelled;
  }


  /**
   * A refused token as the error that stops the market maker: the same token again cannot help
   * (an expired one above all), and its quotes rest until someone with a valid token cancels them.
   */
  const tokenRefusal = (error: unknown): ConnectError | undefined =>
    error instanceof ConnectError && (error.code === Code.Unauthenticated || error.code === Code.PermissionDenied)
      ? new ConnectError(`the platform refused the token (${error.metadata.get("hft-reason") ?? Code[error.code]}: ${error.rawMessage}); quotes may still rest: cancel them with a valid token`, error.code, error.metadata)
      : undefined;

  return {
    async run(signal) {
      runSignal = signal;
      await loadInstrument().catch((error: unknown) => {
        throw tokenRefusal(error) ?? error;
      });
      let delayMs = 0;
      while (!signal.aborted) {
        const started = Date.now();
        try {
          await connectOnce(signal);
        } catch (error) {
          if (signal.aborted) break;
          const refusal = tokenRefusal(error);
          if (refusal) {
            for (const side of [sides.bid, sides.ask]) clearTimeout(side.resumeTimer);
            throw refusal;
          }
          // A connection that lasted resets the backoff; one that failed at once doubles it.
          delayMs = Date.now() - started > RECONNECT_BACKOFF.maxMs ? RECONNECT_BACKOFF.firstMs : Math.min(Math.max(delayMs * 2, RECONNECT_BACKOFF.firstMs), RECONNECT_BACKOFF.maxMs);
          const code = error instanceof ConnectError ? Code[error.code] : undefined;
          logger.warn({ code, message: error instanceof Error ? error.message : String(error), retryInMs: delayMs, lastSequence: lastSequence.toString() }, "disconnected, reconnecting");
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, delayMs);
            signal.addEventListener("abort", () => (clearTimeout(timer), resolve(undefined)), { once: true });
          });
        }
      }
      for (const side of [sides.bid, sides.ask]) clearTimeout(side.resumeTimer);
      const cancelled = await cancelEverything();
      logger.info({ cancelled, position: quantity(positionLots) }, "stopped");
    },
  };
}
