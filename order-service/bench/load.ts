/**
 * Order-service load benchmark, everything on: a real hft-engine (journal fsync), the real order
 * service process (main.ts) with PostgreSQL, Redis and Kafka from the local stack, and beside it
 * in the same run a bare @grpc/grpc-js echo server with the same contract (bench/echo-server.ts),
 * so each figure also reads as a ratio to the transport's ceiling on this machine.
 *
 * Phases, each a bounded number of orders: PlaceOrder (unary) with --concurrency calls in flight,
 * against the service and against the echo; OrderEntry with --streams streams and --window
 * instructions in flight per stream, against both; then OrderEntry paced at half of the service's
 * measured streaming rate for --paced-seconds, for the latency there. During the streaming phase
 * the projection lag (engine sequence minus the sequence committed to PostgreSQL) is sampled every
 * 100 ms, and after it the time the projection takes to catch up.
 *
 * --replicas=N runs N service processes (one of them takes the projection lock, as replicas do in
 * production) and spreads the calls and streams over them, to see whether one event loop is the
 * limit.
 *
 * Needs the stack up (`bash scripts/stack.sh up`) and the engine built (engine-cpp/build/hft-engine).
 * Creates and drops its own database; loopback only; stops by itself.
 *
 *   node --conditions=@hft/source --import tsx order-service/bench/load.ts [--orders=20000] ...
 */
// The local stack's addresses from .env or .env.example, as the integration tests get them.
import "../../scripts/test-env.js";
import { type ChildProcess, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { createMigrator, signDevToken } from "@hft/service-kit";
import { createTestDatabase } from "@hft/service-kit/testing";
import { EngineServiceClient, type GetStatsResponse } from "@hft/contract/grpc/hft/v1/engine_service.js";
import { OrderServiceClient, type PlaceOrderResponse } from "@hft/contract/grpc/hft/v1/order_service.js";
import { startEngine } from "../../tests/support/engine-process.js";
import { type OrderServiceProcess, startOrderService } from "../../tests/support/order-service-process.js";
import { processCpuSeconds } from "../../tests/support/process-cpu.js";
import { driveOrderEntry, orderFor } from "./order-flow.js";

const print = (line: string) => process.stdout.write(`${line}\n`);
const root = fileURLToPath(new URL("../..", import.meta.url));
const flag = (name: string, fallback: number) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = found ? Number(found.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name}: expected a positive whole number, got ${found}`);
  return value;
};
const options = {
  orders: flag("orders", 20_000),
  concurrency: flag("concurrency", 64),
  streams: flag("streams", 4),
  window: flag("window", 256),
  pacedSeconds: flag("paced-seconds", 10),
  replicas: flag("replicas", 1),
  accounts: 16,
};
if (options.streams % options.replicas !== 0) throw new Error(`--streams=${options.streams} must be a multiple of --replicas=${options.replicas}`);
const secret = "bench-secret-at-least-32-characters-long";
const issuer = "hft-bench";
const audience = "hft";

interface PhaseResult {
  readonly name: string;
  readonly orders: number;
  readonly seconds: number;
  readonly latenciesUs: number[];
  readonly errors: Map<string, number>;
  /** CPU the service processes spent per order in the phase (user + system); undefined for the echo. */
  cpuMsPerOrder?: number;
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function report(result: PhaseResult): string {
  const sorted = [...result.latenciesUs].sort((a, b) => a - b);
  const us = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} ms` : `${Math.round(v)} µs`);
  const errors = [...result.errors].map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  return `${result.name.padEnd(44)} ${String(result.orders).padStart(7)} orders  ${(result.orders / result.seconds).toFixed(0).padStart(6)}/s  p50 ${us(percentile(sorted, 0.5))}  p90 ${us(percentile(sorted, 0.9))}  p99 ${us(percentile(sorted, 0.99))}  max ${us(sorted.at(-1) ?? NaN)}  errors: ${errors}`;
}

const tokens: grpc.Metadata[] = [];
const metadataFor = (index: number) => tokens[index % tokens.length]!;
const codeName = (error: grpc.ServiceError) => grpc.status[error.code] ?? String(error.code);

async function unaryPhase(name: string, clients: readonly OrderServiceClient[], run: string, count: number): Promise<PhaseResult> {
  const latenciesUs: number[] = [];
  const errors = new Map<string, number>();
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async (_: unknown, w: number) => {
    const client = clients[w % clients.length]!;
    while (next < count) {
      const index = next++;
      const sent = process.hrtime.bigint();
      await new Promise<void>((resolve) =>
        client.placeOrder(orderFor(index, run), metadataFor(index), (error: grpc.ServiceError | null, _response: PlaceOrderResponse) => {
          if (error) errors.set(codeName(error), (errors.get(codeName(error)) ?? 0) + 1);
          else latenciesUs.push(Number(process.hrtime.bigint() - sent) / 1000);
          resolve();
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { name, orders: count, seconds: Number(process.hrtime.bigint() - start) / 1e9, latenciesUs, errors };
}

/**
 * OrderEntry with `window` instructions in flight per stream; with `ratePerSecond`, instructions
 * are instead sent on a schedule (all streams together), for `count` instructions.
 */
async function streamPhase(name: string, clients: readonly OrderServiceClient[], run: string, count: number, ratePerSecond?: number): Promise<PhaseResult> {
  // The streams split evenly over the clients (the replicas), each with its share of the orders and the rate.
  const streams = options.streams / clients.length;
  const share = Math.ceil(count / clients.length);
  const results = await Promise.all(
    clients.map((client, c) =>
      driveOrderEntry(client, {
        streams,
        count: Math.min(share, count - c * share),
        window: options.window,
        ...(ratePerSecond === undefined ? {} : { ratePerSecond: ratePerSecond / clients.length }),
        metadataFor: (stream) => metadataFor(c * streams + stream),
        orderFor: (index) => orderFor(c * share + index, run),
      }),
    ),
  );
  const errors = new Map<string, number>();
  for (const result of results) for (const [reason, n] of result.errors) errors.set(reason, (errors.get(reason) ?? 0) + n);
  return { name, orders: count, seconds: Math.max(...results.map((r) => r.seconds)), latenciesUs: results.flatMap((r) => r.latenciesUs), errors };
}

async function main(): Promise<void> {
  const db = await createTestDatabase("bench");
  const stop: (() => Promise<unknown>)[] = [() => db.drop()];
  try {
    await createMigrator({ pool: db.pool, directory: `${root}migrations` }).up();
    const names = Array.from({ length: options.accounts }, (_, i) => `bench-${i}`);
    await db.pool.query("INSERT INTO accounts (name, status) SELECT unnest($1::text[]), 'active'", [names]);
    for (const account of names) {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${await signDevToken({ account, role: "trader", hs256Secret: secret, issuer, audience })}`);
      tokens.push(metadata);
    }

    const engine = await startEngine();
    stop.unshift(() => engine.stop("SIGTERM"));
    const serviceEnv = {
      DATABASE_URL: db.url,
      ENGINE_SHARDS: `default=${engine.address}@1`,
      AUTH_HS256_SECRET: secret,
      AUTH_ISSUER: issuer,
      AUTH_AUDIENCE: audience,
      PROJECTION_LOCK_KEY: String(randomInt(1_000_000, 2_000_000_000)),
      REDIS_KEY_PREFIX: `hft-bench:${process.pid}:`,
      LOG_LEVEL: "info",
    };
    const services: OrderServiceProcess[] = [];
    for (let r = 0; r < options.replicas; r++) {
      const service = await startOrderService({ env: serviceEnv });
      stop.unshift(() => service.stop("SIGTERM"));
      await service.waitForLog((line) => line.msg === "instruments defined in the engine");
      services.push(service);
    }

    const echoProcess: ChildProcess = spawn(process.execPath, ["--conditions=@hft/source", "--import", "tsx", "order-service/bench/echo-server.ts"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    stop.unshift(async () => echoProcess.kill("SIGTERM"));
    const echoAddress = await new Promise<string>((resolve, reject) => {
      echoProcess.stdout!.on("data", (chunk: Buffer) => {
        const match = /listening (\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      echoProcess.once("exit", (code) => reject(new Error(`echo server exited with ${code}`)));
    });
    const echo = new OrderServiceClient(echoAddress, grpc.credentials.createInsecure());
    const orders = services.map((service) => service.client);
    const serviceCpu = () => services.reduce((sum, service) => sum + processCpuSeconds(service.pid), 0);
    /** Runs a phase of the service, with the CPU its processes spent per order. */
    const timed = async (phase: () => Promise<PhaseResult>): Promise<PhaseResult> => {
      const before = serviceCpu();
      const result = await phase();
      result.cpuMsPerOrder = ((serviceCpu() - before) * 1000) / result.orders;
      return result;
    };

    print(`order-service load: ${JSON.stringify(options)}`);
    const results: PhaseResult[] = [];
    await unaryPhase("warm-up (not reported)", orders, "warm", Math.min(5_000, options.orders));
    await unaryPhase("warm-up echo (not reported)", [echo], "warm-echo", Math.min(5_000, options.orders));
    results.push(await timed(() => unaryPhase(`PlaceOrder, ${options.concurrency} in flight: service`, orders, "unary", options.orders)));
    results.push(await unaryPhase(`PlaceOrder, ${options.concurrency} in flight: echo`, [echo], "unary-echo", options.orders));

    // Projection lag while streaming: the engine's sequence minus the committed checkpoint.
    const engineClient = new EngineServiceClient(engine.address, grpc.credentials.createInsecure());
    const engineSequence = () =>
      new Promise<bigint>((resolve, reject) => engineClient.getStats({}, (error: grpc.ServiceError | null, stats: GetStatsResponse) => (error ? reject(error) : resolve(stats.lastSequence))));
    const checkpoint = async () => BigInt((await db.pool.query<{ last_sequence: string }>("SELECT last_sequence FROM engine_checkpoints WHERE shard = 'default'")).rows[0]?.last_sequence ?? 0);
    const lags: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [head, applied] = await Promise.all([engineSequence(), checkpoint()]);
        lags.push(Number(head - applied));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const streamed = await timed(() => streamPhase(`OrderEntry, ${options.streams} streams x ${options.window} in flight: service`, orders, "stream", options.orders * 2));
    sampling = false;
    await sampler;
    const streamEnd = Date.now();
    const head = await engineSequence();
    while ((await checkpoint()) < head) await new Promise((r) => setTimeout(r, 5));
    const catchUpMs = Date.now() - streamEnd;
    results.push(streamed);
    results.push(await streamPhase(`OrderEntry, ${options.streams} streams x ${options.window} in flight: echo`, [echo], "stream-echo", options.orders * 2));

    const halfRate = Math.round(streamed.orders / streamed.seconds / 2);
    results.push(await timed(() => streamPhase(`OrderEntry paced at ${halfRate}/s (half): service`, orders, "paced", halfRate * options.pacedSeconds, halfRate)));

    print("");
    for (const result of results) print(report(result));
    const sortedLags = [...lags].sort((a, b) => a - b);
    print(
      `projection lag while streaming (engine sequence - committed, every 100 ms, ${lags.length} samples): p50 ${percentile(sortedLags, 0.5)}  max ${sortedLags.at(-1)}; caught up ${catchUpMs} ms after the last answer`,
    );
    const [unary, unaryEcho, stream, streamEcho] = results.map((r) => r.orders / r.seconds);
    print(`ratios: PlaceOrder service/echo ${(unary! / unaryEcho!).toFixed(2)}; OrderEntry service/echo ${(stream! / streamEcho!).toFixed(2)}`);
    // The projection's work for a phase's orders partly falls into the next phase.
    print(`service CPU per order (user + system of its processes, /proc): ${results.filter((r) => r.cpuMsPerOrder !== undefined).map((r) => `${r.name.split(":")[0]} ${r.cpuMsPerOrder!.toFixed(3)} ms`).join("; ")}`);
    echo.close();
    engineClient.close();
  } finally {
    for (const step of stop) await step().catch((error: unknown) => console.error(`cleanup: ${(error as Error).message}`));
  }
}

await main();
