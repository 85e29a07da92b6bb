/**
 * The analytics consumer's benchmark as a function (bench/consume.ts prints it; the harness in
 * /bench records it beside a bare Kafka consumer): against the local stack's Kafka and
 * PostgreSQL, with a database and a topic of its own (6 partitions, as hft.executions.v1):
 *
 *   1. backlog: `fills` fills (both sides of random trades between `accounts` accounts in AAPL,
 *      MSFT, BTC-USD on two shards) are produced first, then the consumer starts; the rate is the
 *      count over the time from its start to the COMMIT of the last one;
 *   2. paced: fills are produced at `rate` fills/s for `pacedSeconds`, each stamped with its send
 *      time as execute time; the delay of a fill is its COMMIT time minus that stamp, and the lag
 *      (messages in the topic not yet committed with the figures) is sampled every 100 ms.
 *
 * The consumer is the service's own (FigureStore + ExecutionConsumer, wired as main.ts wires
 * them), run in this process so every commit is timed exactly; the gRPC server is left out (it
 * only reads). `afterwards` runs once the consumer has stopped, on the same topic, before the
 * topic and the database are dropped.
 */
import "../../scripts/test-env.js";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { Kafka } from "kafkajs";
import { createKafkaClient, createLogger, createMigrator, kafkaConfig, loadConfig } from "@hft/service-kit";
import { createTestDatabase } from "@hft/service-kit/testing";
import { type ExecutionTopic, type TestFill, createExecutionTopic } from "../tests/execution-topic.js";
import { ExecutionConsumer, startOffsetsOf } from "../src/execution-consumer.js";
import { FigureStore } from "../src/figure-store.js";
import { Names } from "../src/names.js";
import { LIVE_TABLES } from "../src/tables.js";

export interface ConsumptionOptions {
  readonly fills: number;
  readonly rate: number;
  readonly pacedSeconds: number;
  readonly accounts: number;
  /** Progress lines; none by default. */
  readonly log?: (line: string) => void;
}

/** What `afterwards` gets: the Kafka client, the topic, and a maker of fills for the run's accounts, stamped when made. */
export interface ConsumptionTopic {
  readonly kafka: Kafka;
  readonly topic: ExecutionTopic;
  readonly makeFills: (trades: number) => TestFill[];
}

export interface ConsumptionResult<T> {
  readonly backlog: { readonly fills: number; readonly seconds: number; readonly batches: number; readonly delaysMs: readonly number[] };
  readonly paced: { readonly fills: number; readonly producedSeconds: number; readonly appliedSeconds: number; readonly delaysMs: readonly number[]; readonly lags: readonly number[] };
  readonly afterwards: T;
}

const symbols = [
  { symbol: "AAPL", shard: "s1", base: 19_000n, scale: 0 },
  { symbol: "MSFT", shard: "s1", base: 41_000n, scale: 0 },
  { symbol: "BTC-USD", shard: "s2", base: 5_000_000n, scale: 4 },
];

/** A generator of both sides of random trades between `ids`, each stamped when it is made. */
function tradeMaker(ids: readonly string[]): (count: number) => TestFill[] {
  const sequences = new Map([["s1", 0n], ["s2", 0n]]);
  let tradeId = 0n;
  return function trades(count: number): TestFill[] {
    const fills: TestFill[] = [];
    const pick = (n: number) => Math.floor(Math.random() * n);
    for (let i = 0; i < count; i++) {
      const instrument = symbols[pick(symbols.length)]!;
      const taker = pick(ids.length);
      const maker = (taker + 1 + pick(ids.length - 1)) % ids.length;
      const sequence = sequences.get(instrument.shard)! + 1n;
      sequences.set(instrument.shard, sequence);
      tradeId += 1n;
      const cents = instrument.base + BigInt(pick(2_001)) - 1_000n;
      const units = BigInt(1 + pick(20));
      const common = {
        shard: instrument.shard,
        sequence,
        tradeId,
        symbol: instrument.symbol,
        price: `${cents / 100n}.${(cents % 100n).toString().padStart(2, "0")}`,
        quantity: instrument.scale === 0 ? units.toString() : `0.${units.toString().padStart(4, "0")}`,
        executedAt: new Date(),
      };
      const side = pick(2) === 0 ? "buy" : "sell";
      fills.push(
        { ...common, liquidity: "maker", account: `bench-a${maker}`, accountId: ids[maker]!, side: side === "buy" ? "sell" : "buy", fee: "-0.01" },
        { ...common, liquidity: "taker", account: `bench-a${taker}`, accountId: ids[taker]!, side, fee: "0.02" },
      );
    }
    return fills;
  };
}


/** Produces `rate` fills/s for `seconds` (in chunks, as they fall due); resolves with the count. */
export async function producePaced(topic: ExecutionTopic, makeFills: (trades: number) => TestFill[], rate: number, seconds: number): Promise<number> {
  const start = Date.now();
  const target = Math.round(rate * seconds);
  let sent = 0;
  while (sent < target) {
    const due = Math.min(target, Math.floor(((Date.now() - start) / 1000) * rate));
    if (due > sent) {
      const chunk = makeFills(Math.ceil((due - sent) / 2));
      await topic.send(chunk);
      sent += chunk.length;
    } else {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return sent;
}

export async function measureConsumption<T>(options: ConsumptionOptions, afterwards: (topic: ConsumptionTopic) => Promise<T>): Promise<ConsumptionResult<T>> {
  const log = options.log ?? (() => undefined);
  const kafka = createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: "analytics-bench" });
  const db = await createTestDatabase("analytics_bench");
  const topic = await createExecutionTopic(kafka, 6);
  const admin = kafka.admin();
  let consumer: ExecutionConsumer | undefined;
  try {
    await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../../migrations", import.meta.url)) }).up();
    const ids: string[] = [];
    for (let i = 0; i < options.accounts; i++) {
      const { rows } = await db.pool.query<{ account_id: string }>("INSERT INTO accounts (name) VALUES ($1) RETURNING account_id", [`bench-a${i}`]);
      ids.push(rows[0]!.account_id);
    }
    const makeFills = tradeMaker(ids);

    // 1. backlog
    const backlog = makeFills(Math.ceil(options.fills / 2));
    const producedAt = Date.now();
    await topic.send(backlog);
    log(`produced ${backlog.length} fills in ${((Date.now() - producedAt) / 1000).toFixed(1)} s`);

    await admin.connect();
    const groupId = `analytics-bench-${randomBytes(4).toString("hex")}`;
    const names = new Names({ pool: db.pool });
    const store = new FigureStore({ pool: db.pool, tables: LIVE_TABLES, groupId, topic: topic.name, names, startOffset: startOffsetsOf(admin, topic.name) });
    let applied = 0;
    let batches = 0;
    let lastCommit = 0;
    let delays: number[] = [];
    consumer = new ExecutionConsumer({
      kafka,
      admin,
      topic: topic.name,
      groupId,
      store,
      logger: createLogger({ service: "analytics-bench", level: "warn" }),
      onCommitted: (_partition, result, committedAt) => {
        applied += result.applied.length;
        batches += 1;
        lastCommit = committedAt.getTime();
        for (const fill of result.applied) delays.push(committedAt.getTime() - fill.executedAt.getTime());
      },
    });
    const started = Date.now();
    await consumer.start();
    while (applied < backlog.length) await new Promise((resolve) => setTimeout(resolve, 20));
    const backlogResult = { fills: applied, seconds: (lastCommit - started) / 1000, batches, delaysMs: delays };
    log(`backlog: ${applied} fills applied in ${backlogResult.seconds.toFixed(2)} s = ${Math.round(applied / backlogResult.seconds)} fills/s, ${batches} batches (${Math.round(applied / batches)} fills per batch)`);

    // 2. paced
    delays = [];
    const pacedStart = Date.now();
    const lags: number[] = [];
    const sampler = setInterval(() => {
      void Promise.all([topic.endOffset(), store.storedOffsets()]).then(([end, stored]) => lags.push(Number(end - [...stored.values()].reduce((a, b) => a + b, 0n))));
    }, 100);
    const sent = await producePaced(topic, makeFills, options.rate, options.pacedSeconds);
    const producedSeconds = (Date.now() - pacedStart) / 1000;
    while (applied < backlog.length + sent) await new Promise((resolve) => setTimeout(resolve, 20));
    clearInterval(sampler);
    const paced = { fills: sent, producedSeconds, appliedSeconds: (lastCommit - pacedStart) / 1000, delaysMs: delays, lags };
    await consumer.stop();
    consumer = undefined;
    return { backlog: backlogResult, paced, afterwards: await afterwards({ kafka, topic, makeFills }) };
  } finally {
    await consumer?.stop().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await topic.delete();
    await db.drop();
  }
}
