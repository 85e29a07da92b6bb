/**
 * The Grafana dashboard against a real Prometheus: the engine, the order service, the analytics
 * service and the gateway run as the local stack runs them, a Prometheus of this test scrapes
 * them with the project's recording and alert rules, orders flow, and then every panel's query
 * must return data.
 */
import type { ChildProcess } from "node:child_process";
import { randomInt, randomUUID } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { createMigrator } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";
import { type AnalyticsProcess, startAnalytics } from "../analytics-service/tests/analytics-process.js";
import { type EngineProcess, freePort, startEngine } from "./support/engine-process.js";
import { bearer, limitOrder, placeOrder } from "./support/order-calls.js";
import { spawnUntilReady, startGatewayProcess } from "./support/ready-process.js";
import { type OrderServiceProcess, startOrderService } from "./support/order-service-process.js";
import { until } from "./support/until.js";

const root = fileURLToPath(new URL("..", import.meta.url));

interface Panel {
  readonly title: string;
  readonly datasource: { readonly uid: string };
  readonly targets: readonly { readonly expr: string; readonly datasource: { readonly uid: string } }[];
}
interface Dashboard {
  readonly refresh: string;
  readonly templating: { readonly list: readonly { readonly name: string }[] };
  readonly panels: readonly Panel[];
}

const readDashboard = async () => JSON.parse(await readFile(join(root, "grafana/dashboards/hft-overview.json"), "utf8")) as Dashboard;

interface Datasource {
  readonly uid: string;
  readonly type: string;
  readonly jsonData?: { readonly exemplarTraceIdDestinations?: readonly { readonly name: string; readonly datasourceUid: string }[] };
}
const readDatasources = async () =>
  (parseYaml(await readFile(join(root, "grafana/provisioning/datasources/prometheus.yml"), "utf8")) as { datasources: Datasource[] }).datasources;
/** The stack's Jaeger query API (scripts/stack.sh), where the services export their spans. */
const jaeger = "http://127.0.0.1:56686";

let db: TestDatabase;
let engine: EngineProcess;
let orders: OrderServiceProcess;
let analytics: AnalyticsProcess;
let gateway: ChildProcess;
let gatewayAddress: string;
let prometheus: ChildProcess;
let prometheusUrl: string;

beforeAll(async () => {
  db = await createTestDatabase("observability");
  await createMigrator({ pool: db.pool, directory: join(root, "migrations") }).up();
  await db.pool.query("INSERT INTO accounts (name) VALUES ('alice'), ('bob')");
  engine = await startEngine();
  orders = await startOrderService({
    env: { DATABASE_URL: db.url, ENGINE_SHARDS: `default=${engine.address}@1`, PROJECTION_LOCK_KEY: String(randomInt(1_000_000, 2_000_000_000)), REDIS_KEY_PREFIX: `hft-observe:${process.pid}:` },
  });
  await orders.waitForLog((line) => line.msg === "instruments defined in the engine");
  analytics = await startAnalytics({ DATABASE_URL: db.url, ANALYTICS_GROUP_ID: `observability-${randomUUID()}` });
  const started = await startGatewayProcess({ orders: orders.address, analytics: analytics.address });
  gateway = started.child;
  gatewayAddress = started.address;

  // Prometheus with the project's rules, scraping these processes every second.
  const dir = await mkdtemp(join(tmpdir(), "hft-prometheus-"));
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  const job = (name: string, target: string) => `  - job_name: ${name}\n    static_configs:\n      - targets: ["${target}"]\n        labels: { shard: default }\n`;
  await writeFile(
    join(dir, "prometheus.yml"),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${join(root, "prometheus/rules")}/*.yml\nscrape_configs:\n` +
      job("hft-engine", new URL(engine.metricsUrl).host) +
      job("hft-order-service", orders.metricsAddress) +
      job("hft-analytics-service", analytics.metricsAddress) +
      job("hft-gateway", gatewayAddress),
  );
  prometheus = await spawnUntilReady(
    "prometheus",
    [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--enable-feature=exemplar-storage"],
    {},
    "Server is ready to receive web requests",
  );
}, 180_000);

afterAll(async () => {
  prometheus?.kill("SIGTERM");
  gateway?.kill("SIGTERM");
  await analytics?.stop("SIGTERM");
  await orders?.stop("SIGTERM");
  await engine?.stop("SIGTERM");
  await db?.drop();
});

async function query(expr: string): Promise<unknown[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  if (body.status !== "success") throw new Error(`Prometheus refused ${expr}: ${body.error}`);
  return body.data!.result;
}

describe("the Grafana dashboard", () => {
  it("refreshes every 5 s and names only the provisioned datasource and defined variables", async () => {
    const dashboard = await readDashboard();
    const datasources = await readDatasources();
    const uid = datasources.find((d) => d.type === "prometheus")!.uid;
    // Exemplars open their trace in the provisioned Jaeger.
    const destinations = datasources.find((d) => d.uid === uid)!.jsonData?.exemplarTraceIdDestinations ?? [];
    expect(destinations.map((d) => [d.name, datasources.find((s) => s.uid === d.datasourceUid)?.type])).toEqual([["trace_id", "jaeger"]]);
    expect(dashboard.refresh).toBe("5s");
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
    const variables = new Set(dashboard.templating.list.map((v) => v.name));
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe(uid);
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        expect(target.datasource.uid, panel.title).toBe(uid);
        for (const [, name] of target.expr.matchAll(/\$\{?(\w+)/g)) expect(variables.has(name!), `${panel.title}: $${name}`).toBe(true);
      }
    }
  });

  it("returns data for every panel's query once the services have served traffic", async () => {
    // Trades between two accounts for a few seconds, so rates over a minute have two samples, and REST calls through the gateway to both backends.
    const endAt = Date.now() + 6_000;
    while (Date.now() < endAt) {
      await placeOrder(orders, limitOrder("AAPL", Side.SIDE_SELL, 10_000, 10_000, randomUUID().slice(0, 30)), "alice");
      await placeOrder(orders, limitOrder("AAPL", Side.SIDE_BUY, 10_100, 10_000, randomUUID().slice(0, 30)), "bob");
      for (const route of ["/api/v1/positions", "/api/analytics"]) {
        const rest = await fetch(`http://${gatewayAddress}${route}`, { headers: { authorization: `Bearer ${await bearer("alice")}` } });
        expect(rest.status, route).toBe(200);
      }
    }

    const dashboard = await readDashboard();
    const targets = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.title, expr: target.expr })));
    const empty = async () => (await Promise.all(targets.map(async (t) => ((await query(t.expr)).length === 0 ? [`${t.panel}: ${t.expr}`] : [])))).flat();
    let missing: string[] = [];
    await until(async () => (missing = await empty()).length === 0, "every panel query to return data", 45_000).catch(() => undefined);
    expect(missing).toEqual([]);
  }, 120_000);

  it("scrapes every service's /metrics as valid exposition, each with the metrics the dashboard and alerts name", async () => {
    const expected: Record<string, readonly string[]> = {
      "hft-engine": ["hft_engine_commands_total", "hft_engine_journal_fsync_microseconds_bucket", "hft_engine_last_sequence", "hft_engine_resting_orders"],
      "hft-order-service": [
        "hft_order_processing_microseconds_bucket",
        "hft_orders_total",
        "hft_active_positions",
        "hft_engine_link_up",
        "hft_projection_lag_sequences",
        "hft_dependency_operation_seconds_bucket",
        "grpc_server_handled_total",
        "process_cpu_seconds_total",
      ],
      "hft-analytics-service": ["analytics_consumer_lag", "analytics_batch_seconds_bucket", "analytics_messages_total", "grpc_server_handled_total"],
      "hft-gateway": ["hft_gateway_http_request_duration_seconds_bucket", "hft_gateway_rate_limited_total", "hft_gateway_websocket_connections"],
    };
    for (const [job, names] of Object.entries(expected)) {
      // Prometheus parsed the last scrape: up is 1 only for a target whose exposition it accepted.
      expect(await query(`up{job="${job}"} == 1`), `${job} up`).toHaveLength(1);
      const present = new Set(((await query(`group by (__name__) ({job="${job}"})`)) as { metric: { __name__: string } }[]).map((r) => r.metric.__name__));
      expect(names.filter((name) => !present.has(name)), job).toEqual([]);
    }
  });

  it("links the order latency panel to traces: its buckets carry exemplars whose trace ids Jaeger holds", async () => {
    const dashboard = await readDashboard();
    const withExemplars = dashboard.panels.flatMap((p) => p.targets.filter((t) => (t as { exemplar?: boolean }).exemplar).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(withExemplars.map((t) => t.panel)).toContain("Order latency (µs)");
    for (const target of withExemplars) {
      // What Grafana asks for the panel: the exemplars of the series the query selects.
      const now = Date.now() / 1000;
      let traceIds: string[] = [];
      await until(
        async () => {
          const response = await fetch(`${prometheusUrl}/api/v1/query_exemplars?query=${encodeURIComponent(target.expr)}&start=${now - 600}&end=${now}`);
          const body = (await response.json()) as { data: { exemplars: { labels: Record<string, string> }[] }[] };
          traceIds = body.data.flatMap((series) => series.exemplars.map((e) => e.labels.trace_id ?? ""));
          return traceIds.length > 0;
        },
        `exemplars for ${target.panel}: ${target.expr}`,
        30_000,
      );
      expect(traceIds.every((id) => /^[0-9a-f]{32}$/.test(id)), traceIds.join(", ")).toBe(true);
      let services: string[] = [];
      await until(
        async () => {
          const response = await fetch(`${jaeger}/api/traces/${traceIds.at(-1)}`);
          const body = response.ok ? ((await response.json()) as { data: { processes: Record<string, { serviceName: string }> }[] }) : { data: [] };
          services = body.data.flatMap((t) => Object.values(t.processes).map((p) => p.serviceName));
          return services.includes("hft-order-service");
        },
        () => `trace ${traceIds.at(-1)} in Jaeger with the order service's spans (services so far: ${services.join(", ")})`,
        30_000,
      );
    }
  });
});
