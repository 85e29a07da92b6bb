import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { Consumer, Producer } from "kafkajs";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaClient, createLogger, createMigrator, kafkaConfig, loadConfig } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { Execution, Order } from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderStatus, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { OrderFlowSession, defineBtc, limit } from "../../../tests/support/engine-commands.js";
import { type EngineProcess, startEngine } from "../../../tests/support/engine-process.js";
import { EXECUTIONS_TOPIC, ORDERS_TOPIC, Projector } from "./projector.js";

const logger = createLogger({ service: "projector-test", level: "warn" });
const kafka = createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: "projector-test" });
let db: TestDatabase;
let producer: Producer;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase("projector");
  await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../../../migrations", import.meta.url)) }).up();
  await db.pool.query("INSERT INTO accounts (name) VALUES ('alice'), ('bob')"); // account ids 1 and 2
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await producer.disconnect();
  await db.drop();
});

interface Consumed {
  topic: string;
  sequence: bigint;
  shard: string;
  value: Buffer;
}

/** Reads both topics from their current end, keeping only this test's shard. */
async function consumeFromNow(shard: string): Promise<{ messages: Consumed[]; consumer: Consumer }> {
  const consumer = kafka.consumer({ groupId: `projector-test-${randomUUID()}` });
  const messages: Consumed[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [ORDERS_TOPIC, EXECUTIONS_TOPIC], fromBeginning: false });
  let joined!: () => void;
  const ready = new Promise<void>((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (message.headers?.shard?.toString() !== shard) return;
      messages.push({ topic, shard, sequence: BigInt(message.headers["engine-sequence"]!.toString()), value: message.value! });
    },
  });
  await ready;
  cleanups.push(() => consumer.disconnect());
  return { messages, consumer };
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function engine(options?: Parameters<typeof startEngine>[0]): Promise<EngineProcess> {
  const e = await startEngine(options);
  cleanups.push(() => e.stop("SIGKILL"));
  return e;
}

describe("Projector", () => {
  it("records a fill between two accounts as orders, both executions, positions and Kafka messages, once", async () => {
    const shard = `shard-${randomUUID().slice(0, 8)}`;
    const kafkaSeen = await consumeFromNow(shard);
    const e = await engine();
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([
      defineBtc(1n),
      limit(2n, { account: 1n, side: Side.SIDE_SELL, price: 1_000_050n, quantity: 30n, clientOrderId: "alice-ask" }),
      limit(3n, { account: 2n, side: Side.SIDE_BUY, price: 1_000_100n, quantity: 20n, clientOrderId: "bob-bid" }),
    ]);
    const acks = await session.waitForAcks(3);

    const projector = new Projector({ shard, engineAddress: e.address, pool: db.pool, producer, logger });
    await projector.start();
    cleanups.push(() => projector.stop());
    await until(() => projector.appliedSequence === 3n, "sequence 3 to be applied");

    const orders = await db.pool.query("SELECT order_id, client_order_id, status, price::text, quantity::text, filled_quantity::text FROM orders ORDER BY order_id");
    expect(orders.rows).toEqual([
      { order_id: acks[1]!.orderId.toString(), client_order_id: "alice-ask", status: "partially_filled", price: "10000.50", quantity: "0.0030", filled_quantity: "0.0020" },
      { order_id: acks[2]!.orderId.toString(), client_order_id: "bob-bid", status: "filled", price: "10001.00", quantity: "0.0020", filled_quantity: "0.0020" },
    ]);
    const executions = await db.pool.query("SELECT liquidity, account_id, side, price::text, quantity::text, sequence FROM executions ORDER BY liquidity");
    expect(executions.rows).toEqual([
      { liquidity: "maker", account_id: "1", side: "sell", price: "10000.50", quantity: "0.0020", sequence: "3" },
      { liquidity: "taker", account_id: "2", side: "buy", price: "10000.50", quantity: "0.0020", sequence: "3" },
    ]);
    const positions = await db.pool.query("SELECT account_id, net_quantity::text, average_price::text FROM positions ORDER BY account_id");
    expect(positions.rows.map((r) => [r.account_id, Number(r.net_quantity), Number(r.average_price)])).toEqual([
      ["1", -0.002, 10000.5],
      ["2", 0.002, 10000.5],
    ]);
    expect((await db.pool.query("SELECT last_sequence FROM engine_checkpoints WHERE shard = $1", [shard])).rows).toEqual([{ last_sequence: "3" }]);

    // Kafka: one message per order per projected batch, so alice's order is published once or twice
    // (sequence 2 new, 3 partially filled) depending on how the engine's stream was batched; never
    // the same sequence twice, and each order's last message is its final state.
    await until(() => kafkaSeen.messages.filter((m) => m.topic === EXECUTIONS_TOPIC).length === 2, "two executions on Kafka");
    await until(() => kafkaSeen.messages.some((m) => m.topic === ORDERS_TOPIC && Order.decode(m.value).sequence === 3n && Order.decode(m.value).clientOrderId === "alice-ask"), "alice's fill on Kafka");
    const published = kafkaSeen.messages.filter((m) => m.topic === ORDERS_TOPIC).map((m) => Order.decode(m.value));
    const sequencesOf = (clientOrderId: string) => published.filter((o) => o.clientOrderId === clientOrderId).map((o) => o.sequence);
    expect([[2n, 3n], [3n]]).toContainEqual(sequencesOf("alice-ask"));
    expect(sequencesOf("bob-bid")).toEqual([3n]);
    const finalStates = published.filter((o) => o.sequence === 3n);
    expect(finalStates.map((o) => [o.clientOrderId, o.account, o.status, o.filledQuantity, o.averageFillPrice]).sort()).toEqual([
      ["alice-ask", "alice", OrderStatus.ORDER_STATUS_PARTIALLY_FILLED, "0.002", "10000.5"],
      ["bob-bid", "bob", OrderStatus.ORDER_STATUS_FILLED, "0.002", "10000.5"],
    ]);
    const fills = kafkaSeen.messages.filter((m) => m.topic === EXECUTIONS_TOPIC).map((m) => Execution.decode(m.value));
    expect(fills.map((f) => [f.account, f.symbol, f.side, f.price, f.quantity, f.sequence]).sort()).toEqual([
      ["alice", "BTC-USD", Side.SIDE_SELL, "10000.5", "0.002", 3n],
      ["bob", "BTC-USD", Side.SIDE_BUY, "10000.5", "0.002", 3n],
    ]);
  });

  it("resumes after its own restart and after the engine's, with no gap and no duplicate row", async () => {
    const shard = `shard-${randomUUID().slice(0, 8)}`;
    // Shards hand out disjoint order ids; this engine is another shard than the first test's.
    const e = await engine({ args: ["--first-order-id=1000000"] });
    const session = new OrderFlowSession(e.client.orderFlow());
    const order = (n: number) =>
      limit(BigInt(n), { account: BigInt(1 + (n % 2)), side: n % 2 ? Side.SIDE_SELL : Side.SIDE_BUY, price: BigInt(1_000_000 + (n % 3)), quantity: 1n, clientOrderId: `${shard}-${n}` });
    session.send([defineBtc(1n), ...Array.from({ length: 300 }, (_, i) => order(i + 2))]);
    await session.waitForAcks(301);

    const first = new Projector({ shard, engineAddress: e.address, pool: db.pool, producer, logger, maxBatch: 50 });
    await first.start();
    await until(() => first.appliedSequence >= 100n, "a first part to be applied");
    await first.stop(); // commits what it had received, then stops
    const stoppedAt = first.appliedSequence;

    session.send(Array.from({ length: 200 }, (_, i) => order(i + 302)));
    await session.waitForAcks(501);
    const second = new Projector({ shard, engineAddress: e.address, pool: db.pool, producer, logger, maxBatch: 50 });
    await second.start();
    cleanups.push(() => second.stop());
    // caughtUp is what a draining order service waits on before it stops.
    expect(await second.caughtUp(501n, 30_000), "all 501 sequences applied").toBe(true);
    expect(second.appliedSequence).toBe(501n);
    expect(await second.caughtUp(10_000n, 100), "a sequence the engine never assigned").toBe(false);
    expect(stoppedAt).toBeGreaterThanOrEqual(100n);

    // The engine restarts (SIGTERM keeps its data); the projection reconnects and goes on.
    expect(await e.stop("SIGTERM")).toBe(0);
    const restarted = await engine({ port: Number(e.address.split(":")[1]), dataDir: e.dataDir, args: ["--first-order-id=1000000"] });
    const again = new OrderFlowSession(restarted.client.orderFlow());
    again.send(Array.from({ length: 10 }, (_, i) => order(i + 502)));
    await again.waitForAcks(10);
    await until(() => second.appliedSequence === 511n, "the engine's new sequences after its restart");

    const counts = await db.pool.query<{ orders: string; distinct_sequences: string }>(
      "SELECT count(*) AS orders, count(DISTINCT client_order_id) AS distinct_sequences FROM orders WHERE client_order_id LIKE $1",
      [`${shard}-%`],
    );
    expect(counts.rows[0]).toEqual({ orders: "510", distinct_sequences: "510" });
  });
  it("stops while a batch waits to be retried with PostgreSQL out of reach, and a successor projects it", async () => {
    const shard = `shard-${randomUUID().slice(0, 8)}`;
    const e = await engine({ args: ["--first-order-id=2000000"] });
    // The pool as the projector sees it: connections refused while `down`, as during a restart.
    let down = false;
    let refused = 0;
    const pool = new Proxy(db.pool, {
      get(target, key) {
        if (key === "connect" && down) {
          return () => (refused++, Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })));
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as pg.Pool;
    const projector = new Projector({ shard, engineAddress: e.address, pool, producer, logger });
    await projector.start();
    down = true;
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([defineBtc(1n), limit(2n, { account: 1n, side: Side.SIDE_BUY, price: 1_000_000n, quantity: 1n, clientOrderId: `${shard}-1` })]);
    await session.waitForAcks(2);
    await until(() => refused >= 2, "the batch to fail and be retried");

    // Before the fix stop() waited on the retry's timer, which it had cleared itself: it never returned.
    const stopped = await Promise.race([projector.stop().then(() => "stopped"), new Promise((resolve) => setTimeout(() => resolve("still stopping after 10 s"), 10_000))]);
    expect(stopped).toBe("stopped");
    expect(projector.appliedSequence).toBe(0n);

    down = false;
    const successor = new Projector({ shard, engineAddress: e.address, pool: db.pool, producer, logger });
    await successor.start();
    cleanups.push(() => successor.stop());
    expect(await successor.caughtUp(2n, 30_000), "both sequences applied by the successor").toBe(true);
  });
});
