/**
 * An engine's own record of what it did, read back over gRPC: its stats, books and instruments,
 * and every event from sequence 1 by Subscribe, folded into accepted and rejected orders and
 * trades. Tests compare a projection (PostgreSQL, Kafka) with it.
 */
import * as grpc from "@grpc/grpc-js";
import { expect } from "vitest";
import type {
  EngineServiceClient,
  GetBookSnapshotResponse,
  GetStatsResponse,
  ListShardInstrumentsResponse,
  SubscribeResponse,
} from "@hft/contract/grpc/hft/v1/engine_service.js";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";

function engineUnary<Res>(invoke: (callback: (error: grpc.ServiceError | null, response: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => invoke((error, response) => (error ? reject(error) : resolve(response))));
}
export const stats = (client: EngineServiceClient) => engineUnary<GetStatsResponse>((cb) => client.getStats({}, cb));
export const book = (client: EngineServiceClient, instrumentId: number) => engineUnary<GetBookSnapshotResponse>((cb) => client.getBookSnapshot({ instrumentId, depth: 0 }, cb));
export const shardInstruments = (client: EngineServiceClient) => engineUnary<ListShardInstrumentsResponse>((cb) => client.listShardInstruments({}, cb));

/** The engine's events from sequence 1 to its current last sequence, by Subscribe. */
async function engineEvents(client: EngineServiceClient): Promise<SubscribeResponse[]> {
  const { lastSequence } = await stats(client);
  const received: SubscribeResponse[] = [];
  if (lastSequence === 0n) return received;
  const stream = client.subscribe({ fromSequence: 1n });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (stream.cancel(), reject(new Error(`Subscribe gave ${received.length} of ${lastSequence} sequences`))), 30_000);
    stream.on("data", (message: SubscribeResponse) => {
      received.push(message);
      if (message.sequence === lastSequence) {
        clearTimeout(timer);
        stream.cancel();
        resolve(received);
      }
    });
    stream.on("error", (error: grpc.ServiceError) => {
      if (error.code === grpc.status.CANCELLED) return; // ours, once the last sequence arrived
      clearTimeout(timer);
      reject(error);
    });
  });
}

export interface EngineOrder {
  readonly orderId: bigint;
  readonly accountId: bigint;
  readonly clientOrderId: string;
  readonly instrumentId: number;
  readonly quantityLots: bigint;
  filledLots: bigint;
  cancelled: boolean;
}
export interface EngineTrade {
  readonly tradeId: bigint;
  readonly sequence: bigint;
  readonly priceTicks: bigint;
  readonly quantityLots: bigint;
  readonly aggressorSide: Side;
  readonly makerOrderId: bigint;
  readonly makerAccountId: bigint;
  readonly takerOrderId: bigint;
  readonly takerAccountId: bigint;
}
export interface EngineRecord {
  readonly lastSequence: bigint;
  readonly accepted: Map<bigint, EngineOrder>;
  /** Orders the engine refused: an id, but no order. */
  readonly rejected: Map<bigint, { accountId: bigint; clientOrderId: string }>;
  readonly trades: EngineTrade[];
}

export async function engineRecord(client: EngineServiceClient): Promise<EngineRecord> {
  const events = await engineEvents(client);
  events.forEach((m, i) => expect(m.sequence, "Subscribe is gap-free from 1").toBe(BigInt(i + 1)));
  const record: EngineRecord = { lastSequence: events.at(-1)?.sequence ?? 0n, accepted: new Map(), rejected: new Map(), trades: [] };
  for (const message of events) {
    for (const { event } of message.events) {
      switch (event?.$case) {
        case "orderAccepted": {
          const o = event.value.order!;
          expect(record.accepted.has(event.value.orderId), `order id ${event.value.orderId} accepted twice`).toBe(false);
          record.accepted.set(event.value.orderId, {
            orderId: event.value.orderId,
            accountId: o.accountId,
            clientOrderId: o.clientOrderId,
            instrumentId: o.instrumentId,
            quantityLots: o.quantityLots,
            filledLots: 0n,
            cancelled: false,
          });
          break;
        }
        case "orderRejected":
          record.rejected.set(event.value.orderId, { accountId: event.value.accountId, clientOrderId: event.value.clientOrderId });
          break;
        case "trade": {
          const t = event.value;
          record.trades.push({ ...t, sequence: message.sequence });
          for (const id of [t.makerOrderId, t.takerOrderId]) record.accepted.get(id)!.filledLots += t.quantityLots;
          break;
        }
        case "orderCancelled":
          record.accepted.get(event.value.orderId)!.cancelled = true;
          break;
        default:
          break;
      }
    }
  }
  return record;
}

/** How many times the engine took an order (accepted or rejected) for this account and client order id. */
export function timesInEngine(record: EngineRecord, accountId: bigint, clientOrderId: string): number {
  let count = 0;
  for (const o of [...record.accepted.values(), ...record.rejected.values()]) if (o.accountId === accountId && o.clientOrderId === clientOrderId) count++;
  return count;
}

/** The id of the order the engine accepted for this account and client order id, if any. */
export function engineOrderId(records: readonly EngineRecord[], accountId: bigint, clientOrderId: string): bigint | undefined {
  for (const record of records) for (const o of record.accepted.values()) if (o.accountId === accountId && o.clientOrderId === clientOrderId) return o.orderId;
  return undefined;
}

/** The executions rows a trade makes, as text: the maker's and the taker's, in the order (trade_id, liquidity). */
export function executionRowsOf(trades: Iterable<EngineTrade>): Record<string, string>[] {
  return [...trades]
    .sort((x, y) => (x.tradeId < y.tradeId ? -1 : x.tradeId > y.tradeId ? 1 : 0))
    .flatMap((t) => {
      const takerBuys = t.aggressorSide === Side.SIDE_BUY;
      const common = { trade_id: t.tradeId.toString(), price_ticks: t.priceTicks.toString(), lots: t.quantityLots.toString(), sequence: t.sequence.toString() };
      return [
        { ...common, liquidity: "maker", order_id: t.makerOrderId.toString(), account_id: t.makerAccountId.toString(), side: takerBuys ? "sell" : "buy" },
        { ...common, liquidity: "taker", order_id: t.takerOrderId.toString(), account_id: t.takerAccountId.toString(), side: takerBuys ? "buy" : "sell" },
      ];
    });
}
