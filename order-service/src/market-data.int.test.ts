import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, createMigrator, createTokenVerifier, signDevToken } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import {
  type GetBookRequest,
  type GetBookResponse,
  type ListInstrumentsResponse,
  MarketDataServiceClient,
  MarketDataServiceService,
  type StreamMarketDataRequest,
  type StreamMarketDataResponse,
  TradingStatus,
} from "@hft/contract/grpc/hft/v1/market_data_service.js";
import { OrderType, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import { type EngineProcess, freePort, startEngine } from "../../tests/support/engine-process.js";
import { Catalog } from "./catalog.js";
import { EngineLink } from "./engine-link.js";
import { defineShardInstruments } from "./instrument-sync.js";
import { MarketData } from "./market-data.js";
import { marketDataHandlers } from "./service.js";
import { parseShards } from "./shards.js";

const secret = "market-data-test-secret-at-least-32-bytes";
const issuer = "hft-test";
const audience = "hft";
let db: TestDatabase;
let engine: EngineProcess;
let link: EngineLink;
let marketData: MarketData;
let server: grpc.Server;
let client: MarketDataServiceClient;
let metadata: grpc.Metadata;
let btcId: number;

beforeAll(async () => {
  db = await createTestDatabase("market_data");
  await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../../migrations", import.meta.url)) }).up();
  // A short trade queue per market data reader, so a reader that stops reading is resynchronised soon.
  engine = await startEngine({ args: ["--market-data-trade-queue=100"] });
  const shards = parseShards(`default=${engine.address}@1`);
  link = new EngineLink({ shard: "default", address: engine.address });
  await link.ready();
  const catalog = new Catalog(db.pool);
  await defineShardInstruments(catalog, (command) => link.submit(command), "default");
  btcId = (await catalog.instrument("BTC-USD"))!.id;
  marketData = new MarketData({ catalog, shards });
  server = new grpc.Server();
  const verify = await createTokenVerifier({ hs256Secret: secret, issuer, audience });
  server.addService(MarketDataServiceService, marketDataHandlers({ marketData, verify, logger: createLogger({ service: "market-data-test", level: "warn" }) }));
  const address = `127.0.0.1:${await freePort()}`;
  await new Promise<void>((resolve, reject) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  client = new MarketDataServiceClient(address, grpc.credentials.createInsecure());
  metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${await signDevToken({ account: "viewer-1", role: "viewer", hs256Secret: secret, issuer, audience })}`);
});

afterAll(async () => {
  client?.close();
  marketData?.close();
  server?.forceShutdown();
  link?.close();
  await engine?.stop("SIGKILL");
  await db?.drop();
});

/** A BTC-USD limit order straight to the engine (ticks of 0.01, lots of 0.0001). */
function rest(account: bigint, side: Side, priceTicks: bigint, quantityLots: bigint, clientOrderId: string) {
  return link.submit({
    $case: "newOrder",
    value: {
      accountId: account,
      instrumentId: btcId,
      clientOrderId,
      side,
      type: OrderType.ORDER_TYPE_LIMIT,
      timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
      priceTicks,
      stopPriceTicks: 0n,
      quantityLots,
      displayQuantityLots: 0n,
      postOnly: false,
      selfTradePrevention: SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
    },
  });
}

const unary = <Req, Res>(method: (r: Req, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, res: Res) => void) => unknown, request: Req, md = metadata) =>
  new Promise<Res>((resolve, reject) => method.call(client, request, md, (e, res) => (e ? reject(e) : resolve(res))));

describe("MarketDataService", () => {
  it("lists every instrument by symbol with its trading rules in decimals", async () => {
    const { instruments } = await unary<object, ListInstrumentsResponse>(client.listInstruments, {});
    expect(instruments.map((i) => i.symbol)).toEqual([...instruments.map((i) => i.symbol)].sort());
    expect(instruments.find((i) => i.symbol === "BTC-USD")).toEqual({
      symbol: "BTC-USD",
      tickSize: "0.01",
      lotSize: "0.0001",
      minQuantity: expect.any(String),
      maxQuantity: expect.any(String),
      priceBandLow: expect.any(String),
      priceBandHigh: expect.any(String),
      tradingStatus: TradingStatus.TRADING_STATUS_OPEN,
    });
  });

  it("gives a book's levels in decimals, best first, and names a symbol it does not list", async () => {
    await rest(1n, Side.SIDE_BUY, 1_000_000n, 25n, "md-bid-1");
    await rest(2n, Side.SIDE_BUY, 999_950n, 10n, "md-bid-2");
    await rest(1n, Side.SIDE_SELL, 1_000_100n, 7n, "md-ask-1");
    const { book } = await unary<GetBookRequest, GetBookResponse>(client.getBook, { symbol: "BTC-USD", depth: 5 });
    expect(book).toMatchObject({
      symbol: "BTC-USD",
      bids: [
        { price: "10000", quantity: "0.0025", orderCount: 1 },
        { price: "9999.5", quantity: "0.001", orderCount: 1 },
      ],
      asks: [{ price: "10001", quantity: "0.0007", orderCount: 1 }],
    });
    expect(book!.sequence).toBeGreaterThan(0n);
    await expect(unary(client.getBook, { symbol: "DOGE-USD", depth: 0 })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: "symbol DOGE-USD is not listed" });
    await expect(unary(client.getBook, { symbol: "btc usd", depth: 0 })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining("symbol") });
    await expect(unary(client.getBook, { symbol: "BTC-USD", depth: 0 }, new grpc.Metadata())).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it("streams a snapshot, then the trade and the new top of book, converted", async () => {
    const stream = client.streamMarketData({ symbols: ["BTC-USD"], depth: 3, includeL1: true, includeL2: false, includeTrades: true }, metadata);
    stream.on("error", () => undefined); // ended by the cancel below, or by a failed expectation's engine kill
    const received: StreamMarketDataResponse[] = [];
    const until = (predicate: () => boolean) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`received ${JSON.stringify(received.map((r) => r.update?.$case))}`)), 10_000);
        const check = () => predicate() && (clearTimeout(timer), resolve());
        stream.on("data", (update: StreamMarketDataResponse) => (received.push(update), check()));
        check();
      });
    await until(() => received.some((r) => r.update?.$case === "snapshot"));
    // Without L2, the snapshot is the best level of each side.
    expect(received[0]!.update).toEqual({
      $case: "snapshot",
      value: { symbol: "BTC-USD", sequence: received[0]!.sequence, bids: [{ price: "10000", quantity: "0.0025", orderCount: 1 }], asks: [{ price: "10001", quantity: "0.0007", orderCount: 1 }], lastTradePrice: "" },
    });

    await rest(2n, Side.SIDE_SELL, 1_000_000n, 5n, "md-take-1"); // takes 0.0005 of the 10000 bid
    await until(() => received.some((r) => r.update?.$case === "trade") && received.some((r) => r.update?.$case === "l1"));
    const trade = received.find((r) => r.update?.$case === "trade")!;
    expect(trade).toMatchObject({ symbol: "BTC-USD", update: { $case: "trade", value: { price: "10000", quantity: "0.0005", aggressorSide: Side.SIDE_SELL } } });
    const top = received.filter((r) => r.update?.$case === "l1").at(-1)!;
    expect(top.update).toEqual({ $case: "l1", value: { bid: { price: "10000", quantity: "0.002", orderCount: 1 }, ask: { price: "10001", quantity: "0.0007", orderCount: 1 } } });
    expect(received.map((r) => r.sequence)).toEqual([...received.map((r) => r.sequence)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    stream.cancel();
  });

  it("refuses a stream without channels or for an unlisted symbol, naming the problem", async () => {
    const failure = (request: StreamMarketDataRequest) =>
      new Promise<grpc.ServiceError>((resolve) => {
        const stream = client.streamMarketData(request, metadata);
        stream.on("data", () => undefined);
        stream.on("error", resolve);
      });
    const base = { symbols: ["BTC-USD"], depth: 0, includeL1: true, includeL2: false, includeTrades: false };
    expect(await failure({ ...base, includeL1: false })).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: "choose at least one of include_l1, include_l2 and include_trades" });
    expect(await failure({ ...base, symbols: ["NOPE"] })).toMatchObject({ code: grpc.status.NOT_FOUND, details: "symbol NOPE is not listed" });
    expect(await failure({ ...base, symbols: [] })).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining("symbols") });
  });

  it("brings a reader that stopped reading back to the engine's last sequence through conflated updates and new snapshots", async () => {
    const stream = client.streamMarketData({ symbols: ["BTC-USD"], depth: 5, includeL1: true, includeL2: true, includeTrades: true }, metadata);
    stream.on("error", () => undefined);
    const received: StreamMarketDataResponse[] = [];
    stream.on("data", (update: StreamMarketDataResponse) => received.push(update));
    await new Promise<void>((resolve) => stream.once("data", () => resolve()));
    stream.pause();
    // 20,000 orders of two accounts around one price, while nobody reads: thousands of trades.
    const acks = await Promise.all(
      Array.from({ length: 20_000 }, (_, n) => rest(BigInt(4 + (n % 2)), n % 2 === 0 ? Side.SIDE_BUY : Side.SIDE_SELL, 1_000_000n + BigInt(((n * 7) % 11) - 5), BigInt(1 + (n % 4)), `md-slow-${n}`)),
    );
    const trades = acks.flatMap((a) => a.events).filter((e) => e.event?.$case === "trade").length;
    const lastSequence = acks.reduce((max, a) => (a.sequence > max ? a.sequence : max), 0n);
    expect(trades).toBeGreaterThan(1_000);
    stream.resume();
    const deadline = Date.now() + 20_000;
    while (!received.some((r) => r.sequence >= lastSequence) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received.at(-1)!.sequence).toBeGreaterThanOrEqual(lastSequence);
    // Fewer messages than the trades alone: the rest was conflated, or replaced by a new snapshot.
    expect(received.length).toBeLessThan(trades);
    expect(received.filter((r) => r.update?.$case === "snapshot").length).toBeGreaterThan(1);
    stream.cancel();
  });

  it("ends its streams with UNAVAILABLE when the engine goes away", async () => {
    const stream = client.streamMarketData({ symbols: ["BTC-USD"], depth: 0, includeL1: true, includeL2: true, includeTrades: true }, metadata);
    const first = new Promise((resolve) => stream.once("data", resolve));
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
    await first;
    await engine.stop("SIGKILL");
    expect(await ended).toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringContaining("engine shard default") });
  });
});
