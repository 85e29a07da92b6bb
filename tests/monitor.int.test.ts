/**
 * scripts/monitor.sh against processes of this test: an engine, the order service, the analytics
 * service (on a topic of its own) and the gateway on free ports, with the local stack's
 * PostgreSQL, Redis, Kafka, Prometheus and Jaeger; the monitor is pointed at them through the
 * services' own variables, as an operator points it at another deployment.
 */
import { type ChildProcess, execFile, execFileSync } from "node:child_process";
import { randomInt, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaClient, createMigrator, kafkaConfig, loadConfig } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { type AnalyticsProcess, startAnalytics } from "../analytics-service/tests/analytics-process.js";
import { type ExecutionTopic, createExecutionTopic } from "../analytics-service/tests/execution-topic.js";
import { type EngineProcess, freePort, startEngine } from "./support/engine-process.js";
import { type OrderServiceProcess, startOrderService } from "./support/order-service-process.js";
import { startGatewayProcess } from "./support/ready-process.js";
import { until } from "./support/until.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);
/** Commands found once: one case runs the monitor with a PATH of dirname alone. */
const which = (command: string) => execFileSync("bash", ["-c", `command -v ${command}`]).toString().trim();
const bash = which("bash");

interface Check {
  readonly name: string;
  readonly status: "ok" | "warning" | "critical" | "unknown";
  readonly value: number | string | null;
  readonly message: string;
}
interface Report {
  readonly status: Check["status"];
  readonly exit_code: number;
  readonly checked_at: string;
  readonly checks: readonly Check[];
}

let db: TestDatabase;
let topic: ExecutionTopic;
let engine: EngineProcess;
let orders: OrderServiceProcess;
let analytics: AnalyticsProcess;
let gateway: ChildProcess;
let gatewayAddress: string;
let diskPath: string;

beforeAll(async () => {
  db = await createTestDatabase("monitor");
  await createMigrator({ pool: db.pool, directory: join(root, "migrations") }).up();
  topic = await createExecutionTopic(createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: "monitor-test" }));
  engine = await startEngine();
  orders = await startOrderService({
    env: { DATABASE_URL: db.url, ENGINE_SHARDS: `default=${engine.address}@1`, PROJECTION_LOCK_KEY: String(randomInt(1_000_000, 2_000_000_000)), REDIS_KEY_PREFIX: `hft-monitor:${process.pid}:` },
  });
  analytics = await startAnalytics({ DATABASE_URL: db.url, ANALYTICS_TOPIC: topic.name, ANALYTICS_GROUP_ID: `monitor-${randomUUID()}` });
  const started = await startGatewayProcess({ orders: orders.address, analytics: analytics.address });
  gateway = started.child;
  gatewayAddress = started.address;
  diskPath = await mkdtemp(join(tmpdir(), "hft-monitor-"));
  // The lags have samples once the leader projected the instruments' definitions and the consumer has its partitions.
  await until(async () => (await metrics(orders.metricsAddress)).includes("hft_projection_lag_sequences{"), "the order service to report its projection lag");
  await until(async () => (await metrics(analytics.metricsAddress)).includes("analytics_consumer_lag{"), "the analytics service to report its consumer lag");
}, 180_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway.once("exit", resolve));
    gateway.kill("SIGTERM");
    await exited;
  }
  await analytics?.stop("SIGTERM");
  await orders?.stop("SIGTERM");
  await engine?.stop("SIGTERM");
  await topic?.delete();
  await db?.drop();
  if (diskPath) await rm(diskPath, { recursive: true, force: true });
});

async function metrics(address: string): Promise<string> {
  return fetch(`http://${address}/metrics`).then((r) => r.text(), () => "");
}

/** This test's processes, as the monitor's variables; disk thresholds at 100% so the machine's own disk does not decide. */
function deployment(): Record<string, string> {
  return {
    GATEWAY_LISTEN: gatewayAddress,
    ORDER_SERVICE_LISTEN: orders.address,
    ORDER_SERVICE_METRICS_LISTEN: orders.metricsAddress,
    ANALYTICS_SERVICE_LISTEN: analytics.address,
    ANALYTICS_SERVICE_METRICS_LISTEN: analytics.metricsAddress,
    ENGINE_SHARDS: `default=${engine.address}@1`,
    DATABASE_URL: db.url,
    MONITOR_DISK_PATHS: diskPath,
    MONITOR_DISK_WARN_PERCENT: "100",
    MONITOR_DISK_CRIT_PERCENT: "100",
    // a busy test machine must not turn a slow answer into a failed check
    MONITOR_TIMEOUT_SECONDS: "10",
  };
}

/** MONITOR_SKIP for every check but `kept`, so a case's exit code is that check's alone. */
const allChecks = ["gateway", "order-service", "analytics-service", "engine", "postgres", "redis", "kafka", "prometheus", "jaeger", "disk", "projection-lag", "analytics-lag"];
const onlyChecks = (...kept: string[]) => ({ MONITOR_SKIP: allChecks.filter((name) => !kept.includes(name)).join(",") });

/** Variables for one run: a value, or undefined to unset it. */
type Variables = Readonly<Record<string, string | undefined>>;

/** Runs the monitor with `env` over the deployment's variables; resolves with its exit code and output whatever the code. */
function monitor(env: Variables = {}, args: readonly string[] = ["--json"]): Promise<{ code: number; stdout: string; stderr: string }> {
  const merged = Object.fromEntries(Object.entries({ ...process.env, ...deployment(), ...env }).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return new Promise((resolve) => {
    execFile(bash, [join(root, "scripts/monitor.sh"), ...args], { env: merged, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

async function report(env: Variables = {}): Promise<{ code: number; report: Report; check: (name: string) => Check }> {
  const { code, stdout, stderr } = await monitor(env);
  let parsed: Report;
  try {
    parsed = JSON.parse(stdout) as Report;
  } catch (error) {
    throw new Error(`monitor.sh --json printed no valid JSON (exit ${code}): ${(error as Error).message}\n${stdout}\n${stderr}`, { cause: error });
  }
  const check = (name: string) => {
    const found = parsed.checks.find((c) => c.name === name);
    if (!found) throw new Error(`no check named ${name} in ${JSON.stringify(parsed.checks.map((c) => c.name))}`);
    return found;
  };
  return { code, report: parsed, check };
}

describe("scripts/monitor.sh", () => {
  it("reports every check ok and exits 0 while everything runs", async () => {
    const { code, report: result, check } = await report();
    expect(result.checks.filter((c) => c.status !== "ok"), JSON.stringify(result.checks, null, 2)).toEqual([]);
    expect(code).toBe(0);
    expect(result.status).toBe("ok");
    expect(result.exit_code).toBe(0);
    expect(Number.isNaN(Date.parse(result.checked_at))).toBe(false);
    const names = result.checks.map((c) => c.name);
    expect(names.filter((n) => !n.startsWith("disk:"))).toEqual([
      "gateway",
      "order-service",
      "analytics-service",
      "engine:default",
      "postgres",
      "redis",
      "kafka",
      "prometheus",
      "jaeger",
      "projection-lag",
      "analytics-lag",
    ]);
    expect(check("gateway")).toMatchObject({ value: 200, message: `http://${gatewayAddress}/health: every dependency answers` });
    expect(check("order-service")).toMatchObject({ value: "SERVING", message: `${orders.address}: hft.v1.OrderService SERVING; hft.v1.MarketDataService SERVING` });
    expect(check("analytics-service")).toMatchObject({ value: "SERVING", message: `${analytics.address}: hft.v1.AnalyticsService SERVING` });
    expect(check("engine:default")).toMatchObject({ value: "SERVING", message: `${engine.address}: hft.v1.EngineService SERVING` });
    expect(check("kafka").value).toBe(1);
    // The database URL is shown without its credentials.
    expect(check("postgres").message).toBe(`${db.url.replace(/\/\/[^@]*@/, "//")}: accepting connections`);
    expect(JSON.stringify(result)).not.toContain(`:${new URL(db.url).password}@`);
    const disks = result.checks.filter((c) => c.name.startsWith("disk:"));
    expect(disks).toHaveLength(1);
    expect(disks[0]!.value).toEqual(expect.any(Number));
    expect(disks[0]!.message).toContain(`holding ${diskPath}`);
    expect(check("projection-lag").value).toEqual(expect.any(Number));
    expect(check("projection-lag").message).toMatch(/^\d+ sequences behind at hft_projection_lag_sequences\{shard="default"[^}]*\} \(warning at 10000, critical at 100000\)$/);
    expect(check("analytics-lag")).toMatchObject({ value: 0 });
  });

  it("prints a Nagios-style summary line, then one line per check, without --json", async () => {
    const { code, stdout } = await monitor({}, []);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("HFT OK");
    expect(lines).toContainEqual(expect.stringMatching(/^OK\s+engine:default\s+127\.0\.0\.1:\d+: hft\.v1\.EngineService SERVING$/));
    expect(lines).toHaveLength(13);
  });

  it("warns, then goes critical, when a disk threshold is reached", async () => {
    const warned = await report({ ...onlyChecks("disk"), MONITOR_DISK_WARN_PERCENT: "0" });
    const disk = warned.report.checks.find((c) => c.name.startsWith("disk:"))!;
    expect(disk.status).toBe("warning");
    expect(disk.message).toContain("(warning at 0%, critical at 100%)");
    expect(warned.code).toBe(1);
    expect(warned.report.status).toBe("warning");

    const critical = await report({ ...onlyChecks("disk"), MONITOR_DISK_WARN_PERCENT: "0", MONITOR_DISK_CRIT_PERCENT: "0" });
    expect(critical.report.checks.find((c) => c.name.startsWith("disk:"))!.status).toBe("critical");
    expect(critical.code).toBe(2);
  });

  it("reports a missing data directory as unknown, exit 3", async () => {
    const missing = join(diskPath, "not-there");
    const { code, check } = await report({ ...onlyChecks("disk"), MONITOR_DISK_PATHS: missing });
    expect(check(`disk:${missing}`)).toMatchObject({ status: "unknown", message: `${missing} does not exist (MONITOR_DISK_PATHS)` });
    expect(code).toBe(3);
  });

  it("applies the lag thresholds to the lags the services report", async () => {
    const warned = await report({ ...onlyChecks("projection-lag"), MONITOR_PROJECTION_LAG_WARN: "0" });
    expect(warned.check("projection-lag").status).toBe("warning");
    expect(warned.check("projection-lag").message).toContain("(warning at 0, critical at 100000)");
    expect(warned.code).toBe(1);
    const critical = await report({ ...onlyChecks("analytics-lag"), MONITOR_ANALYTICS_LAG_WARN: "0", MONITOR_ANALYTICS_LAG_CRIT: "0" });
    expect(critical.check("analytics-lag")).toMatchObject({ status: "critical", value: 0 });
    expect(critical.code).toBe(2);
  });

  it("reports an unreachable Prometheus and Jaeger as warnings, and an unreachable Redis or Kafka as critical", async () => {
    const [prometheusPort, jaegerPort, redisPort, kafkaPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const watching = await report({ ...onlyChecks("prometheus", "jaeger"), MONITOR_PROMETHEUS_URL: `http://127.0.0.1:${prometheusPort}`, MONITOR_JAEGER_URL: `http://127.0.0.1:${jaegerPort}` });
    expect(watching.check("prometheus")).toMatchObject({ status: "warning", message: expect.stringContaining(`http://127.0.0.1:${prometheusPort}: Failed to connect to 127.0.0.1 port ${prometheusPort}`) });
    expect(watching.check("jaeger")).toMatchObject({ status: "warning", message: expect.stringContaining(`127.0.0.1:${jaegerPort}`) });
    expect(watching.code).toBe(1);

    const stack = await report({ ...onlyChecks("redis", "kafka"), REDIS_URL: `redis://127.0.0.1:${redisPort}`, KAFKA_BROKERS: `127.0.0.1:${kafkaPort}` });
    expect(stack.check("redis")).toMatchObject({ status: "critical", message: `redis://127.0.0.1:${redisPort}: Could not connect to Redis at 127.0.0.1:${redisPort}: Connection refused` });
    expect(stack.check("kafka")).toMatchObject({ status: "critical", value: 0, message: `no broker answers: 127.0.0.1:${kafkaPort}: connect: Connection refused` });
    expect(stack.code).toBe(2);
  });

  it("does not take another server on a broker's port for a Kafka broker", async () => {
    const redisPort = new URL(process.env.REDIS_URL!).port;
    const { check } = await report({ KAFKA_BROKERS: `127.0.0.1:${redisPort},${process.env.KAFKA_BROKERS}`, ...onlyChecks("kafka"), MONITOR_TIMEOUT_SECONDS: "3" });
    expect(check("kafka")).toMatchObject({ status: "warning", value: 1, message: expect.stringMatching(new RegExp(`^1 of 2 brokers answer; down: 127\\.0\\.0\\.1:${redisPort}: `)) });
  });

  it("reads the database URL from DATABASE_URL_FILE as the services do", async () => {
    const file = join(diskPath, "database-url");
    await writeFile(file, `${db.url}\n`);
    const { check } = await report({ DATABASE_URL: undefined, DATABASE_URL_FILE: file });
    expect(check("postgres")).toMatchObject({ status: "ok", message: expect.stringContaining(`/${db.name}: `) });

    const missing = await report({ DATABASE_URL: undefined, DATABASE_URL_FILE: join(diskPath, "nothing") });
    expect(missing.code).toBe(3);
    expect(missing.check("config").message).toBe(`DATABASE_URL_FILE: cannot read "${join(diskPath, "nothing")}"`);
    const both = await report({ DATABASE_URL_FILE: file });
    expect(both.check("config").message).toBe("DATABASE_URL: set either DATABASE_URL or DATABASE_URL_FILE, not both");
  });

  it("leaves out the checks named in MONITOR_SKIP", async () => {
    const { code, report: result } = await report({ MONITOR_SKIP: "prometheus, jaeger,disk", MONITOR_PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}` });
    expect(result.checks.map((c) => c.name)).not.toContain("prometheus");
    expect(result.checks.some((c) => c.name === "jaeger" || c.name.startsWith("disk:"))).toBe(false);
    expect(code).toBe(0);
  });

  it("refuses bad settings with exit 3 and a message naming each, in valid JSON", async () => {
    const { code, report: result } = await report({
      MONITOR_DISK_WARN_PERCENT: "eighty",
      MONITOR_PROJECTION_LAG_WARN: "500",
      MONITOR_PROJECTION_LAG_CRIT: "100",
      ENGINE_SHARDS: "default=127.0.0.1",
      MONITOR_SKIP: "grafana",
      GATEWAY_LISTEN: "localhost",
    });
    expect(code).toBe(3);
    expect(result.status).toBe("unknown");
    expect(result.checks.every((c) => c.name === "config" && c.status === "unknown")).toBe(true);
    expect(result.checks.map((c) => c.message)).toEqual([
      'GATEWAY_LISTEN: expected host:port; got "localhost"',
      'MONITOR_DISK_WARN_PERCENT: expected a whole number from 0 to 100; got "eighty"',
      "MONITOR_PROJECTION_LAG_WARN: 500 is above MONITOR_PROJECTION_LAG_CRIT (100)",
      'ENGINE_SHARDS: expected name=host:port@firstOrderId; got "default=127.0.0.1"',
      'MONITOR_SKIP: "grafana" is not a check; expected some of: gateway order-service analytics-service engine postgres redis kafka prometheus jaeger disk projection-lag analytics-lag',
    ]);
  });

  it("still prints valid JSON, exit 3, where jq is missing", async () => {
    const bin = await mkdtemp(join(tmpdir(), "hft-monitor-bin-"));
    await symlink(which("dirname"), join(bin, "dirname"));
    const { code, stdout } = await monitor({ PATH: bin });
    await rm(bin, { recursive: true });
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toEqual({ status: "unknown", exit_code: 3, checks: [{ name: "monitor", status: "unknown", value: null, message: "jq not found (scripts/install-system-deps.sh installs it)" }] });
  });

  it("refuses an unknown argument with exit 3 and its usage", async () => {
    const { code, stderr } = await monitor({}, ["--jsn"]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/^monitor: unknown argument "--jsn"\nusage: scripts\/monitor\.sh \[--json\]/);
  });

  it("reaches TLS listeners with TLS_CA_FILE and presents TLS_CLIENT_CERT_FILE where mutual TLS asks for it", async () => {
    // An engine and an analytics service of their own, each requiring client certificates of the development CA.
    const certs = join(diskPath, "certs");
    await run("bash", [join(root, "scripts/certs.sh"), certs]);
    const pem = (name: string) => readFileSync(join(certs, name));
    const tlsEngine = await startEngine({
      args: [`--tls-cert=${certs}/engine.crt`, `--tls-key=${certs}/engine.key`, `--tls-client-ca=${certs}/ca.crt`],
      credentials: grpc.credentials.createSsl(pem("ca.crt"), pem("operator-client.key"), pem("operator-client.crt")),
    });
    const tlsAnalytics = await startAnalytics({
      DATABASE_URL: db.url,
      ANALYTICS_TOPIC: topic.name,
      ANALYTICS_GROUP_ID: `monitor-tls-${randomUUID()}`,
      TLS_CERT_FILE: `${certs}/analytics-service.crt`,
      TLS_KEY_FILE: `${certs}/analytics-service.key`,
      TLS_CLIENT_CA_FILE: `${certs}/ca.crt`,
    });
    try {
      const only = {
        ...onlyChecks("engine", "analytics-service", "analytics-lag"),
        ENGINE_SHARDS: `default=${tlsEngine.address}@1`,
        ANALYTICS_SERVICE_LISTEN: tlsAnalytics.address,
        ANALYTICS_SERVICE_METRICS_LISTEN: tlsAnalytics.metricsAddress,
        TLS_CA_FILE: `${certs}/ca.crt`,
      };
      const operator = { TLS_CLIENT_CERT_FILE: `${certs}/operator-client.crt`, TLS_CLIENT_KEY_FILE: `${certs}/operator-client.key` };
      await until(async () => (await report({ ...only, ...operator })).check("analytics-lag").value !== null, "the TLS analytics service to report its consumer lag");
      const mutual = await report({ ...only, ...operator });
      expect(mutual.report.checks.map((c) => [c.name, c.status])).toEqual([
        ["analytics-service", "ok"],
        ["engine:default", "ok"],
        ["analytics-lag", "ok"],
      ]);
      expect(mutual.check("analytics-lag").message).toContain(`at analytics_consumer_lag{`);

      // Without a client certificate the listeners refuse the monitor, and it says so.
      const refused = await report(only);
      expect(refused.code).toBe(2);
      expect(refused.check("engine:default").status).toBe("critical");
      expect(refused.check("analytics-service").status).toBe("critical");
      expect(refused.check("analytics-lag")).toMatchObject({ status: "unknown", message: expect.stringContaining(`cannot read https://${tlsAnalytics.metricsAddress}/metrics`) });

      // Plaintext to a TLS listener fails too: nothing passes by accident.
      const plaintext = await report({ ...only, TLS_CA_FILE: undefined, MONITOR_TIMEOUT_SECONDS: "1" });
      expect(plaintext.check("engine:default").status).toBe("critical");
      expect(plaintext.check("analytics-service").status).toBe("critical");

      const halfPair = await report({ ...only, TLS_CLIENT_CERT_FILE: operator.TLS_CLIENT_CERT_FILE });
      expect(halfPair.code).toBe(3);
      expect(halfPair.check("config").message).toBe("TLS_CLIENT_KEY_FILE: expected with TLS_CLIENT_CERT_FILE (the certificate's private key)");
      const withoutCa = await report({ ...only, ...operator, TLS_CA_FILE: undefined });
      expect(withoutCa.check("config").message).toBe("TLS_CLIENT_CERT_FILE: expected with TLS_CA_FILE (internal calls use TLS only when the servers' CA is set)");
    } finally {
      await tlsAnalytics.stop("SIGTERM");
      await tlsEngine.stop("SIGTERM");
    }
  });

  // Last: it stops processes the other cases need.
  it("reports a stopped engine and analytics service critical with exit 2, naming them", async () => {
    await analytics.stop("SIGTERM");
    await engine.stop("SIGTERM");
    const { code, report: result, check } = await report();
    expect(code).toBe(2);
    expect(result.status).toBe("critical");
    expect(check("engine:default")).toMatchObject({ status: "critical", value: null, message: `${engine.address}: connect: connection refused` });
    expect(check("analytics-service")).toMatchObject({ status: "critical", message: `${analytics.address}: connect: connection refused` });
    expect(check("analytics-lag")).toMatchObject({ status: "unknown", message: expect.stringContaining(`cannot read http://${analytics.metricsAddress}/metrics`) });
    // The gateway names the backend it lost; the order service stops serving once its engine link is down.
    expect(check("gateway")).toMatchObject({ status: "critical", value: 503, message: expect.stringContaining(`hft.v1.AnalyticsService at ${analytics.address}:`) });
    await until(async () => (await report()).check("order-service").status === "critical", "the order service to report NOT_SERVING without its engine");
    expect((await report()).check("order-service")).toMatchObject({ value: "NOT_SERVING" });

    const text = await monitor({}, []);
    expect(text.code).toBe(2);
    expect(text.stdout.split("\n")[0]).toMatch(/^HFT CRITICAL: gateway critical, order-service critical, analytics-service critical, engine:default critical, analytics-lag unknown/);
  });
});
