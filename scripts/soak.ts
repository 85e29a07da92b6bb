/**
 * `make soak`: a bounded mixed load on a platform of its own (engine, order service, analytics
 * service, gateway, each a process on a free loopback port, with a throwaway database and Kafka
 * topic on the local stack), sampling every process's RSS, V8 heap and open file descriptors, and
 * reporting per process start, end, max and growth per minute after the warm-up. The load: orders
 * over OrderEntry streams (reopened in turn) and unary PlaceOrder, cancels, REST calls through the
 * gateway, WebSocket clients that connect, subscribe and leave, gRPC streams opened and cancelled,
 * and analytics queries. Growth is reported, not judged.
 *
 * Exit 0 when the load ran; 1 when a process died or more than --max-error-fraction of the
 * operations failed (refusals such as cancelling a filled order are counted apart); 2 for bad
 * flags; 130 on Ctrl-C (the processes are stopped and the report written either way).
 *
 *   node --conditions=@hft/source --import tsx scripts/soak.ts [--minutes=10] [--rate=100]
 *     [--sample-seconds=5] [--warmup-minutes=1] [--ws-clients=4] [--max-error-fraction=0.01] [--out=.run/soak]
 */
import "./test-env.js";
import { randomBytes, randomInt } from "node:crypto";
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { createKafkaClient, createMigrator, kafkaConfig, loadConfig } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { AnalyticsServiceClient } from "@hft/contract/grpc/hft/v1/analytics_service.js";
import { MarketDataServiceClient } from "@hft/contract/grpc/hft/v1/market_data_service.js";
import { type Order, type OrderEntryRequest, type OrderEntryResponse, OrderServiceClient } from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderStatus, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { WebSocket } from "ws";
import { gatewayBenchEnv } from "../bench/src/platform.js";
import { root, stopChild } from "../bench/src/processes.js";
import { startServiceProcess } from "../gateway/tests/service-process.js";
import { freePort, startEngine } from "../tests/support/engine-process.js";
import { bearer, limitOrder } from "../tests/support/order-calls.js";
import { startOrderService } from "../tests/support/order-service-process.js";
import { startGatewayProcess } from "../tests/support/ready-process.js";
import { type Growth, type Measure, type Sample, formatTable, growthOf, measures, metricValue } from "./soak-report.js";

const usage = "usage: soak.ts [--minutes=10] [--rate=100] [--sample-seconds=5] [--warmup-minutes=1] [--ws-clients=4] [--max-error-fraction=0.01] [--out=.run/soak]";

interface SoakOptions {
  readonly minutes: number;
  /** Order operations per second (places, cancels, REST calls), over all accounts. */
  readonly rate: number;
  readonly sampleSeconds: number;
  /** Samples before this are left out of the figures: caches, JIT and pools fill first. */
  readonly warmupMinutes: number;
  /** WebSocket clients connected at any time, each replaced after a few seconds. */
  readonly wsClients: number;
  readonly maxErrorFraction: number;
  readonly out: string;
}

function parseOptions(argv: readonly string[]): SoakOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      minutes: { type: "string", default: "10" },
      rate: { type: "string", default: "100" },
      "sample-seconds": { type: "string", default: "5" },
      "warmup-minutes": { type: "string" },
      "ws-clients": { type: "string", default: "4" },
      "max-error-fraction": { type: "string", default: "0.01" },
      out: { type: "string", default: `${root}.run/soak` },
    },
  });
  const number = (flag: string, text: string, min: number, max: number) => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max) throw new Error(`--${flag} must be a number from ${min} to ${max}, got "${text}"`);
    return value;
  };
  const minutes = number("minutes", values.minutes, 0.05, 24 * 60);
  return {
    minutes,
    rate: number("rate", values.rate, 1, 5_000),
    sampleSeconds: number("sample-seconds", values["sample-seconds"], 0.5, 300),
    // Default: a minute, or a fifth of a shorter run.
    warmupMinutes: values["warmup-minutes"] === undefined ? Math.min(1, minutes / 5) : number("warmup-minutes", values["warmup-minutes"], 0, minutes),
    wsClients: Math.round(number("ws-clients", values["ws-clients"], 0, 500)),
    maxErrorFraction: number("max-error-fraction", values["max-error-fraction"], 0, 1),
    out: values.out,
  };
}

/** A process of the platform as the sampler sees it. */
interface Watched {
  readonly name: string;
  readonly pid: number;
  /** Prometheus text with prom-client's default metrics (the Node services). */
  readonly metricsUrl?: string;
}

interface Platform {
  readonly processes: readonly Watched[];
  readonly orderService: string;
  readonly analytics: string;
  readonly gatewayUrl: string;
  readonly accounts: readonly string[];
  stop(): Promise<void>;
}

const ACCOUNTS = 8;

/** Engine, order service, analytics service (on a topic of its own) and gateway against a throwaway database. */
async function startPlatform(): Promise<Platform> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step().catch((error: unknown) => console.error(`soak cleanup: ${(error as Error).message}`));
  };
  try {
    const suffix = randomBytes(4).toString("hex");
    const db: TestDatabase = await createTestDatabase("soak");
    stops.push(() => db.drop());
    await createMigrator({ pool: db.pool, directory: `${root}migrations` }).up();
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `soak-${suffix}-${i}`);
    await db.pool.query("INSERT INTO accounts (name, status) SELECT unnest($1::text[]), 'active'", [accounts]);

    const kafka = createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: `hft-soak-${suffix}` });
    const admin = kafka.admin();
    await admin.connect();
    stops.push(() => admin.disconnect());
    // Its own topic: the shared executions topic carries other runs' fills for other databases' accounts.
    const topic = `hft-soak-executions-${suffix}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    stops.push(() => admin.deleteTopics({ topics: [topic] }));

    const engine = await startEngine();
    stops.push(async () => {
      await engine.stop("SIGTERM");
      await rm(engine.dataDir, { recursive: true, force: true });
    });
    const analyticsAddress = `127.0.0.1:${await freePort()}`;
    const analyticsMetrics = `127.0.0.1:${await freePort()}`;
    const [orders, analytics] = await Promise.all([
      startOrderService({
        env: {
          DATABASE_URL: db.url,
          ENGINE_SHARDS: `default=${engine.address}@1`,
          PROJECTION_LOCK_KEY: String(randomInt(1_000_000, 2_000_000_000)),
          REDIS_KEY_PREFIX: `hft-soak:${suffix}:`,
          KAFKA_CLIENT_ID: `hft-soak-${suffix}`,
          OTEL_SDK_DISABLED: "true",
        },
      }).then((service) => (stops.push(() => service.stop("SIGTERM")), service)),
      startServiceProcess(
        "analytics-service/src/main.ts",
        {
          DATABASE_URL: db.url,
          ANALYTICS_SERVICE_LISTEN: analyticsAddress,
          ANALYTICS_SERVICE_METRICS_LISTEN: analyticsMetrics,
          ANALYTICS_TOPIC: topic,
          ANALYTICS_GROUP_ID: `hft-soak-${suffix}`,
          KAFKA_CLIENT_ID: `hft-soak-${suffix}`,
          OTEL_SDK_DISABLED: "true",
        },
        "analytics service listening",
      ).then((service) => (stops.push(() => service.stop("SIGTERM")), service)),
    ]);
    await orders.waitForLog((line) => line.msg === "instruments defined in the engine");
    const gateway = await startGatewayProcess({ orders: orders.address, analytics: analyticsAddress }, { ...gatewayBenchEnv, GATEWAY_REDIS_KEY_PREFIX: `hft-soak:${suffix}:gateway:` });
    stops.push(() => stopChild(gateway.child));
    return {
      processes: [
        { name: "engine", pid: engine.pid },
        { name: "order-service", pid: orders.pid, metricsUrl: `http://${orders.metricsAddress}/metrics` },
        { name: "analytics-service", pid: analytics.pid, metricsUrl: `http://${analyticsMetrics}/metrics` },
        { name: "gateway", pid: gateway.child.pid!, metricsUrl: `http://${gateway.address}/metrics` },
      ],
      orderService: orders.address,
      analytics: analyticsAddress,
      gatewayUrl: `http://${gateway.address}`,
      accounts,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** RSS and open descriptors from /proc, heap from /metrics; undefined once the process is gone. */
async function sampleOf(watched: Watched, atSeconds: number): Promise<Sample | undefined> {
  const status = await readFile(`/proc/${watched.pid}/status`, "utf8").catch(() => "");
  const rssKib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (rssKib === undefined) return undefined; // gone, or a zombie
  const fds = (await readdir(`/proc/${watched.pid}/fd`).catch(() => [])).length;
  let heapUsedBytes: number | undefined;
  if (watched.metricsUrl) {
    const text = await fetch(watched.metricsUrl, { signal: AbortSignal.timeout(3_000) }).then((r) => r.text()).catch(() => "");
    heapUsedBytes = metricValue(text, "nodejs_heap_size_used_bytes");
  }
  return { atSeconds, rssBytes: Number(rssKib) * 1024, fds, ...(heapUsedBytes === undefined ? {} : { heapUsedBytes }) };
}

type Outcome = "ok" | "refused" | "failed";

/** Outcomes per kind of operation, and the first distinct failure messages. */
class Tally {
  readonly counts: Record<string, Record<Outcome, number>> = {};
  readonly failures: string[] = [];
  /** Order updates and market data the WebSocket clients received (not operations). */
  received = 0;
  record(kind: string, outcome: Outcome, detail?: string): void {
    const count = (this.counts[kind] ??= { ok: 0, refused: 0, failed: 0 });
    count[outcome]++;
    if (outcome === "failed" && detail !== undefined) {
      const line = `${kind}: ${detail}`;
      if (this.failures.length < 20 && !this.failures.includes(line)) this.failures.push(line);
    }
  }
  total(outcome: Outcome): number {
    return Object.values(this.counts).reduce((sum, c) => sum + c[outcome], 0);
  }
}

// Refusals a correct platform gives this load: cancelling an order that has just filled, say.
const refusalCodes = new Set([grpc.status.FAILED_PRECONDITION, grpc.status.NOT_FOUND, grpc.status.INVALID_ARGUMENT, grpc.status.ALREADY_EXISTS]);
const restRefusals = new Set([400, 404, 409, 412, 422]);

const SYMBOL = "AAPL";
/** How long an OrderEntry stream, a WebSocket client and a server stream stay open before being replaced. */
const ENTRY_STREAM_MS = 10_000;
const WS_LIFETIME_MS = 5_000;
const SERVER_STREAM_MS = 3_000;
/** Resting orders the load keeps at most: beyond, it cancels instead of placing, so the book stays bounded. */
const MAX_RESTING = 400;
const MAX_IN_FLIGHT = 500;

/** Drives the mixed load until `signal` aborts; resolves once everything it opened is closed. */
async function runLoad(platform: Platform, options: SoakOptions, tally: Tally, signal: AbortSignal): Promise<void> {
  const tokens = await Promise.all(platform.accounts.map((account) => bearer(account)));
  const metadata = tokens.map((token) => {
    const m = new grpc.Metadata();
    m.set("authorization", `Bearer ${token}`);
    return m;
  });
  const orders = new OrderServiceClient(platform.orderService, grpc.credentials.createInsecure());
  const market = new MarketDataServiceClient(platform.orderService, grpc.credentials.createInsecure());
  const analytics = new AnalyticsServiceClient(platform.analytics, grpc.credentials.createInsecure());
  const resting: { orderId: string; account: number }[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  let sequence = 0;
  const newOrder = (account: number) =>
    limitOrder(SYMBOL, Math.random() < 0.5 ? Side.SIDE_BUY : Side.SIDE_SELL, 9_998 + randomInt(5), 10_000, `soak-${process.pid}-${sequence++}-${account}`);
  const rest = (order: Order | undefined, account: number) => {
    if (order && (order.status === OrderStatus.ORDER_STATUS_NEW || order.status === OrderStatus.ORDER_STATUS_PARTIALLY_FILLED)) resting.push({ orderId: order.orderId, account });
  };
  const grpcOutcome = (kind: string, error: grpc.ServiceError | null) =>
    error === null ? tally.record(kind, "ok") : tally.record(kind, refusalCodes.has(error.code) ? "refused" : "failed", `${grpc.status[error.code]} ${error.details}`);
  const deadline = () => ({ deadline: Date.now() + 10_000 });

  // OrderEntry: one stream per account, each closed and reopened after ENTRY_STREAM_MS.
  interface EntryStream {
    readonly call: grpc.ClientDuplexStream<OrderEntryRequest, OrderEntryResponse>;
    readonly openedAt: number;
    readonly pending: Map<bigint, "place" | "cancel">;
  }
  const entryStreams = new Map<number, EntryStream>();
  const openEntryStream = (account: number): EntryStream => {
    const call = orders.orderEntry(metadata[account]!);
    const stream: EntryStream = { call, openedAt: Date.now(), pending: new Map() };
    call.on("data", (response: OrderEntryResponse) => {
      const kind = stream.pending.get(response.requestId);
      if (kind === undefined) return; // an unsolicited update (a later fill)
      stream.pending.delete(response.requestId);
      if (response.result?.$case === "order") {
        tally.record(`entry ${kind}`, "ok");
        if (kind === "place") rest(response.result.value, account);
      } else {
        const error = response.result?.value;
        tally.record(`entry ${kind}`, error && refusalCodes.has(error.code) ? "refused" : "failed", `${error?.reason} ${error?.message}`);
      }
    });
    let settle!: () => void;
    const closed = new Promise<void>((resolve) => (settle = resolve));
    const unanswered = (detail: string) => {
      for (const kind of stream.pending.values()) tally.record(`entry ${kind}`, "failed", detail);
      stream.pending.clear();
      settle();
    };
    call.on("error", (error: grpc.ServiceError) => unanswered(`stream ${grpc.status[error.code]} ${error.details}`));
    call.on("status", () => unanswered("stream ended before answering"));
    track(closed);
    tally.record("entry stream opened", "ok");
    return stream;
  };
  const entryStreamOf = (account: number): EntryStream => {
    const current = entryStreams.get(account);
    if (current && Date.now() - current.openedAt < ENTRY_STREAM_MS) return current;
    current?.call.end();
    const opened = openEntryStream(account);
    entryStreams.set(account, opened);
    return opened;
  };
  let requestId = 0n;
  const entry = (account: number, action: OrderEntryRequest["action"]) => {
    const stream = entryStreamOf(account);
    const id = ++requestId;
    stream.pending.set(id, action!.$case === "place" ? "place" : "cancel");
    stream.call.write({ requestId: id, action });
  };

  const restCall = async (kind: string, account: number, method: string, path: string, body?: object) => {
    try {
      const response = await fetch(`${platform.gatewayUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${tokens[account]}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
      const json: unknown = await response.json().catch(() => undefined);
      if (response.ok) tally.record(kind, "ok");
      else tally.record(kind, restRefusals.has(response.status) ? "refused" : "failed", `HTTP ${response.status} ${JSON.stringify(json).slice(0, 200)}`);
      return response.ok ? json : undefined;
    } catch (error) {
      tally.record(kind, "failed", (error as Error).message);
      return undefined;
    }
  };

  /** One order operation: the i-th of a fixed mix of twenty. */
  const operate = (i: number) => {
    const account = randomInt(platform.accounts.length);
    const slot = resting.length > MAX_RESTING && i % 20 < 12 ? 12 : i % 20;
    if (slot < 8) return entry(account, { $case: "place", value: newOrder(account) });
    if (slot < 12) {
      return track(new Promise<void>((resolve) =>
        orders.placeOrder(newOrder(account), metadata[account]!, deadline(), (error, response) => (grpcOutcome("unary place", error), error || rest(response.order, account), resolve())),
      ));
    }
    if (slot < 15) {
      const victim = resting.shift();
      if (!victim) return;
      if (slot === 14) return entry(victim.account, { $case: "cancel", value: { orderId: victim.orderId } });
      return track(new Promise<void>((resolve) => orders.cancelOrder({ orderId: victim.orderId }, metadata[victim.account]!, deadline(), (error) => (grpcOutcome("unary cancel", error), resolve()))));
    }
    if (slot === 15) {
      const { clientOrderId, side, price, quantity } = newOrder(account);
      const body = { clientOrderId, symbol: SYMBOL, side: Side[side], type: "ORDER_TYPE_LIMIT", timeInForce: "TIME_IN_FORCE_GTC", price, quantity };
      return track(restCall("rest place", account, "POST", "/api/v1/orders", body).then((json) => {
        const order = (json as { order?: { orderId?: string; status?: string } } | undefined)?.order;
        if (order?.orderId && (order.status === "ORDER_STATUS_NEW" || order.status === "ORDER_STATUS_PARTIALLY_FILLED")) resting.push({ orderId: order.orderId, account });
      }));
    }
    const known = resting.at(-1);
    if (slot === 16 && known) return track(restCall("rest get", known.account, "GET", `/api/v1/orders/${known.orderId}`));
    if (slot === 17) return track(restCall("rest list", account, "GET", `/api/v1/orders?symbol=${SYMBOL}&pageSize=20`));
    if (slot === 18) return track(restCall("rest book", account, "GET", `/api/v1/book/${SYMBOL}?depth=10`));
    const victim = slot === 19 ? resting.shift() : undefined;
    if (victim) return track(restCall("rest cancel", victim.account, "DELETE", `/api/v1/orders/${victim.orderId}`));
  };

  /** A WebSocket client that subscribes to its orders and the symbol's market data, stays WS_LIFETIME_MS and leaves. */
  const webSocketClient = () =>
    new Promise<void>((resolve) => {
      const account = randomInt(platform.accounts.length);
      const ws = new WebSocket(`${platform.gatewayUrl.replace("http", "ws")}/ws`, { headers: { authorization: `Bearer ${tokens[account]}` }, perMessageDeflate: false });
      let subscribed = 0;
      let leaving = false;
      let failure: string | undefined;
      const leave = setTimeout(() => ((leaving = true), ws.close(1000, "soak client leaves")), WS_LIFETIME_MS);
      ws.on("open", () => {
        ws.send(JSON.stringify({ type: "subscribe", channel: "orders" }));
        ws.send(JSON.stringify({ type: "subscribe", channel: "market", symbol: SYMBOL }));
      });
      ws.on("message", (data: Buffer) => {
        const text = data.toString();
        if (text.includes('"type":"subscribed"')) subscribed++;
        else if (text.includes('"type":"error"')) failure ??= text.slice(0, 200);
        else tally.received++;
      });
      ws.on("error", (error) => (failure ??= error.message));
      const onAbort = () => ((leaving = true), ws.close(1001, "soak ends"));
      signal.addEventListener("abort", onAbort, { once: true });
      ws.on("close", (code) => {
        clearTimeout(leave);
        signal.removeEventListener("abort", onAbort);
        if (!leaving) failure ??= `closed early with ${code}`;
        else if (subscribed < 2) failure ??= `${subscribed} of 2 subscriptions confirmed`;
        tally.record("ws client", failure ? "failed" : "ok", failure);
        resolve();
      });
    });

  /** StreamOrderUpdates and StreamMarketData straight on the order service, cancelled after SERVER_STREAM_MS. */
  const serverStreams = () => {
    const account = randomInt(platform.accounts.length);
    const calls: [string, grpc.ClientReadableStream<unknown>][] = [
      ["grpc order stream", orders.streamOrderUpdates({ fromSequence: 0n, symbol: "", account: "" }, metadata[account]!)],
      ["grpc market stream", market.streamMarketData({ symbols: [SYMBOL], depth: 5, includeL1: true, includeL2: true, includeTrades: true }, metadata[account]!)],
    ];
    for (const [kind, call] of calls) {
      track(new Promise<void>((resolve) => {
        let cancelled = false;
        const cancel = setTimeout(() => ((cancelled = true), call.cancel()), SERVER_STREAM_MS);
        call.on("data", () => undefined);
        call.on("error", (error: grpc.ServiceError) => {
          clearTimeout(cancel);
          tally.record(kind, cancelled && error.code === grpc.status.CANCELLED ? "ok" : "failed", `${grpc.status[error.code]} ${error.details}`);
          resolve();
        });
        call.on("end", () => (clearTimeout(cancel), cancelled || tally.record(kind, "failed", "ended before being cancelled"), resolve()));
      }));
    }
  };

  const analyticsQuery = (i: number) => {
    const account = randomInt(platform.accounts.length);
    track(new Promise<void>((resolve) => {
      const finish = (kind: string) => (error: grpc.ServiceError | null) => (grpcOutcome(kind, error), resolve());
      if (i % 3 === 0) analytics.getAnalytics({ account: "" }, metadata[account]!, deadline(), finish("analytics summary"));
      else if (i % 3 === 1) analytics.getSymbolStats({ symbol: SYMBOL, account: "" }, metadata[account]!, deadline(), finish("analytics symbol stats"));
      else analytics.getDailyPnl({ days: 7, account: "" }, metadata[account]!, deadline(), finish("analytics daily pnl"));
    }));
  };

  const started = Date.now();
  let operations = 0;
  let webSocketsOpen = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    // Order operations due by now at the fixed rate; skipped (and counted) when too many are in flight.
    const due = Math.floor(((Date.now() - started) / 1000) * options.rate) - operations;
    for (let n = 0; n < due; n++, operations++) {
      if (inFlight.size > MAX_IN_FLIGHT) tally.record("order operation", "failed", `skipped: ${MAX_IN_FLIGHT} calls in flight`);
      else operate(operations);
    }
    if (ticks % 5 === 0) analyticsQuery(ticks / 5); // 2/s
    if (ticks % 20 === 0) serverStreams(); // every 2 s
    if (ticks % 10 === 0 && webSocketsOpen < options.wsClients) {
      webSocketsOpen++;
      track(webSocketClient().finally(() => webSocketsOpen--));
    }
  }, 100);
  await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
  clearInterval(timer);
  for (const stream of entryStreams.values()) stream.call.end();
  const drained = Promise.all([...inFlight]);
  await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  orders.close();
  market.close();
  analytics.close();
}

async function main(): Promise<number> {
  let options: SoakOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  console.log(`soak: starting an engine, order service, analytics service and gateway of its own`);
  const platform = await startPlatform();
  const tally = new Tally();
  const samples: Record<string, Sample[]> = Object.fromEntries(platform.processes.map((p) => [p.name, []]));
  const died: string[] = [];
  const startedAt = new Date();
  const started = performance.now();
  const stopLoad = new AbortController();
  try {
    console.log(`soak: ${options.minutes} min at ${options.rate} order operations/s, sampling every ${options.sampleSeconds} s (warm-up ${options.warmupMinutes} min)`);
    const load = runLoad(platform, options, tally, stopLoad.signal);
    const sampleAll = async () => {
      const at = (performance.now() - started) / 1000;
      await Promise.all(platform.processes.map(async (p) => {
        const sample = await sampleOf(p, at);
        if (sample) samples[p.name]!.push(sample);
        else if (!died.includes(p.name)) died.push(p.name);
      }));
    };
    const end = started + options.minutes * 60_000;
    while (performance.now() < end && !interrupt.signal.aborted && died.length === 0) {
      await sampleAll();
      const wait = Math.min(options.sampleSeconds * 1000, end - performance.now());
      if (wait > 0) await sleep(wait, undefined, { signal: interrupt.signal }).catch(() => undefined);
    }
    if (died.length === 0) await sampleAll();
    stopLoad.abort();
    await load;
  } finally {
    stopLoad.abort();
    await platform.stop();
  }

  const warmupSeconds = options.warmupMinutes * 60;
  const growth: Record<string, Partial<Record<Measure, Growth>>> = {};
  for (const [name, list] of Object.entries(samples)) {
    growth[name] = {};
    for (const measure of measures) {
      const g = growthOf(list, measure, warmupSeconds);
      if (g) growth[name][measure] = g;
    }
  }
  const ok = tally.total("ok");
  const refused = tally.total("refused");
  const failed = tally.total("failed");
  const failedFraction = failed / Math.max(1, ok + refused + failed);
  const verdict = interrupt.signal.aborted ? "interrupted" : died.length > 0 ? `died: ${died.join(", ")}` : ok === 0 ? "no operation succeeded" : failedFraction > options.maxErrorFraction ? `${(failedFraction * 100).toFixed(2)} % of operations failed` : "ran";
  const report = {
    startedAt: startedAt.toISOString(),
    seconds: (performance.now() - started) / 1000,
    interrupted: interrupt.signal.aborted,
    options,
    verdict,
    died,
    load: { ok, refused, failed, failedFraction, byKind: tally.counts, failures: tally.failures, webSocketMessagesReceived: tally.received },
    growth,
    samples,
  };
  await mkdir(options.out, { recursive: true });
  const file = `${options.out}/${startedAt.toISOString().replace(/[:.]/g, "-")}.json`;
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);

  console.log(`\n${formatTable(growth)}\n`);
  console.log(`load: ${ok} ok, ${refused} refused, ${failed} failed (${(failedFraction * 100).toFixed(2)} %); ${tally.received} WebSocket messages received`);
  for (const [kind, c] of Object.entries(tally.counts)) console.log(`  ${kind.padEnd(24)} ${c.ok} ok, ${c.refused} refused, ${c.failed} failed`);
  for (const line of tally.failures) console.log(`  failure: ${line}`);
  console.log(`soak: ${verdict}; report ${file}`);
  if (interrupt.signal.aborted) return 130;
  return verdict === "ran" ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`soak failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
