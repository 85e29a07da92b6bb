/**
 * One order is one trace in the local stack's Jaeger: the order service's server span, the
 * engine's span under it, the PostgreSQL work of the order path, and the Kafka publish of the
 * order's fill by the projection, all under the trace id the caller started.
 */
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigrator, signDevToken } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import type { PlaceOrderRequest, PlaceOrderResponse } from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderType, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import { type EngineProcess, startEngine } from "./support/engine-process.js";
import { type OrderServiceProcess, startOrderService } from "./support/order-service-process.js";
import { until } from "./support/until.js";

const jaeger = "http://127.0.0.1:56686";
const secret = "tracing-test-secret-at-least-32-bytes-long";
const auth = { AUTH_HS256_SECRET: secret, AUTH_ISSUER: "hft-test", AUTH_AUDIENCE: "hft" };

let db: TestDatabase;
let engine: EngineProcess;
let orders: OrderServiceProcess;

beforeAll(async () => {
  db = await createTestDatabase("tracing");
  await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../migrations", import.meta.url)) }).up();
  await db.pool.query("INSERT INTO accounts (name) VALUES ('alice'), ('bob')");
  engine = await startEngine();
  orders = await startOrderService({
    env: { ...auth, DATABASE_URL: db.url, ENGINE_SHARDS: `default=${engine.address}@1`, PROJECTION_LOCK_KEY: String(randomInt(1_000_000, 2_000_000_000)), REDIS_KEY_PREFIX: `hft-tracing:${process.pid}:` },
  });
  await orders.waitForLog((line) => line.msg === "instruments defined in the engine");
});

afterAll(async () => {
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
async function placeInTrace(traceId: string, account: string, request: Partial<PlaceOrderRequest>): Promise<PlaceOrderResponse> {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${await signDevToken({ account, role: "trader", hs256Secret: secret, issuer: auth.AUTH_ISSUER, audience: auth.AUTH_AUDIENCE })}`);
  metadata.set("traceparent", `00-${traceId}-${randomBytes(8).toString("hex")}-01`);
  const order: PlaceOrderRequest = {
    clientOrderId: randomUUID().slice(0, 30),
    symbol: "AAPL",
    side: Side.SIDE_SELL,
    type: OrderType.ORDER_TYPE_LIMIT,
    timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
    price: "100",
    stopPrice: "",
    quantity: "1",
    displayQuantity: "",
    postOnly: false,
    selfTradePrevention: SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
    account: "",
    ...request,
  };
  return new Promise((resolve, reject) => orders.client.placeOrder(order, metadata, (e, r) => (e ? reject(e) : resolve(r))));
}

describe("tracing", () => {
  it("shows a filled order as one trace: order service, engine, PostgreSQL and the Kafka publish of its fill", async () => {
    await placeInTrace(randomBytes(16).toString("hex"), "alice", {});
    const traceId = randomBytes(16).toString("hex");
    const placed = await placeInTrace(traceId, "bob", { side: Side.SIDE_BUY, price: "100" });
    expect(placed.order?.filledQuantity).toBe("1");

    let found: JaegerTrace | undefined;
    const services = () => new Set(found?.spans.map((s) => found!.processes[s.processID]!.serviceName));
    const operations = () => found?.spans.map((s) => s.operationName) ?? [];
    await until(
      async () => {
        found = await jaegerTrace(traceId);
        return services().has("hft-engine") && operations().includes("publish hft.executions.v1");
      },
      () => `trace ${traceId} in Jaeger with the engine and the Kafka publish (so far: ${operations().join(", ") || "nothing"})`,
      30_000,
    );
    const spans = found!.spans;
    expect(spans.every((s) => s.traceID === traceId)).toBe(true);
    expect(services()).toEqual(new Set(["hft-order-service", "hft-engine"]));
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
  });
});
