import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigrator, toUnits } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import type { EngineCommand, SubscribeResponse } from "@hft/contract/grpc/hft/v1/engine_service.js";
import { OrderType, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import { OrderFlowSession, defineBtc } from "../../../tests/support/engine-commands.js";
import { type EngineProcess, startEngine } from "../../../tests/support/engine-process.js";
import { applyEvents } from "./apply-events.js";

const ACCOUNTS = 3;
const databases: TestDatabase[] = [];
let engine: EngineProcess;

async function freshDatabase(name: string): Promise<TestDatabase> {
  const db = await createTestDatabase(name);
  databases.push(db);
  await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../../../migrations", import.meta.url)) }).up();
  await db.pool.query("INSERT INTO accounts (name) SELECT 'trader-' || n FROM generate_series(1, $1) AS n", [ACCOUNTS]);
  return db;
}

beforeAll(async () => {
  engine = await startEngine();
});
afterAll(async () => {
  await engine.stop("SIGKILL");
  for (const db of databases) await db.drop();
});

/** A seeded generator, so a failure replays. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % n;
  };
}

/**
 * A flow that touches every kind of event: resting limits near one mid (so fills are frequent
 * and self-trades happen), IOC and market orders, stops, iceberg orders, cancels, and replaces
 * that shrink (keeping priority) or move the price.
 */
function mixedFlow(count: number, pick: (n: number) => number, openOrders: () => readonly { orderId: bigint; accountId: bigint }[]): () => EngineCommand {
  let correlation = 1n;
  return () => {
    const id = ++correlation;
    const account = BigInt(1 + pick(ACCOUNTS));
    const side = pick(2) === 0 ? Side.SIDE_BUY : Side.SIDE_SELL;
    const open = openOrders();
    const roll = pick(100);
    if (roll < 15 && open.length > 0) {
      const target = open[pick(open.length)]!;
      return { correlationId: id, command: { $case: "cancelOrder", value: { accountId: target.accountId, orderId: target.orderId } } };
    }
    if (roll < 25 && open.length > 0) {
      const target = open[pick(open.length)]!;
      const newPriceTicks = pick(2) === 0 ? 0n : BigInt(1_000_000 + pick(9) - 4);
      return { correlationId: id, command: { $case: "replaceOrder", value: { accountId: target.accountId, orderId: target.orderId, newPriceTicks, newQuantityLots: BigInt(1 + pick(4)) } } };
    }
    const type = roll < 32 ? OrderType.ORDER_TYPE_MARKET : roll < 36 ? OrderType.ORDER_TYPE_STOP_LIMIT : OrderType.ORDER_TYPE_LIMIT;
    const priceTicks = type === OrderType.ORDER_TYPE_MARKET ? 0n : BigInt(1_000_000 + pick(9) - 4);
    const quantityLots = BigInt(1 + pick(9));
    return {
      correlationId: id,
      command: {
        $case: "newOrder",
        value: {
          accountId: account,
          instrumentId: 1,
          clientOrderId: `o-${id}-${count}`,
          side,
          type,
          timeInForce: type === OrderType.ORDER_TYPE_MARKET || (roll >= 36 && roll < 45) ? TimeInForce.TIME_IN_FORCE_IOC : TimeInForce.TIME_IN_FORCE_GTC,
          priceTicks,
          stopPriceTicks: type === OrderType.ORDER_TYPE_STOP_LIMIT ? BigInt(1_000_000 + (side === Side.SIDE_BUY ? 2 : -2)) : 0n,
          quantityLots,
          displayQuantityLots: roll > 90 && quantityLots > 2n ? 2n : 0n,
          postOnly: false,
          selfTradePrevention: SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
        },
      },
    };
  };
}

function subscribeAll(until: bigint): Promise<SubscribeResponse[]> {
  const stream = engine.client.subscribe({ fromSequence: 1n });
  const received: SubscribeResponse[] = [];
  return new Promise((resolve, reject) => {
    stream.on("data", (message: SubscribeResponse) => {
      received.push(message);
      if (message.sequence === until) {
        stream.cancel();
        resolve(received);
      }
    });
    stream.on("error", (error: grpc.ServiceError) => error.code !== grpc.status.CANCELLED && reject(error));
  });
}

/** Projects `messages` in batches; with `again`, each batch is applied a second time, as after a COMMIT whose answer was lost. */
async function project(db: TestDatabase, messages: readonly SubscribeResponse[], batchSizes: () => number, again = false): Promise<void> {
  const apply = async (batch: readonly SubscribeResponse[]) => {
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      const applied = await applyEvents(client, "default", batch);
      await client.query("COMMIT");
      return applied;
    } finally {
      client.release();
    }
  };
  for (let at = 0; at < messages.length; ) {
    const batch = messages.slice(at, at + batchSizes());
    at += batch.length;
    expect((await apply(batch)).skipped).toEqual([]);
    if (!again) continue;
    const repeated = await apply(batch);
    expect([repeated.orders, repeated.executions, repeated.skipped, repeated.lastSequence]).toEqual([[], [], [], batch.at(-1)!.sequence]);
  }
}

const tables = {
  orders: "SELECT * FROM orders ORDER BY order_id",
  executions: "SELECT * FROM executions ORDER BY trade_id, liquidity",
  positions: "SELECT * FROM positions ORDER BY account_id, instrument_id",
};

async function contents(db: TestDatabase): Promise<Record<string, unknown[]>> {
  const entries = await Promise.all(Object.entries(tables).map(async ([name, sql]) => [name, (await db.pool.query(sql)).rows] as const));
  return Object.fromEntries(entries);
}

describe("applyEvents", () => {
  it("leaves the same orders, executions and positions whether a batch holds one engine message or hundreds, or comes twice", async () => {
    const pick = random(20_261_201);
    const session = new OrderFlowSession(engine.client.orderFlow());
    session.send([defineBtc(1n)]);
    await session.waitForAcks(1);
    // Open orders as the acks report them, for cancels and replaces that hit real orders.
    const open = new Map<bigint, { orderId: bigint; accountId: bigint }>();
    const next = mixedFlow(1, pick, () => [...open.values()]);
    for (let round = 0; round < 40; round++) {
      const commands = Array.from({ length: 50 }, next);
      const before = session.acks.length;
      session.send(commands);
      const acks = (await session.waitForAcks(before + commands.length)).slice(before);
      for (const ack of acks) {
        for (const { event } of ack.events) {
          if (event?.$case === "orderAccepted" && event.value.order) open.set(event.value.orderId, { orderId: event.value.orderId, accountId: event.value.order.accountId });
          if (event?.$case === "orderCancelled" || event?.$case === "orderExpired") open.delete(event.value.orderId);
          if (event?.$case === "trade") {
            if (event.value.makerRemainingLots === 0n) open.delete(event.value.makerOrderId);
            if (event.value.takerRemainingLots === 0n) open.delete(event.value.takerOrderId);
          }
        }
      }
    }
    const lastSequence = session.acks.at(-1)!.sequence;
    const messages = await subscribeAll(lastSequence);
    const kinds = new Set(messages.flatMap((m) => m.events.map((e) => e.event?.$case)));
    expect([...kinds].sort()).toEqual(expect.arrayContaining(["orderAccepted", "orderCancelled", "orderReplaced", "stopTriggered", "trade"]));

    const oneByOne = await freshDatabase("apply_one");
    const batched = await freshDatabase("apply_many");
    const repeated = await freshDatabase("apply_again");
    await project(oneByOne, messages, () => 1);
    await project(batched, messages, () => 1 + pick(400));
    await project(repeated, messages, () => 1 + pick(400), true);
    const single = await contents(oneByOne);
    expect(await contents(batched)).toEqual(single);
    expect(await contents(repeated)).toEqual(single);

    // And against the engine's events folded here, independently of SQL: filled lots per order
    // and net lots per account (lot size 0.0001 for BTC-USD).
    const filled = new Map<string, bigint>();
    const net = new Map<string, bigint>();
    for (const { event } of messages.flatMap((m) => m.events)) {
      if (event?.$case !== "trade") continue;
      const t = event.value;
      for (const [order, account, sign] of [
        [t.makerOrderId, t.makerAccountId, t.aggressorSide === Side.SIDE_BUY ? -1n : 1n],
        [t.takerOrderId, t.takerAccountId, t.aggressorSide === Side.SIDE_BUY ? 1n : -1n],
      ] as const) {
        filled.set(order.toString(), (filled.get(order.toString()) ?? 0n) + t.quantityLots);
        net.set(account.toString(), (net.get(account.toString()) ?? 0n) + sign * t.quantityLots);
      }
    }
    expect(filled.size).toBeGreaterThan(50);
    const lots = (quantity: string) => toUnits(quantity, "0.0001", "quantity", { allowZero: true, allowNegative: true });
    const orders = single.orders as { order_id: string; filled_quantity: string }[];
    for (const row of orders) expect(lots(row.filled_quantity), `order ${row.order_id}`).toBe(filled.get(row.order_id) ?? 0n);
    const positions = single.positions as { account_id: string; net_quantity: string }[];
    for (const row of positions) expect(lots(row.net_quantity), `account ${row.account_id}`).toBe(net.get(row.account_id) ?? 0n);
  });
});
