/**
 * Gateway load benchmark (loopback only, bounded in time): requests per second and latency of
 * GetOrder as REST (`GET /api/v1/orders/{id}`, HTTP/1.1 keep-alive) and as Connect unary (HTTP/2,
 * binary), side by side in one run:
 *
 *   bare      the bare connect-node server (bench/bare-server.ts) called directly: the ceiling
 *   gateway   a gateway process in front of that bare server: the gateway's own cost
 *   platform  a gateway process in front of the real order service (GATEWAY_ORDER_SERVICE,
 *             default the one scripts/services.sh runs): what a client gets end to end
 *
 * Each target is first driven closed-loop (CONCURRENCY callers, DURATION_S seconds) for its peak
 * rate, then open-loop at half that rate for the p99 the goal is about. The CPU time the servers
 * spent per request at the peak (user + system, from /proc) is printed last: on a busy machine it
 * moves far less than the rates do.
 *
 *   npx tsx --conditions=@hft/source gateway/bench/load.ts
 *   env: DURATION_S (default 5), CONCURRENCY (default 32), CONNECTIONS (HTTP/2 connections of the
 *   Connect client, default 4), ACCOUNT (default bench-gateway)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as http from "node:http";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { Http2SessionManager, createConnectTransport } from "@connectrpc/connect-node";
import { OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { createPostgresPool, env, loadConfig, postgresConfig, signDevToken } from "@hft/service-kit";
import { freePort } from "../../tests/support/engine-process.js";
import { processCpuSeconds } from "../../tests/support/process-cpu.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
for (const file of [".env", ".env.example"]) if (existsSync(`${root}${file}`)) process.loadEnvFile(`${root}${file}`);
const config = loadConfig({
  ...postgresConfig,
  AUTH_ISSUER: env.text(),
  AUTH_AUDIENCE: env.text(),
  AUTH_HS256_SECRET: env.text(32),
  REDIS_URL: env.text(),
  ORDER_SERVICE_LISTEN: env.hostPort().default("127.0.0.1:50061"),
  DURATION_S: env.int(1, 60).default(5),
  CONCURRENCY: env.int(1, 512).default(32),
  CONNECTIONS: env.int(1, 64).default(4),
  ACCOUNT: env.text().default("bench-gateway"),
});
const durationMs = config.DURATION_S * 1000;
const print = (line: string) => process.stdout.write(`${line}\n`);
const children: ChildProcess[] = [];
/** Each server's process id, by the address it listens on. */
const pids = new Map<string, number>();
/** The load client's connections, closed before the servers stop so that they drain at once. */
const clientConnections: (() => void)[] = [];
process.on("exit", () => children.forEach((child) => child.kill("SIGKILL")));
/** Stops the servers with SIGTERM (so profiles are written) and waits for them. */
async function stopChildren(): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve(null);
          child.once("exit", resolve);
          child.kill("SIGTERM");
          setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
        }),
    ),
  );
}

async function startProcess(args: string[], extraEnv: Record<string, string>, ready: (line: string) => string | undefined): Promise<string> {
  // PROF_DIR: CPU profiles of the servers (node --cpu-prof), written when they exit.
  const profile = process.env.PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROF_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, "--conditions=@hft/source", "--import", "tsx", ...args], { cwd: root, env: { ...process.env, ...extraEnv }, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  // Profiles are named by pid: say whose is whose.
  if (profile.length > 0) process.stderr.write(`${args.join(" ")} ${extraEnv.GATEWAY_ORDER_SERVICE ?? ""}: pid ${child.pid}\n`);
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split("\n")) {
        const found = ready(line);
        if (found) {
          pids.set(found, child.pid!);
          return resolve(found);
        }
      }
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}:\n${buffered}`)));
  });
}

async function startGatewayProcess(orderService: string): Promise<string> {
  const listen = `127.0.0.1:${await freePort()}`;
  await startProcess(
    ["gateway/src/main.ts"],
    {
      GATEWAY_LISTEN: listen,
      GATEWAY_ORDER_SERVICE: orderService,
      GATEWAY_MARKET_DATA_SERVICE: orderService,
      GATEWAY_RATE_LIMIT: "10000000",
      GATEWAY_REDIS_KEY_PREFIX: `bench:gateway:${process.pid}:`,
      LOG_LEVEL: "info", // "gateway listening" is an info line
    },
    (line) => (line.includes('"msg":"gateway listening"') ? listen : undefined),
  );
  return listen;
}

interface Result {
  readonly requests: number;
  readonly errors: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(latencies: number[], errors: number, elapsedMs: number): Result {
  const sorted = Float64Array.from(latencies).sort();
  return { requests: latencies.length, errors, rps: latencies.length / (elapsedMs / 1000), p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

type Call = () => Promise<void>;

/** CONCURRENCY callers back to back for the duration. */
async function closedLoop(call: Call): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: config.CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await call();
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  return summarise(latencies, errors, performance.now() - started);
}

/** Calls started at a fixed rate (1 ms ticks), whatever the answers do, for the duration. */
async function openLoop(call: Call, rate: number): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < durationMs) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++) {
      const t0 = performance.now();
      const p: Promise<void> = call().then(
        () => void latencies.push(performance.now() - t0),
        () => void errors++,
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  return summarise(latencies, errors, performance.now() - started);
}

function restCaller(address: string, token: string, orderId: string): Call {
  const agent = new http.Agent({ keepAlive: true, maxSockets: config.CONCURRENCY });
  clientConnections.push(() => agent.destroy());
  const [host, port] = address.split(":");
  return () =>
    new Promise((resolve, reject) => {
      const request = http.get({ host, port: Number(port), path: `/api/v1/orders/${orderId}`, agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
        response.resume();
        response.on("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`status ${response.statusCode}`))));
      });
      request.on("error", reject);
    });
}

/** Connect over CONNECTIONS HTTP/2 connections (default 4), calls spread round robin. */
function connectCaller(address: string, token: string, orderId: string): Call {
  const clients = Array.from({ length: config.CONNECTIONS }, () => {
    const sessionManager = new Http2SessionManager(`http://${address}`);
    clientConnections.push(() => sessionManager.abort());
    return createClient(OrderService, createConnectTransport({ baseUrl: `http://${address}`, httpVersion: "2", sessionManager }));
  });
  const headers = { authorization: `Bearer ${token}` };
  let next = 0;
  return async () => void (await clients[next++ % clients.length]!.getOrder({ orderId }, { headers }));
}

const cpuSeconds = (address: string) => processCpuSeconds(pids.get(address) ?? -1);

/** Drives `call` closed-loop, then open-loop at half the peak; `servers` are timed during the peak (name → address). */
async function measure(name: string, call: Call, servers: Record<string, string>): Promise<{ name: string; peak: Result; half: Result; cpuMsPerRequest: Record<string, number> }> {
  process.stderr.write(`${name}...\n`);
  for (let i = 0; i < 200; i++) await call(); // warm up connections and code paths
  const before = Object.fromEntries(Object.entries(servers).map(([server, address]) => [server, cpuSeconds(address)]));
  const peak = await closedLoop(call);
  const cpuMsPerRequest = Object.fromEntries(Object.entries(servers).map(([server, address]) => [server, ((cpuSeconds(address) - before[server]!) * 1000) / peak.requests]));
  const half = await openLoop(call, peak.rps / 2);
  return { name, peak, half, cpuMsPerRequest };
}

// An account and one of its orders on the real platform, placed through a gateway.
const pool = createPostgresPool({ url: config.DATABASE_URL, max: 1, applicationName: "hft-gateway-bench" });
await pool.query("INSERT INTO accounts (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", [config.ACCOUNT]);
await pool.end();
const token = await signDevToken({ account: config.ACCOUNT, role: "trader", hs256Secret: config.AUTH_HS256_SECRET, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE });

const bare = await startProcess(["gateway/bench/bare-server.ts", `127.0.0.1:${await freePort()}`], {}, (line) => /^listening (\S+)/.exec(line)?.[1]);
const gatewayOverBare = await startGatewayProcess(bare);
const gatewayOverPlatform = await startGatewayProcess(config.ORDER_SERVICE_LISTEN);

const placed = await createClient(OrderService, createConnectTransport({ baseUrl: `http://${gatewayOverPlatform}`, httpVersion: "2" })).placeOrder(
  { clientOrderId: `bench-${Date.now()}`, symbol: "BTC-USD", side: 1, type: 1, timeInForce: 1, price: "1.00", quantity: "0.0001" },
  { headers: { authorization: `Bearer ${token}` } },
);
const orderId = placed.order!.orderId;

const results = [];
const overBare = { gateway: gatewayOverBare, bare };
results.push(await measure("bare connect-node, Connect", connectCaller(bare, token, orderId), { bare }));
results.push(await measure("gateway → bare, Connect", connectCaller(gatewayOverBare, token, orderId), overBare));
results.push(await measure("gateway → bare, REST", restCaller(gatewayOverBare, token, orderId), overBare));
results.push(await measure("gateway → order service, Connect", connectCaller(gatewayOverPlatform, token, orderId), { gateway: gatewayOverPlatform }));
results.push(await measure("gateway → order service, REST", restCaller(gatewayOverPlatform, token, orderId), { gateway: gatewayOverPlatform }));

const ms = (value: number) => `${value.toFixed(2)} ms`;
print(`GetOrder, ${config.CONCURRENCY} callers (Connect on ${config.CONNECTIONS} HTTP/2 connections, REST on up to ${config.CONCURRENCY} HTTP/1.1 sockets), ${config.DURATION_S} s per phase, node ${process.version}`);
print("| target | peak req/s | p50 / p99 at peak | half load req/s | p50 / p99 at half load | errors |");
print("| --- | --- | --- | --- | --- | --- |");
for (const { name, peak, half } of results) {
  print(`| ${name} | ${Math.round(peak.rps).toLocaleString("en")} | ${ms(peak.p50)} / ${ms(peak.p99)} | ${Math.round(half.rps).toLocaleString("en")} | ${ms(half.p50)} / ${ms(half.p99)} | ${peak.errors + half.errors} |`);
}
const bareRps = results[0]!.peak.rps;
for (const { name, peak } of results.slice(1)) print(`${name}: ${((peak.rps / bareRps) * 100).toFixed(0)}% of the bare server's rate`);
for (const { name, cpuMsPerRequest } of results) {
  print(`${name}: CPU per request at peak ${Object.entries(cpuMsPerRequest).map(([server, value]) => `${server} ${value.toFixed(3)} ms`).join(", ")}`);
}
for (const close of clientConnections) close();
await stopChildren();
process.exit(0);
