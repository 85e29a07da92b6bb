/**
 * The order flow of the order-service benchmarks (bench/load.ts and the harness in /bench): the
 * orders themselves, and OrderEntry streams driven closed loop (a window of instructions in
 * flight per stream) or open loop (instructions sent on a schedule, each timed from its scheduled
 * send time, so a slow answer never delays the next send).
 */
import { randomInt } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type { OrderEntryResponse, OrderServiceClient, PlaceOrderRequest } from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderType, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";

/**
 * A flow that keeps the book two-sided and trades: orders of one lot resting 1 to 20 ticks from a
 * mid of 100.00, alternating sides, every tenth an IOC that takes. `symbols` are used in turn
 * (several symbols spread the flow over shards).
 */
export function orderFor(index: number, run: string, symbols: readonly string[] = ["AAPL"]): PlaceOrderRequest {
  const buy = index % 2 === 0;
  const aggressive = index % 10 === 9;
  const ticks = aggressive ? 25 : 1 + randomInt(20);
  const price = (100 + (buy === aggressive ? ticks : -ticks) * 0.01).toFixed(2);
  return {
    clientOrderId: `${run}-${index}`,
    symbol: symbols[Math.floor(index / 2) % symbols.length]!,
    side: buy ? Side.SIDE_BUY : Side.SIDE_SELL,
    type: OrderType.ORDER_TYPE_LIMIT,
    timeInForce: aggressive ? TimeInForce.TIME_IN_FORCE_IOC : TimeInForce.TIME_IN_FORCE_GTC,
    price,
    stopPrice: "",
    quantity: "1",
    displayQuantity: "",
    postOnly: false,
    selfTradePrevention: SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
    account: "",
  };
}

export interface OrderEntryLoadOptions {
  readonly streams: number;
  /** At most this many instructions over all streams. */
  readonly count: number;
  /** Closed loop: instructions in flight per stream. */
  readonly window?: number;
  /** Open loop instead: instructions per second over all streams. */
  readonly ratePerSecond?: number;
  /** No instruction is sent after this many seconds; those in flight are still awaited. */
  readonly seconds?: number;
  readonly metadataFor: (stream: number) => grpc.Metadata;
  readonly orderFor: (index: number) => PlaceOrderRequest;
}

export interface OrderEntryLoadResult {
  readonly sent: number;
  /** Answers that were an order (accepted, or refused by the engine with a status). */
  readonly latenciesUs: number[];
  /** Refusals by reason. */
  readonly errors: Map<string, number>;
  /** From the first send to the last answer. */
  readonly seconds: number;
}

/** Sends place instructions on `streams` OrderEntry streams and waits for every answer. */
export async function driveOrderEntry(client: OrderServiceClient, options: OrderEntryLoadOptions): Promise<OrderEntryLoadResult> {
  const latenciesUs: number[] = [];
  const errors = new Map<string, number>();
  const start = process.hrtime.bigint();
  const deadline = options.seconds === undefined ? undefined : start + BigInt(Math.round(options.seconds * 1e9));
  const open = (now = process.hrtime.bigint()) => deadline === undefined || now < deadline;
  const perStream = Math.ceil(options.count / options.streams);
  let sentTotal = 0;
  await Promise.all(
    Array.from({ length: options.streams }, (_, s) => {
      const stream = client.orderEntry(options.metadataFor(s));
      const sentAt = new Map<bigint, bigint>();
      const first = s * perStream;
      const last = Math.min(options.count, first + perStream);
      let sent = 0;
      let done = false;
      const sendOne = (at: bigint) => {
        const index = first + sent++;
        sentTotal++;
        const requestId = BigInt(index + 1);
        sentAt.set(requestId, at);
        stream.write({ requestId, action: { $case: "place", value: options.orderFor(index) } });
      };
      const finishIfDone = () => {
        if (!done && sentAt.size === 0 && (first + sent >= last || !open())) {
          done = true;
          stream.end();
        }
      };
      return new Promise<void>((resolve, reject) => {
        stream.on("data", (response: OrderEntryResponse) => {
          const at = sentAt.get(response.requestId);
          if (at === undefined) return; // an unsolicited update (a fill), not an answer
          sentAt.delete(response.requestId);
          if (response.result?.$case === "error") errors.set(response.result.value.reason, (errors.get(response.result.value.reason) ?? 0) + 1);
          else latenciesUs.push(Number(process.hrtime.bigint() - at) / 1000);
          if (options.ratePerSecond === undefined && first + sent < last && open()) sendOne(process.hrtime.bigint());
          finishIfDone();
        });
        stream.on("error", (error: grpc.ServiceError) => reject(new Error(`OrderEntry stream ${s} failed: ${grpc.status[error.code] ?? error.code} ${error.details}`)));
        stream.on("end", () => resolve());
        if (first >= last) return void stream.end();
        if (options.ratePerSecond === undefined) {
          const window = options.window ?? 1;
          while (sent < Math.min(window, last - first)) sendOne(process.hrtime.bigint());
          return;
        }
        // Open loop: this stream's share of the rate; instruction k is due at start + k / rate and
        // is timed from then, whenever the 1 ms tick gets to send it.
        const nsPerInstruction = 1e9 / (options.ratePerSecond / options.streams);
        const tick = setInterval(() => {
          const now = process.hrtime.bigint();
          while (first + sent < last) {
            const due = start + BigInt(Math.round(sent * nsPerInstruction));
            if (due > now || !open(due)) break;
            sendOne(due);
          }
          if (first + sent >= last || !open(now)) {
            clearInterval(tick);
            finishIfDone();
          }
        }, 1);
      });
    }),
  );
  return { sent: sentTotal, latenciesUs, errors, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}
