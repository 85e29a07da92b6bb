/**
 * The real analytics service as a child process against real Kafka and PostgreSQL: fills are
 * produced to a throwaway topic the way the order service's projection writes them, and the
 * figures are read back over gRPC.
 *
 * Isolation: every test file has its own databases, topic and consumer groups.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaClient, createMigrator, kafkaConfig, loadConfig } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import type { AnalyticsServiceClient, GetAnalyticsResponse } from "@hft/contract/grpc/hft/v1/analytics_service.js";
import { until } from "../../tests/support/until.js";
import { failure, getAnalytics, getDailyPnl, getSymbolStats, token } from "../tests/analytics-calls.js";
import { type AnalyticsProcess, runRebuild, startAnalytics } from "../tests/analytics-process.js";
import { type ExecutionTopic, type TestFill, createExecutionTopic, executionValue } from "../tests/execution-topic.js";

const kafka = createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: "analytics-int-test" });
const migrations = fileURLToPath(new URL("../../migrations", import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => console.error("cleanup failed:", error));
});

interface Platform {
  readonly db: TestDatabase;
  /** Account ids by name. */
  readonly ids: Record<string, string>;
}

async function platform(accounts: readonly string[]): Promise<Platform> {
  const db = await createTestDatabase("analytics");
  cleanups.push(() => db.drop());
  await createMigrator({ pool: db.pool, directory: migrations }).up();
  const ids: Record<string, string> = {};
  for (const name of accounts) {
    const { rows } = await db.pool.query<{ account_id: string }>("INSERT INTO accounts (name) VALUES ($1) RETURNING account_id", [name]);
    ids[name] = rows[0]!.account_id;
  }
  return { db, ids };
}

async function topic(partitions = 3): Promise<ExecutionTopic> {
  const t = await createExecutionTopic(kafka, partitions);
  cleanups.push(() => t.delete());
  return t;
}

async function service(db: TestDatabase, topicName: string, groupId: string, extra: Record<string, string> = {}): Promise<AnalyticsProcess> {
  const s = await startAnalytics({ DATABASE_URL: db.url, ANALYTICS_TOPIC: topicName, ANALYTICS_GROUP_ID: groupId, ...extra });
  cleanups.push(() => s.stop("SIGKILL"));
  return s;
}

/** Messages of the group's partitions stored as consumed. */
async function consumed(pool: pg.Pool, groupId: string): Promise<bigint> {
  const { rows } = await pool.query<{ total: string | null }>("SELECT sum(next_offset)::text AS total FROM analytics_consumer_offsets WHERE group_id = $1", [groupId]);
  return BigInt(rows[0]?.total ?? "0");
}

async function caughtUp(pool: pg.Pool, groupId: string, t: ExecutionTopic, timeoutMs = 60_000): Promise<void> {
  const end = await t.endOffset();
  let seen = 0n;
  await until(async () => (seen = await consumed(pool, groupId)) === end, () => `${groupId} to consume ${end} messages (at ${seen})`, timeoutMs);
}

// ------------------------------------------------------------------------------------------------

describe("analytics over gRPC, hand-worked", () => {
  const groupId = `analytics-int-${randomBytes(4).toString("hex")}`;
  let p: Platform;
  let t: ExecutionTopic;
  let s: AnalyticsProcess;
  let client: AnalyticsServiceClient;
  const todayStart = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const yesterday = (ms: number) => new Date(todayStart - 86_400_000 + ms);
  const today = (ms: number) => new Date(todayStart + ms);
  const day = (date: Date) => date.toISOString().slice(0, 10);

  /** Both sides of a trade: the taker's fill and the maker's. */
  function trade(
    shard: string,
    sequence: bigint,
    tradeId: bigint,
    symbol: string,
    taker: string,
    takerSide: "buy" | "sell",
    maker: string,
    quantity: string,
    price: string,
    at: Date,
    fees: { taker?: string; maker?: string } = {},
  ): TestFill[] {
    const common = { shard, sequence, tradeId, symbol, quantity, price, executedAt: at };
    return [
      { ...common, liquidity: "maker", account: maker, accountId: p.ids[maker]!, side: takerSide === "buy" ? "sell" : "buy", fee: fees.maker ?? "0" },
      { ...common, liquidity: "taker", account: taker, accountId: p.ids[taker]!, side: takerSide, fee: fees.taker ?? "0" },
    ];
  }

  beforeAll(async () => {
    p = await platform(["alice", "bob", "carol", "root"]);
    t = await topic();
    const t1 = trade("s1", 1n, 1n, "AAPL", "alice", "buy", "bob", "10", "100", yesterday(10 * 3_600_000), { taker: "0.5", maker: "-0.1" });
    const t2 = trade("s1", 2n, 2n, "AAPL", "alice", "buy", "bob", "5", "110", yesterday(12 * 3_600_000), { taker: "0.25" });
    const t3 = trade("s1", 3n, 3n, "AAPL", "alice", "sell", "bob", "12", "120", yesterday(86_399_500), { taker: "0.6" });
    // One order sweeping two levels: one sequence, two trades.
    const t4 = [...trade("s1", 4n, 4n, "AAPL", "alice", "sell", "bob", "2", "119", today(250)), ...trade("s1", 4n, 5n, "AAPL", "alice", "sell", "bob", "3", "118", today(250))];
    const t5 = trade("s1", 5n, 6n, "BTC-USD", "alice", "buy", "bob", "0.0003", "50000.01", today(1_000));
    const t6 = trade("s1", 6n, 7n, "AAPL", "bob", "buy", "carol", "1", "121", today(2_000));
    // Sequence 3 again, but of another shard: a different fill, not a duplicate.
    const other = trade("s2", 3n, 900n, "MSFT", "carol", "buy", "bob", "1", "300", today(3_000));
    await t.send([...t1, ...t2, ...t3]);
    // The projection republishing after a crash: T3 again (a duplicate of a whole batch), then on.
    await t.send([...t3, ...t4, ...t4.slice(0, 1), ...t5, ...t6, ...other]);
    await t.sendRaw([
      { key: p.ids.alice!, value: executionValue(t5[1]!), headers: { "engine-sequence": "5" } },
      { key: p.ids.alice!, value: executionValue({ ...t5[1]!, symbol: "ZZZ", tradeId: 1000n }), headers: { "engine-sequence": "5", shard: "s1" } },
      { key: p.ids.alice!, value: Buffer.from("not protobuf"), headers: { shard: "s1" } },
    ]);
    s = await service(p.db, t.name, groupId);
    client = s.client;
    await caughtUp(p.db.pool, groupId, t);
  });

  it("answers the FIFO figures of an account, per symbol and in total", async () => {
    const response = await getAnalytics(client, { account: "" }, await token("alice"));
    expect(response.account).toBe("alice");
    expect(response.totals).toEqual({
      realizedPnl: "246",
      unrealizedPnl: "-6",
      totalPnl: "238.65",
      fees: "1.35",
      tradeCount: 6n,
      winningTrades: 3n,
      losingTrades: 0n,
      winRate: "1",
      averageWin: "82",
      averageLoss: "0",
      largestWin: "220",
      largestLoss: "0",
      volume: "32.0003",
      notional: "3597.000003",
    });
    expect(response.symbols.map((x) => [x.symbol, x.netQuantity, x.lastPrice, x.stats?.realizedPnl, x.stats?.unrealizedPnl])).toEqual([
      ["AAPL", "-2", "121", "246", "-6"],
      ["BTC-USD", "0.0003", "50000.01", "0", "0"],
    ]);
    expect(response.asOf).toEqual({ seconds: BigInt(Math.floor(today(1_000).getTime() / 1000)), nanos: 0 });
  });

  it("counts the losing side too, with a rebate as a negative fee", async () => {
    const response = await getAnalytics(client, { account: "bob" }, await token("root", "admin"));
    expect(response.totals).toMatchObject({
      realizedPnl: "-246",
      unrealizedPnl: "6",
      totalPnl: "-239.9",
      fees: "-0.1",
      tradeCount: 8n,
      winningTrades: 0n,
      losingTrades: 3n,
      winRate: "0",
      averageLoss: "-82",
      largestLoss: "-220",
      volume: "34.0003",
      notional: "4018.000003",
    });
  });

  it("sums every account for an admin asking for *", async () => {
    const response = await getAnalytics(client, { account: "*" }, await token("root", "admin"));
    expect(response.account).toBe("*");
    expect(response.totals).toMatchObject({ realizedPnl: "0", unrealizedPnl: "0", tradeCount: 16n, volume: "68.0006" });
    expect(response.symbols.map((x) => [x.symbol, x.netQuantity])).toEqual([
      ["AAPL", "0"],
      ["BTC-USD", "0"],
      ["MSFT", "0"],
    ]);
  });

  it("buckets realized P&L by UTC day, the days without trades as zero", async () => {
    const response = await getDailyPnl(client, { days: 3, account: "" }, await token("alice"));
    expect(response.days).toEqual([
      { date: day(yesterday(-1)), realizedPnl: "0", fees: "0", tradeCount: 0n, volume: "0" },
      { date: day(yesterday(0)), realizedPnl: "220", fees: "1.35", tradeCount: 3n, volume: "27" },
      { date: day(today(0)), realizedPnl: "26", fees: "0", tradeCount: 3n, volume: "5.0003" },
    ]);
    const month = await getDailyPnl(client, { days: 0, account: "" }, await token("alice"));
    expect(month.days).toHaveLength(30);
  });

  it("answers one symbol, zero for a listed symbol never traded", async () => {
    const msft = await getSymbolStats(client, { symbol: "MSFT", account: "bob" }, await token("bob"));
    expect(msft.symbols).toHaveLength(1);
    expect(msft.symbols[0]).toMatchObject({ symbol: "MSFT", netQuantity: "-1", lastPrice: "300" });
    const eth = await getSymbolStats(client, { symbol: "ETH-USD", account: "" }, await token("alice"));
    expect(eth.symbols).toEqual([{ symbol: "ETH-USD", netQuantity: "0", lastPrice: "", stats: expect.objectContaining({ tradeCount: 0n, realizedPnl: "0" }) }]);
  });

  it("records the messages that are not fills, with the reason, and counts no duplicate", async () => {
    const { rows } = await p.db.pool.query<{ code: string; reason: string }>("SELECT code, reason FROM analytics_rejected_messages WHERE group_id = $1 ORDER BY kafka_offset", [groupId]);
    expect(rows.map((r) => r.code).sort()).toEqual(["FILL_MALFORMED", "MESSAGE_HEADER_INVALID", "MESSAGE_UNDECODABLE"]);
    expect(rows.find((r) => r.code === "FILL_MALFORMED")?.reason).toBe('symbol "ZZZ" is not listed');
    const fills = await p.db.pool.query<{ count: string }>("SELECT count(*) FROM analytics_applied_fills");
    expect(fills.rows[0]!.count).toBe("16");
  });

  it("refuses bad requests naming what is wrong", async () => {
    const alice = await token("alice");
    expect(await failure(getDailyPnl(client, { days: 400, account: "" }, alice))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, reason: "INVALID_REQUEST", details: expect.stringMatching(/^days: /) });
    expect(await failure(getSymbolStats(client, { symbol: "aapl", account: "" }, alice))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^symbol: /) });
    expect(await failure(getAnalytics(client, { account: "x".repeat(65) }, alice))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^account: /) });
    expect(await failure(getAnalytics(client, { account: "bob" }, alice))).toEqual({
      code: grpc.status.PERMISSION_DENIED,
      reason: "NOT_ACCOUNT_OWNER",
      details: "alice (role trader) may not read the figures of account bob; only admins read other accounts",
    });
    expect(await failure(getDailyPnl(client, { days: 1, account: "*" }, await token("alice", "viewer")))).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect(await failure(getSymbolStats(client, { symbol: "NOPE", account: "" }, alice))).toEqual({ code: grpc.status.NOT_FOUND, reason: "UNKNOWN_SYMBOL", details: "symbol NOPE is not listed" });
    expect(await failure(getAnalytics(client, { account: "dave" }, await token("root", "admin")))).toEqual({ code: grpc.status.NOT_FOUND, reason: "UNKNOWN_ACCOUNT", details: "account dave does not exist" });
    expect(await failure(getAnalytics(client, { account: "" }, undefined))).toEqual({ code: grpc.status.UNAUTHENTICATED, reason: "TOKEN_MISSING", details: "a bearer token is required" });
    expect(await failure(getAnalytics(client, { account: "" }, "not.a.token"))).toMatchObject({ code: grpc.status.UNAUTHENTICATED, reason: "TOKEN_INVALID" });
  });

  it("serves health, and its metrics with the lag per partition", async () => {
    let text = "";
    // The lag of every partition, also those without a batch yet, is refreshed every 5 s.
    await until(async () => (text = await (await fetch(`http://${s.metricsAddress}/metrics`)).text()).match(/^analytics_consumer_lag\{/gm)?.length === 3, "the lag of the three partitions");
    expect(text.match(/^analytics_consumer_lag\{partition="\d",service="analytics-service"\} (\d+)$/gm)?.map((line) => line.split(" ")[1])).toEqual(["0", "0", "0"]);
    expect(text).toMatch(/analytics_messages_total\{result="duplicate",service="analytics-service"\} 3/);
    expect(text).toMatch(/analytics_figure_delay_seconds_count\{service="analytics-service"\} 16/);
  });

  it("stops on SIGTERM with exit code 0 after leaving the group", async () => {
    expect(await s.stop("SIGTERM")).toBe(0);
    expect(s.output()).toContain('"msg":"stopped"');
  });
});

// ------------------------------------------------------------------------------------------------

const accounts = ["a1", "a2", "a3", "a4"];
const symbols = [
  { symbol: "AAPL", shard: "s1", base: 19_000n, lot: "1", scale: 0 },
  { symbol: "MSFT", shard: "s1", base: 41_000n, lot: "1", scale: 0 },
  { symbol: "BTC-USD", shard: "s2", base: 5_000_000n, lot: "0.0001", scale: 4 },
];

/**
 * `trades` random trades (both sides each) between random accounts over three UTC days, in
 * per-shard sequence order, with the projection's duplicates: now and then the last few trades
 * are published again.
 */
function randomFills(ids: Record<string, string>, trades: number, firstSequence = 1n, start = Date.UTC(2026, 10, 28, 22)): TestFill[] {
  // mulberry32: a small seeded generator, so every run sends the same fills.
  let seed = 42 + Number(firstSequence % 1_000n);
  const random = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) % n;
  };
  const sequences = new Map([["s1", firstSequence], ["s2", firstSequence]]);
  const fills: TestFill[] = [];
  const recent: TestFill[][] = [];
  for (let i = 0; i < trades; i++) {
    const instrument = symbols[random(symbols.length)]!;
    const taker = accounts[random(accounts.length)]!;
    let maker = accounts[random(accounts.length)]!;
    if (maker === taker) maker = accounts[(accounts.indexOf(taker) + 1) % accounts.length]!;
    const sequence = sequences.get(instrument.shard)!;
    sequences.set(instrument.shard, sequence + 1n);
    const cents = instrument.base + BigInt(random(2_001)) - 1_000n;
    const units = BigInt(1 + random(20));
    const quantity = instrument.scale === 0 ? units.toString() : `0.${units.toString().padStart(4, "0")}`;
    const price = `${cents / 100n}.${(cents % 100n).toString().padStart(2, "0")}`;
    const executedAt = new Date(start + i * 30_000);
    const takerSide = random(2) === 0 ? "buy" : "sell";
    const tradeId = BigInt(i + 1) + firstSequence * 1_000_000n;
    const common = { shard: instrument.shard, sequence, tradeId, symbol: instrument.symbol, price, quantity, executedAt };
    const pair: TestFill[] = [
      { ...common, liquidity: "maker", account: maker, accountId: ids[maker]!, side: takerSide === "buy" ? "sell" : "buy", fee: "-0.01" },
      { ...common, liquidity: "taker", account: taker, accountId: ids[taker]!, side: takerSide, fee: "0.02" },
    ];
    fills.push(...pair);
    recent.push(pair);
    if (recent.length > 5) recent.shift();
    if (random(200) === 0) fills.push(...recent.flat());
  }
  return fills;
}

/** Everything a client can read, for every account and all together. */
async function allFigures(client: AnalyticsServiceClient): Promise<unknown> {
  const admin = await token("root", "admin");
  const result: Record<string, unknown> = {};
  for (const account of [...accounts, "*"]) {
    result[account] = {
      analytics: await getAnalytics(client, { account }, admin),
      daily: (await getDailyPnl(client, { days: 10, account }, admin)).days,
    };
  }
  return result;
}

/** The figure tables, numerics without trailing zeros, lots without their numbers. */
async function tables(pool: pg.Pool): Promise<unknown> {
  const q = async (sql: string) => (await pool.query(sql)).rows;
  return {
    stats: await q(`SELECT a.name, instrument_id, trim_scale(realized_pnl)::text AS realized, trim_scale(fees)::text AS fees, trade_count, winning_trades, losing_trades,
                           trim_scale(total_win)::text AS tw, trim_scale(total_loss)::text AS tl, trim_scale(largest_win)::text AS lw, trim_scale(largest_loss)::text AS ll,
                           trim_scale(volume)::text AS volume, trim_scale(notional)::text AS notional, last_fill_at
                      FROM analytics_symbol_stats JOIN accounts a USING (account_id) ORDER BY 1, 2`),
    daily: await q(`SELECT a.name, instrument_id, day::text, trim_scale(realized_pnl)::text AS realized, trim_scale(fees)::text AS fees, trade_count, trim_scale(volume)::text AS volume
                      FROM analytics_daily_pnl JOIN accounts a USING (account_id) ORDER BY 1, 2, 3`),
    lots: await q(`SELECT a.name, instrument_id, trim_scale(quantity)::text AS quantity, trim_scale(price)::text AS price, opened_at
                     FROM analytics_open_lots JOIN accounts a USING (account_id) ORDER BY 1, 2, lot_seq`),
    marks: await q("SELECT instrument_id, trim_scale(price)::text AS price, sequence, trade_id FROM analytics_last_prices ORDER BY 1"),
    fills: await q("SELECT count(*) AS count FROM analytics_applied_fills"),
  };
}

describe("exactly once across SIGKILLs, rebalances and a rebuild", () => {
  it("gives the figures of a clean run after members of the group are killed mid-stream, and again after a rebuild", async () => {
    const names = [...accounts, "root"];
    const crashed = await platform(names);
    const clean = await platform(names);
    const t = await topic(3);
    const fills = randomFills(crashed.ids, 3_000);
    expect(clean.ids).toEqual(crashed.ids);

    // Two members share the partitions; small batches make many transactions to be killed in.
    const group = `analytics-crash-${randomBytes(4).toString("hex")}`;
    const small = { ANALYTICS_MAX_BATCH_BYTES: "4096" };
    const first = await service(crashed.db, t.name, group, small);
    const second = await service(crashed.db, t.name, group, small);
    await until(() => second.output().includes('"msg":"joined the consumer group"'), "the second member to join");
    // The fills arrive in small sends while the members consume, so the kills land mid-stream.
    const planned = BigInt(fills.length);
    const producing = (async () => {
      for (let i = 0; i < fills.length; i += 60) {
        await t.send(fills.slice(i, i + 60));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await until(async () => (await consumed(crashed.db.pool, group)) > 0n, "the first batches");
    expect(await first.stop("SIGKILL")).toBeNull();
    expect(await consumed(crashed.db.pool, group)).toBeLessThan(planned);
    // The killed member's partitions move once its session times out (30 s).
    await until(async () => (await consumed(crashed.db.pool, group)) * 2n > planned, "half of the messages", 60_000);
    expect(await second.stop("SIGKILL")).toBeNull();
    expect(await consumed(crashed.db.pool, group)).toBeLessThan(planned);
    const third = await service(crashed.db, t.name, group, small);
    await producing;
    expect(await t.endOffset()).toBe(planned);
    await caughtUp(crashed.db.pool, group, t);

    const cleanGroup = `analytics-clean-${randomBytes(4).toString("hex")}`;
    const reference = await service(clean.db, t.name, cleanGroup);
    await caughtUp(clean.db.pool, cleanGroup, t);
    const expected = await allFigures(reference.client);
    // Independently of the service: each account's fills counted once.
    const uniqueFills = new Map(fills.map((f) => [`${f.shard}/${f.sequence}/${f.tradeId}/${f.liquidity}`, f]));
    for (const account of accounts) {
      const count = [...uniqueFills.values()].filter((f) => f.account === account).length;
      expect((expected as Record<string, { analytics: GetAnalyticsResponse }>)[account]!.analytics.totals?.tradeCount).toBe(BigInt(count));
    }
    expect(await allFigures(third.client)).toEqual(expected);
    expect(await tables(crashed.db.pool)).toEqual(await tables(clean.db.pool));
    expect(((await tables(crashed.db.pool)) as { fills: { count: string }[] }).fills[0]!.count).toBe(String(uniqueFills.size));

    // A rebuild while the service runs and more fills arrive: the same figures as the clean run.
    const more = randomFills(crashed.ids, 2_000, 1_000_000n, Date.UTC(2026, 10, 30, 12));
    let rebuildDone = false;
    const rebuilding = runRebuild({ DATABASE_URL: crashed.db.url, ANALYTICS_TOPIC: t.name, ANALYTICS_GROUP_ID: group }).finally(() => (rebuildDone = true));
    // Fills keep arriving (and the service keeps counting them on the old tables) until the
    // rebuild has swapped its tables in; the rest come after.
    for (let i = 0; i < more.length; i += 20) {
      await t.send(more.slice(i, i + 20));
      if (!rebuildDone) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const rebuilt = await rebuilding;
    expect(rebuilt.output).toMatch(/fresh figures are live/);
    expect(rebuilt.code).toBe(0);
    await caughtUp(crashed.db.pool, group, t);
    await caughtUp(clean.db.pool, cleanGroup, t);
    expect(await allFigures(third.client)).toEqual(await allFigures(reference.client));
    expect(await tables(crashed.db.pool)).toEqual(await tables(clean.db.pool));
    console.log(`rebuild: ${rebuilt.output.trim().split("\n").pop()}; the service sought back ${third.output().split("seeking there").length - 1} times`);
    const indexes = await crashed.db.pool.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'analytics_%' ORDER BY 1");
    expect(indexes.rows.map((r) => r.indexname)).not.toContainEqual(expect.stringContaining("rebuild"));
    // Longer than the default: a killed member's partitions wait out its 30 s session.
  }, 240_000);
});
