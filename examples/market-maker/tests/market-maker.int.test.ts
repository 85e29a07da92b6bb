/**
 * The market maker as a child process against a real engine and order service (its gRPC port,
 * through @hft/sdk): it quotes both sides at the configured spread, re-quotes when another trader
 * moves the market, is filled by a taker and counts the position, backs off a side its account's
 * risk limit refuses, survives the order service being killed and restarted with exactly one bid
 * and one ask, and cancels them on SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Order, OrderStatus, OrderType, type PlatformClients, Side, TimeInForce, createNodeClients } from "@hft/sdk/node";
import { createMigrator, signDevToken } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { type EngineProcess, freePort, startEngine } from "../../../tests/support/engine-process.js";
import { type OrderServiceProcess, startOrderService } from "../../../tests/support/order-service-process.js";
import { until } from "../../../tests/support/until.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const SYMBOL = "BTC-USD"; // tick 0.01, lot 0.0001 (migrations/004_seed_instruments.sql)

interface LogLine {
  readonly msg: string;
  readonly [field: string]: unknown;
}

let db: TestDatabase;
let engine: EngineProcess;
let orderService: OrderServiceProcess;
let orderServiceEnv: Record<string, string>;
let orderServicePort: number;
let maker: ChildProcess;
let makerExit: Promise<number | null>;
const makerLines: LogLine[] = [];
let makerOutput = "";
let accounts: { maker: string; bob: string };
let asMaker: PlatformClients;
let asBob: PlatformClients;

const token = (account: string, ttlSeconds?: number) =>
  signDevToken({ account, role: "trader", hs256Secret: process.env.AUTH_HS256_SECRET!, issuer: process.env.AUTH_ISSUER!, audience: process.env.AUTH_AUDIENCE!, ttlSeconds });
const clientsOf = async (account: string) => createNodeClients({ baseUrl: `http://${orderService.address}`, token: await token(account), protocol: "grpc" });

async function startTheOrderService() {
  orderService = await startOrderService({ env: orderServiceEnv, port: orderServicePort });
  await orderService.waitForLog((line) => line.msg === "instruments defined in the engine" && line.shard === "default");
}

/** The first market maker log line from index `from` on that `match` accepts, with its index. */
async function makerLog(match: (line: LogLine) => boolean, from = 0, timeoutMs = 20_000): Promise<{ line: LogLine; index: number }> {
  let found: { line: LogLine; index: number } | undefined;
  await until(
    () => {
      const index = makerLines.findIndex((line, i) => i >= from && match(line));
      if (index >= 0) found = { line: makerLines[index]!, index };
      return found !== undefined;
    },
    () => `a market maker log line after line ${from}; its output:\n${makerOutput}`,
    timeoutMs,
  );
  return found!;
}

async function openQuotes(): Promise<Order[]> {
  const { orders } = await asMaker.orders.listOrders({ symbol: SYMBOL, statuses: [OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED] });
  return orders;
}

/** Waits until the market maker rests exactly one bid at `bid` and one ask at `ask`; returns them. */
async function quotesAt(bid: string, ask: string): Promise<{ bid: Order; ask: Order }> {
  let open: Order[] = [];
  await until(
    async () => {
      open = await openQuotes();
      return open.length === 2 && open.some((o) => o.side === Side.BUY && o.price === bid) && open.some((o) => o.side === Side.SELL && o.price === ask);
    },
    () => `one bid at ${bid} and one ask at ${ask}, open: ${open.map((o) => `${Side[o.side]} ${o.price}`).join(", ")}\n${makerOutput}`,
  );
  return { bid: open.find((o) => o.side === Side.BUY)!, ask: open.find((o) => o.side === Side.SELL)! };
}

const bobOrder = (clientOrderId: string, side: Side, price: string, timeInForce = TimeInForce.GTC) =>
  asBob.orders.placeOrder({ clientOrderId, symbol: SYMBOL, side, type: OrderType.LIMIT, timeInForce, price, quantity: "0.01" });

beforeAll(async () => {
  const suffix = randomBytes(4).toString("hex");
  accounts = { maker: `maker-${suffix}`, bob: `bob-${suffix}` };
  const migrated = (async function createDatabase() {
    db = await createTestDatabase("market_maker");
    await createMigrator({ pool: db.pool, directory: `${root}migrations` }).up();
    await db.pool.query("INSERT INTO accounts (name) VALUES ($1), ($2)", Object.values(accounts));
  })();
  [engine] = await Promise.all([startEngine(), migrated]);
  orderServicePort = await freePort();
  orderServiceEnv = {
    DATABASE_URL: db.url,
    ENGINE_SHARDS: `default=${engine.address}@1`,
    PROJECTION_LOCK_KEY: String(randomInt(1, 2 ** 31 - 1)),
    PAGE_TOKEN_KEY: `page-token-key-${randomBytes(16).toString("hex")}`,
    KAFKA_CLIENT_ID: `market-maker-test-${suffix}`,
    REDIS_KEY_PREFIX: `market-maker-test-${suffix}:`,
    DATABASE_POOL_MAX: "5",
  };
  await startTheOrderService();
  asMaker = await clientsOf(accounts.maker);
  asBob = await clientsOf(accounts.bob);

  const flags = ["--target", `http://${orderService.address}`, "--protocol", "grpc", "--token", await token(accounts.maker), "--symbol", SYMBOL];
  const quoting = ["--spread-ticks", "10", "--quote-size", "0.01", "--max-position", "0.02", "--requote-ticks", "2", "--reference-price", "25000", "--max-actions-per-second", "50"];
  maker = spawn(process.execPath, ["--conditions=@hft/source", "--import", "tsx", "examples/market-maker/src/main.ts", ...flags, ...quoting], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  makerExit = new Promise((resolve) => maker.once("exit", (code) => resolve(code)));
  let partial = "";
  maker.stdout!.on("data", (chunk: Buffer) => {
    makerOutput += chunk.toString();
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop()!;
    for (const part of parts) if (part.trim()) makerLines.push(JSON.parse(part) as LogLine);
  });
  maker.stderr!.on("data", (chunk: Buffer) => (makerOutput += chunk.toString()));
});

afterAll(async () => {
  if (maker && maker.exitCode === null && maker.signalCode === null) maker.kill("SIGKILL");
  await orderService?.stop("SIGKILL");
  await engine?.stop("SIGKILL");
  if (engine) await rm(engine.dataDir, { recursive: true, force: true });
  await db?.drop();
});

describe("the market maker", () => {
  it("quotes a bid and an ask the spread apart around the reference price on an empty book", async () => {
    await quotesAt("24999.95", "25000.05");
    const { book } = await asBob.marketData.getBook({ symbol: SYMBOL });
    expect(book?.bids.map((level) => [level.price, level.quantity])).toEqual([["24999.95", "0.01"]]);
    expect(book?.asks.map((level) => [level.price, level.quantity])).toEqual([["25000.05", "0.01"]]);
  });

  it("re-quotes around the others' mid when another trader moves the market", async () => {
    await bobOrder("bob-bid-1", Side.BUY, "24999.90");
    await bobOrder("bob-ask-1", Side.SELL, "25000.30");
    // The others' mid is 25000.10: bid and ask 5 ticks either side of it.
    await quotesAt("25000.05", "25000.15");
  });

  it("is filled by a taker crossing its bid, counts the position and skews its quotes", async () => {
    const from = makerLines.length;
    const { order } = await bobOrder("bob-take-1", Side.SELL, "25000.05", TimeInForce.IOC);
    expect(order?.status).toBe(OrderStatus.FILLED);
    const { line } = await makerLog((l) => l.msg === "filled", from);
    expect(line).toMatchObject({ action: "fill", side: "bid", price: "25000.05", quantity: "0.01", position: "0.01" });
    const { positions } = await asMaker.orders.getPositions({ symbol: SYMBOL });
    expect(positions[0]?.netQuantity).toBe("0.01");
    // Long half its max position: both quotes 2 ticks lower (half of 5 ticks of half spread).
    await quotesAt("25000.03", "25000.13");
  });

  it("backs off the side its account's risk limit refuses, longer each time, and quotes it again once allowed", async () => {
    await db.pool.query("INSERT INTO risk_limits (account_id, max_position) SELECT account_id, 0.015 FROM accounts WHERE name = $1", [accounts.maker]);
    const from = makerLines.length;
    // Bob's better bid moves the others' mid to 25000.15: both quotes have to move up.
    await bobOrder("bob-bid-2", Side.BUY, "25000.00");
    const refusal = (l: LogLine) => l.msg === "risk rejection: backing off the side";
    const first = await makerLog(refusal, from);
    expect(first.line).toMatchObject({ side: "bid", reason: "RISK_MAX_POSITION", retryInMs: 1000 });
    const second = await makerLog(refusal, first.index + 1);
    expect(second.line).toMatchObject({ side: "bid", reason: "RISK_MAX_POSITION", retryInMs: 2000 });
    // The ask, which reduces the position, is not refused and rests meanwhile.
    expect(makerLines.slice(from).filter(refusal).every((l) => l.side === "bid")).toBe(true);
    expect((await openQuotes()).map((o) => [Side[o.side], o.price])).toEqual([["SELL", "25000.18"]]);

    await db.pool.query("DELETE FROM risk_limits");
    await quotesAt("25000.08", "25000.18");
  });

  it("reconnects after the order service is killed and restarted, resumes after its last sequence, and keeps one bid and one ask", async () => {
    const before = await quotesAt("25000.08", "25000.18");
    const from = makerLines.length;
    await orderService.stop("SIGKILL");
    const dropped = await makerLog((l) => l.msg === "disconnected, reconnecting", from);
    await startTheOrderService();
    const resumed = await makerLog((l) => l.msg === "connected, order updates resumed", dropped.index + 1, 40_000);
    const lastDrop = makerLines.slice(0, resumed.index).findLast((l) => l.msg === "disconnected, reconnecting")!;
    expect(resumed.line.fromSequence).toBe((BigInt(lastDrop.lastSequence as string) + 1n).toString());
    const reconciled = makerLines.slice(dropped.index, resumed.index).findLast((l) => l.msg === "reconciled open orders");
    expect(reconciled).toMatchObject({ bid: before.bid.orderId, ask: before.ask.orderId, strays: 0 });

    // Still the same two orders, none placed twice; and it still follows the market.
    expect((await quotesAt("25000.08", "25000.18")).bid.orderId).toBe(before.bid.orderId);
    const bobsBetterBid = (await asBob.orders.listOrders({ symbol: SYMBOL, statuses: [OrderStatus.NEW] })).orders.find((o) => o.clientOrderId === "bob-bid-2");
    await asBob.orders.cancelOrder({ orderId: bobsBetterBid!.orderId });
    await quotesAt("25000.03", "25000.13");
    expect(makerLines.slice(from).filter((l) => l.msg === "placed")).toHaveLength(2);
  });

  it("cancels its quotes and exits 0 on SIGTERM", async () => {
    maker.kill("SIGTERM");
    expect(await makerExit).toBe(0);
    expect(makerLines.at(-1)).toMatchObject({ msg: "stopped", cancelled: 2, position: "0.01" });
    expect(await openQuotes()).toEqual([]);
  });

  it("stops with exit 1 naming the refusal when its token expires, instead of reconnecting with it", async () => {
    const flags = ["--target", `http://${orderService.address}`, "--protocol", "grpc", "--token", await token(accounts.maker, 4), "--symbol", SYMBOL, "--reference-price", "25000"];
    const shortLived = spawn(process.execPath, ["--conditions=@hft/source", "--import", "tsx", "examples/market-maker/src/main.ts", ...flags], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    shortLived.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    shortLived.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = await new Promise<number | null>((resolve) => shortLived.once("exit", (code) => resolve(code)));
    expect(exited, output).toBe(1);
    expect(output).toContain("the platform refused the token (TOKEN_EXPIRED");
    expect(output).not.toContain("disconnected, reconnecting");
    for (const quote of await openQuotes()) await asMaker.orders.cancelOrder({ orderId: quote.orderId });
  });
});
