/**
 * One order is one trace in the local stack's Jaeger: the order service's server span, the
 * engine's span under it, the PostgreSQL work of the order path, the Kafka publish of the order's
 * fill by the projection, and the analytics service applying it, all under the trace id the
 * caller started.
 */
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigrator } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";
import { type AnalyticsProcess, startAnalytics } from "../analytics-service/tests/analytics-process.js";
import { type EngineProcess, startEngine } from "./support/engine-process.js";
import { bearer, limitOrder, placeOrder } from "./support/order-calls.js";
import { type GatewayProcess, startGatewayProcess } from "./support/ready-process.js";
import { type OrderServiceProcess, startOrderService } from "./support/order-service-process.js";
import { until } from "./support/until.js";

const jaeger = "http://127.0.0.1:56686";

let db: TestDatabase;
let engine: EngineProcess;
let orders: OrderServiceProcess;
let analytics: AnalyticsProcess;
let gateway: GatewayProcess;

beforeAll(async () => {
  db = await createTestDatabase("tracing");
  await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../migrations", import.meta.url)) }).up();
  await db.pool.query("INSERT INTO accounts (name) VALUES ('alice'), ('bob')");
  engine = await startEngine();
  orders = await startOrderService({
    // Debug: the order-update stream logs its resumption inside the call's span.
    env: { LOG_LEVEL: "debug", DATABASE_URL: db.url, ENGINE_SHARDS: `default=${engine.address}@1`, PROJECTION_LOCK_KEY: String(randomInt(1_000_000, 2_000_000_000)), REDIS_KEY_PREFIX: `hft-tracing:${process.pid}:` },
  });
  await orders.waitForLog((line) => line.msg === "instruments defined in the engine");
  analytics = await startAnalytics({ DATABASE_URL: db.url, ANALYTICS_GROUP_ID: `tracing-${randomUUID()}` });
  gateway = await startGatewayProcess({ orders: orders.address, analytics: analytics.address });
});

afterAll(async () => {
  gateway?.child.kill("SIGTERM");
  await analytics?.stop("SIGTERM");
  await orders?.stop("SIGTERM");
  await engine?.stop("SIGTERM");
  await db?.drop();
});

interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly processID: string;
  readonly references: readonly { readonly refType: string; readonly spanID: string }[];
}
interface JaegerTrace {
  readonly spans: readonly JaegerSpan[];
  readonly processes: Record<string, { readonly serviceName: string }>;
}

async function jaegerTrace(traceId: string): Promise<JaegerTrace | undefined> {
  const response = await fetch(`${jaeger}/api/traces/${traceId}`);
  if (response.status === 404) return undefined;
  const body = (await response.json()) as { data?: JaegerTrace[] };
  return body.data?.[0];
}

/** Places an order as `account` inside the trace `traceId`, as a traced client would. */
const placeInTrace = (traceId: string, account: string, side: Side, priceTicks: number) =>
  placeOrder(orders, limitOrder("AAPL", side, priceTicks, 10_000, randomUUID().slice(0, 30)), account, { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` });

/** Waits until Jaeger holds trace `traceId` with what `complete` asks for. */
async function traceWhen(traceId: string, complete: (t: JaegerTrace) => boolean, what: string): Promise<JaegerTrace> {
  let found: JaegerTrace | undefined;
  await until(
    async () => {
      found = await jaegerTrace(traceId);
      return found !== undefined && complete(found);
    },
    () => `trace ${traceId} in Jaeger with ${what} (so far: ${found?.spans.map((s) => s.operationName).join(", ") || "nothing"})`,
    45_000,
  );
  return found!;
}

const serviceOf = (t: JaegerTrace, span: JaegerSpan) => t.processes[span.processID]!.serviceName;
const parentIn = (t: JaegerTrace, span: JaegerSpan) => t.spans.find((s) => s.spanID === span.references.find((r) => r.refType === "CHILD_OF")?.spanID);

describe("tracing", () => {
  it("continues a REST caller's trace through the gateway into the order service and the engine", async () => {
    const traceId = randomBytes(16).toString("hex");
    const response = await fetch(`http://${gateway.address}/api/v1/orders`, {
      method: "POST",
      headers: { authorization: `Bearer ${await bearer("alice")}`, "content-type": "application/json", traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` },
      body: JSON.stringify({ clientOrderId: randomUUID().slice(0, 30), symbol: "AAPL", side: "SIDE_SELL", type: "ORDER_TYPE_LIMIT", timeInForce: "TIME_IN_FORCE_GTC", price: "120", quantity: "1" }),
    });
    expect(response.status).toBe(200);
    const found = await traceWhen(traceId, (t) => t.spans.some((s) => serviceOf(t, s) === "hft-engine"), "the gateway, the order service and the engine");
    const gatewaySpan = found.spans.find((s) => serviceOf(found, s) === "hft-gateway" && s.operationName === "POST /api/v1/orders")!;
    expect(gatewaySpan).toBeDefined();
    // The rate limit's Redis call is the gateway's own work inside the request.
    expect(found.spans.some((s) => serviceOf(found, s) === "hft-gateway" && s.operationName === "evalsha" && parentIn(found, s) === gatewaySpan)).toBe(true);
    const server = found.spans.find((s) => s.operationName === "grpc.hft.v1.OrderService/PlaceOrder")!;
    expect(parentIn(found, server)).toBe(gatewaySpan);
    expect(parentIn(found, found.spans.find((s) => serviceOf(found, s) === "hft-engine")!)).toBe(server);
  });

  it("shows a filled order as one trace: order service, engine, PostgreSQL, the Kafka publish of its fill and analytics", async () => {
    await placeInTrace(randomBytes(16).toString("hex"), "alice", Side.SIDE_SELL, 10_000);
    const traceId = randomBytes(16).toString("hex");
    const placed = await placeInTrace(traceId, "bob", Side.SIDE_BUY, 10_000);
    expect(placed.filledQuantity).toBe("1");

    let found: JaegerTrace | undefined;
    const services = () => new Set(found?.spans.map((s) => found!.processes[s.processID]!.serviceName));
    const operations = () => found?.spans.map((s) => s.operationName) ?? [];
    await until(
      async () => {
        found = await jaegerTrace(traceId);
        // Both sides of the fill (maker and taker), each published and applied: possibly in different partitions and batches.
        const count = (name: string) => operations().filter((o) => o === name).length;
        return services().has("hft-engine") && count("publish hft.executions.v1") >= 2 && count("apply hft.executions.v1") >= 2;
      },
      () => `trace ${traceId} in Jaeger with the engine, the Kafka publish and analytics (so far: ${operations().join(", ") || "nothing"})`,
      45_000,
    );
    const spans = found!.spans;
    expect(spans.every((s) => s.traceID === traceId)).toBe(true);
    expect(services()).toEqual(new Set(["hft-order-service", "hft-engine", "hft-analytics-service"]));
    const byId = new Map(spans.map((s) => [s.spanID, s]));
    const parentOf = (span: JaegerSpan) => byId.get(span.references.find((r) => r.refType === "CHILD_OF")?.spanID ?? "");
    const server = spans.find((s) => s.operationName === "grpc.hft.v1.OrderService/PlaceOrder")!;
    const engineSpan = spans.find((s) => s.operationName === "hft.v1.EngineService/OrderFlow newOrder")!;
    expect(parentOf(engineSpan)).toBe(server);
    // Both executions of the fill (maker and taker) and the order messages are published under the engine's span.
    const published = spans.filter((s) => s.operationName.startsWith("publish "));
    expect(published.length).toBeGreaterThanOrEqual(2);
    for (const publish of published) expect(parentOf(publish)).toBe(engineSpan);
    expect(spans.some((s) => found!.processes[s.processID]!.serviceName === "hft-order-service" && /^pg\.query/.test(s.operationName) && parentOf(s) === server)).toBe(true);
    // The analytics service applies each execution message under the publish span that sent it.
    const applied = spans.filter((s) => s.operationName === "apply hft.executions.v1");
    expect(applied.length).toBeGreaterThanOrEqual(2);
    for (const apply of applied) expect(parentOf(apply)?.operationName).toBe("publish hft.executions.v1");
  });

  it("writes a request's log line with the trace id Jaeger shows for it, and never the caller's token", async () => {
    const traceId = randomBytes(16).toString("hex");
    const token = await bearer("bob");
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    metadata.set("traceparent", `00-${traceId}-${randomBytes(8).toString("hex")}-01`);
    const from = orders.logs().length;
    const stream = orders.client.streamOrderUpdates({ fromSequence: 1n, symbol: "", account: "" }, metadata);
    stream.on("error", () => undefined); // cancelled below
    const line = await orders.waitForLog((l) => l.msg === "order update stream resumed", { from });
    stream.cancel();
    expect(line).toMatchObject({ trace_id: traceId, account: "bob" });
    // The stream's own span ends with the stream; the work inside it (its PostgreSQL reads) is in Jaeger under it at once.
    const underLoggedSpan = (t: JaegerTrace) => t.spans.some((s) => s.spanID === line.span_id || s.references.some((r) => r.spanID === line.span_id));
    const found = await traceWhen(traceId, underLoggedSpan, `spans of the logged span ${String(line.span_id)}`);
    expect(found.spans.every((s) => s.traceID === traceId)).toBe(true);
    expect(orders.output()).not.toContain(token);
  });
});
