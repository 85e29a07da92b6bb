/**
 * The analytics consumer's throughput and fill-to-figure delay against the local stack's Kafka and
 * PostgreSQL, with a database and a topic of its own (6 partitions, as hft.executions.v1):
 *
 *   1. backlog: `--fills` fills (both sides of random trades between `--accounts` accounts in
 *      AAPL, MSFT, BTC-USD) are produced first, then the consumer starts; fills/s consumed and
 *      applied is the count over the time from start to the COMMIT of the last one;
 *   2. paced: fills are produced at `--rate` fills/s for `--paced-seconds`, each stamped with its
 *      send time as execute time; the delay of a fill is its COMMIT time minus that stamp, and the
 *      lag (messages in the topic not yet committed with the figures) is sampled every 100 ms.
 *
 * The consumer is the service's own (FigureStore + ExecutionConsumer, wired as main.ts wires them),
 * run in this process so every commit is timed exactly; the gRPC server is left out (it only reads).
 *
 *   node --conditions=@hft/source --import tsx analytics-service/bench/consume.ts --fills=100000 --rate=2000 --paced-seconds=10
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createKafkaClient, createLogger, createMigrator, kafkaConfig, loadConfig } from "@hft/service-kit";
import { createTestDatabase } from "@hft/service-kit/testing";
import "../../scripts/test-env.js";
import { type TestFill, createExecutionTopic } from "../tests/execution-topic.js";
import { ExecutionConsumer, startOffsetsOf } from "../src/execution-consumer.js";
import { FigureStore } from "../src/figure-store.js";
import { Names } from "../src/names.js";
import { LIVE_TABLES } from "../src/tables.js";

const { values: args } = parseArgs({
  options: {
    fills: { type: "string", default: "100000" },
    rate: { type: "string", default: "2000" },
    "paced-seconds": { type: "string", default: "10" },
    accounts: { type: "string", default: "64" },
  },
});
const backlogFills = Number(args.fills);
const rate = Number(args.rate);
const pacedSeconds = Number(args["paced-seconds"]);
const accountCount = Number(args.accounts);
for (const [name, value, max] of [["fills", backlogFills, 2_000_000], ["rate", rate, 100_000], ["paced-seconds", pacedSeconds, 120], ["accounts", accountCount, 10_000]] as const) {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    console.error(`--${name} must be a whole number from 1 to ${max}, got ${value}`);
    process.exit(2);
  }
}

const symbols = [
  { symbol: "AAPL", shard: "s1", base: 19_000n, scale: 0 },
  { symbol: "MSFT", shard: "s1", base: 41_000n, scale: 0 },
  { symbol: "BTC-USD", shard: "s2", base: 5_000_000n, scale: 4 },
];
const sequences = new Map([["s1", 0n], ["s2", 0n]]);
let tradeId = 0n;

/** Both sides of `trades` random trades, stamped `at()`. */
function trades(count: number, ids: readonly string[], at: () => Date): TestFill[] {
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
      executedAt: at(),
    };
    const side = pick(2) === 0 ? "buy" : "sell";
    fills.push(
      { ...common, liquidity: "maker", account: `bench-a${maker}`, accountId: ids[maker]!, side: side === "buy" ? "sell" : "buy", fee: "-0.01" },
      { ...common, liquidity: "taker", account: `bench-a${taker}`, accountId: ids[taker]!, side, fee: "0.02" },
    );
  }
  return fills;
}

/** A line of the report on stdout. */
const print = (line: string) => process.stdout.write(`${line}\n`);
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const ms = (value: number) => `${value.toFixed(1)} ms`;

const kafka = createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: "analytics-bench" });
const db = await createTestDatabase("analytics_bench");
const topic = await createExecutionTopic(kafka, 6);
const admin = kafka.admin();
let consumer: ExecutionConsumer | undefined;
try {
  await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../../migrations", import.meta.url)) }).up();
  const ids: string[] = [];
  for (let i = 0; i < accountCount; i++) {
    const { rows } = await db.pool.query<{ account_id: string }>("INSERT INTO accounts (name) VALUES ($1) RETURNING account_id", [`bench-a${i}`]);
    ids.push(rows[0]!.account_id);
  }

  // 1. backlog
  const backlog = trades(Math.ceil(backlogFills / 2), ids, () => new Date());
  const producedAt = Date.now();
  await topic.send(backlog);
  print(`produced ${backlog.length} fills in ${((Date.now() - producedAt) / 1000).toFixed(1)} s`);

  await admin.connect();
  const groupId = `analytics-bench-${randomBytes(4).toString("hex")}`;
  const names = new Names({ pool: db.pool });
  const store = new FigureStore({ pool: db.pool, tables: LIVE_TABLES, groupId, topic: topic.name, names, startOffset: startOffsetsOf(admin, topic.name) });
  let applied = 0;
  let batches = 0;
  let lastCommit = 0;
  const delays: number[] = [];
  let pacing = false;
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
      if (pacing) for (const fill of result.applied) delays.push(committedAt.getTime() - fill.executedAt.getTime());
    },
  });
  const started = Date.now();
  await consumer.start();
  while (applied < backlog.length) await new Promise((resolve) => setTimeout(resolve, 20));
  const backlogSeconds = (lastCommit - started) / 1000;
  print(`backlog: ${applied} fills applied in ${backlogSeconds.toFixed(2)} s = ${Math.round(applied / backlogSeconds)} fills/s, ${batches} batches (${Math.round(applied / batches)} fills per batch)`);

  // 2. paced
  pacing = true;
  const pacedStart = Date.now();
  const lags: number[] = [];
  const sampler = setInterval(() => {
    void Promise.all([topic.endOffset(), store.storedOffsets()]).then(([end, stored]) => lags.push(Number(end - [...stored.values()].reduce((a, b) => a + b, 0n))));
  }, 100);
  let sent = 0;
  const target = rate * pacedSeconds;
  while (sent < target) {
    const due = Math.min(target, Math.floor(((Date.now() - pacedStart) / 1000) * rate));
    if (due > sent) {
      const chunk = trades(Math.ceil((due - sent) / 2), ids, () => new Date());
      await topic.send(chunk);
      sent += chunk.length;
    } else {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  const pacedProduced = (Date.now() - pacedStart) / 1000;
  const expected = backlog.length + sent;
  while (applied < expected) await new Promise((resolve) => setTimeout(resolve, 20));
  clearInterval(sampler);
  delays.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  print(`paced: ${sent} fills at ${Math.round(sent / pacedProduced)} fills/s for ${pacedProduced.toFixed(1)} s`);
  print(`fill -> figure delay: p50 ${ms(quantile(delays, 0.5))}, p90 ${ms(quantile(delays, 0.9))}, p99 ${ms(quantile(delays, 0.99))}, max ${ms(delays[delays.length - 1] ?? Number.NaN)} over ${delays.length} fills`);
  print(`lag while paced: p50 ${quantile(lags, 0.5)}, max ${lags[lags.length - 1]} messages over ${lags.length} samples`);
} finally {
  await consumer?.stop().catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
  await topic.delete();
  await db.drop();
}
process.exit(0);
