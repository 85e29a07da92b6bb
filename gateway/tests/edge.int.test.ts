/**
 * The gateway's own edge against the real backends: every REST route's refusals over HTTP, the
 * authorization matrix, CORS, the rate limit shared through Redis, request ids and security
 * headers, the probes (with a Redis of the test's own that it stops), metrics and the documents.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { freePort } from "../../tests/support/engine-process.js";
import { type Caller, type MatrixContext, aliceOrder as order, callers, expectedOutcome, httpStatusOf, restRequestOf, routeCases, tokenOf } from "./authorization-matrix.js";
import { type Platform, startPlatform } from "./platform.js";

let platform: Platform;
let url: string;
let alice: string;

beforeAll(async () => {
  platform = await startPlatform();
  url = (await platform.startGateway()).url;
  alice = await platform.token(platform.accounts.alice, "trader");
});
afterAll(async () => platform?.stop());

async function call(method: string, path: string, options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string>; base?: string } = {}) {
  const response = await fetch(`${options.base ?? url}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined || options.raw !== undefined ? { "content-type": "application/json" } : {}),
      ...options.headers,
    },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: response.status, headers: response.headers, json };
}

let sequence = 0;
async function placeForAlice(): Promise<string> {
  const placed = await call("POST", "/api/v1/orders", { token: alice, body: order(`edge-${sequence++}`) });
  expect(placed.status).toBe(200);
  return (placed.json.order as { orderId: string }).orderId;
}

describe("REST requests the transcoder refuses, over HTTP", () => {
  it.each<[string, string, string, { body?: unknown; raw?: string; headers?: Record<string, string> }, number, string]>([
    ["malformed JSON", "POST", "/api/v1/orders", { raw: '{"clientOrderId": "x",' }, 400, "malformed JSON body"],
    ["an unknown field", "POST", "/api/v1/orders", { body: order("u-1", { colour: "red" }) }, 400, 'key "colour" is unknown'],
    ["a wrong type", "POST", "/api/v1/orders", { body: order("u-2", { quantity: 1 }) }, 400, "hft.v1.PlaceOrderRequest.quantity"],
    ["a wrong type in the query", "GET", "/api/analytics/daily-pnl?days=many", {}, 400, 'query parameter days: expected a whole number, got "many"'],
    ["an unknown query parameter", "GET", "/api/v1/positions?colour=red", {}, 400, "query parameter colour names no field of hft.v1.GetPositionsRequest"],
    ["a body of another type", "POST", "/api/v1/orders", { raw: "{}", headers: { "content-type": "text/plain" } }, 415, "must be application/json"],
    ["a body too large", "POST", "/api/v1/orders", { body: order("u-3", { clientOrderId: "x".repeat(2 << 20) }) }, 413, "larger than 1048576 bytes"],
    ["an unknown route", "GET", "/api/v1/nothing-here", {}, 404, "no route for GET /api/v1/nothing-here"],
    ["a wrong method", "PUT", "/api/v1/orders/1", {}, 405, "PUT is not allowed on /api/v1/orders/1; allowed: DELETE, GET, PATCH"],
    ["a backend validation failure", "POST", "/api/v1/orders", { body: order("u-4", { price: "abc" }) }, 400, "price"],
    ["a stream request breaking the contract's rules", "GET", "/api/v1/streams/market-data?include_l1=true", {}, 400, "symbols: "],
  ])("%s: %s %s answers %i naming the problem", async (_case, method, path, options, status, message) => {
    const response = await call(method, path, { token: alice, ...options });
    expect({ status: response.status, code: typeof response.json.code, details: Array.isArray(response.json.details) }).toEqual({ status, code: "string", details: true });
    expect(response.json.message).toContain(message);
    if (status === 405) expect(response.headers.get("allow")).toBe("DELETE, GET, PATCH");
  });

  it("refuses an oversized RPC body too, with resource_exhausted", async () => {
    const client = createClient(OrderService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
    const error = await client.placeOrder({ clientOrderId: "x".repeat(2 << 20) }, { headers: { authorization: `Bearer ${alice}` } }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.ResourceExhausted);
  });
});

describe("authorization: every route × every kind of caller", () => {
  const context = (): MatrixContext => ({ accounts: platform.accounts, placeForAlice, clientOrderId: () => `m-${sequence++}` });

  it.each(routeCases.map((c) => [c.route, c] as const))("%s", async (_route, routeCase) => {
    const seen: Partial<Record<Caller, number>> = {};
    const wanted: Partial<Record<Caller, number>> = {};
    for (const caller of callers) {
      const { method, path, body } = restRequestOf(routeCase.route, await routeCase.request(caller, context()));
      const response = await call(method, path, { token: await tokenOf(platform, caller), body });
      seen[caller] = response.status;
      wanted[caller] = httpStatusOf[expectedOutcome(routeCase, caller)];
    }
    expect(seen).toEqual(wanted);
  });

  it("says why a token is refused, and tells a viewer it may only read", async () => {
    const expired = await call("GET", "/api/v1/orders", { token: await tokenOf(platform, "expired") });
    expect([expired.json.reason, expired.json.message, expired.headers.get("www-authenticate")]).toEqual(["TOKEN_EXPIRED", "the token has expired", 'Bearer realm="hft"']);
    const forged = await call("GET", "/api/v1/orders", { token: await tokenOf(platform, "wrong signature") });
    expect(forged.json.reason).toBe("TOKEN_INVALID");
    const viewer = await call("POST", "/api/v1/orders", { token: await tokenOf(platform, "viewer"), body: order("v-1") });
    expect([viewer.json.code, viewer.json.reason]).toEqual(["permission_denied", "ROLE_VIEWER_READ_ONLY"]);
  });
});

describe("CORS", () => {
  let corsUrl: string;
  beforeAll(async () => {
    corsUrl = (await platform.startGateway({ GATEWAY_CORS_ORIGINS: "https://app.example.com" })).url;
  });
  const preflight = (origin: string) =>
    fetch(`${corsUrl}/api/v1/orders`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } });

  it("answers an allowed origin's preflight and exposes the gateway's headers", async () => {
    const response = await preflight("https://app.example.com");
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")).toMatch(/Authorization/);
    const request = await fetch(`${corsUrl}/api/v1/instruments`, { headers: { origin: "https://app.example.com", authorization: `Bearer ${alice}` } });
    expect(request.status).toBe(200);
    expect(request.headers.get("access-control-expose-headers")).toMatch(/X-Request-Id.*RateLimit-Remaining/);
  });

  it("refuses another origin, preflight and request, without CORS headers", async () => {
    const response = await preflight("https://evil.example.com");
    expect(response.status).toBe(403);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const request = await fetch(`${corsUrl}/api/v1/instruments`, { headers: { origin: "https://evil.example.com", authorization: `Bearer ${alice}` } });
    expect(request.status).toBe(403);
    expect(((await request.json()) as { reason: string }).reason).toBe("CORS_ORIGIN_REFUSED");
  });
});

describe("rate limit", () => {
  it("answers 429 with Retry-After once an identity's window is spent, across replicas, and recovers", async () => {
    const shared = { GATEWAY_RATE_LIMIT: "4", GATEWAY_RATE_LIMIT_WINDOW_MS: "3000", GATEWAY_REDIS_KEY_PREFIX: `rate-test-${Date.now()}:` };
    const [a, b] = [await platform.startGateway(shared), await platform.startGateway(shared)];
    const instruments = (base: string) => call("GET", "/api/v1/instruments", { token: alice, base });
    // Start at the beginning of a window (more than 2 of its 3 s left), so the five calls share it.
    let first = await instruments(a.url);
    for (let attempt = 0; attempt < 5 && !(first.headers.get("ratelimit-remaining") === "3" && first.headers.get("ratelimit-reset") === "3"); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Number(first.headers.get("ratelimit-reset")) * 1000));
      first = await instruments(a.url);
    }
    // Two replicas sharing Redis count one window: calls on either spend it.
    const remaining = [first.headers.get("ratelimit-remaining")];
    for (const base of [b.url, a.url, b.url]) remaining.push((await instruments(base)).headers.get("ratelimit-remaining"));
    expect(remaining).toEqual(["3", "2", "1", "0"]);
    const refused = await instruments(a.url);
    expect([refused.status, refused.json.reason, refused.headers.get("ratelimit-limit"), refused.headers.get("ratelimit-remaining")]).toEqual([429, "RATE_LIMITED", "4", "0"]);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const rpc = createClient(OrderService, createConnectTransport({ baseUrl: b.url, httpVersion: "1.1" }));
    const error = await rpc.listOrders({}, { headers: { authorization: `Bearer ${alice}` } }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect([error?.code, error?.metadata.get("retry-after") !== null]).toEqual([Code.ResourceExhausted, true]);
    // Another identity is not limited by alice's window; alice's next window is open after Retry-After.
    expect((await call("GET", "/api/v1/instruments", { token: await platform.token(platform.accounts.bob, "trader"), base: a.url })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    expect((await instruments(a.url)).status).toBe(200);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/hft_gateway_rate_limited_total\{[^}]*\} [1-9]/);
  });
});

describe("request ids and security headers", () => {
  it("passes a client's x-request-id through and makes one otherwise", async () => {
    const given = await call("GET", "/live", { headers: { "x-request-id": "client-id-1" } });
    expect(given.headers.get("x-request-id")).toBe("client-id-1");
    const made = await call("GET", "/live");
    expect(made.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const bad = await call("GET", "/live", { headers: { "x-request-id": "has spaces and ;" } });
    expect(bad.headers.get("x-request-id")).not.toBe("has spaces and ;");
  });

  it("sets the security headers on every answer", async () => {
    for (const path of ["/live", "/api/v1/instruments", "/nothing"]) {
      const response = await call("GET", path, { token: alice });
      expect([response.headers.get("x-content-type-options"), response.headers.get("x-frame-options"), response.headers.get("content-security-policy")]).toEqual([
        "nosniff",
        "DENY",
        "default-src 'none'; frame-ancestors 'none'",
      ]);
    }
  });
});

describe("probes, metrics and documents", () => {
  it("reports each dependency with its latency to a loopback caller", async () => {
    expect((await call("GET", "/live")).status).toBe(200);
    const health = await call("GET", "/health");
    expect(health.status).toBe(200);
    const dependencies = health.json.dependencies as { name: string; up: boolean; latencyMs: number }[];
    expect(dependencies.map((d) => `${d.name}:${d.up}`)).toEqual(["hft.v1.OrderService:true", "hft.v1.MarketDataService:true", "hft.v1.AnalyticsService:true", "redis:true"]);
    for (const d of dependencies) expect(typeof d.latencyMs).toBe("number");
    expect((await call("GET", "/ready")).status).toBe(200);
  });

  it("shows a stopped Redis as 503", async () => {
    const port = await freePort();
    const redis: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    try {
      const gateway = await platform.startGateway({ REDIS_URL: `redis://127.0.0.1:${port}` });
      let health = await call("GET", "/health", { base: gateway.url });
      for (let i = 0; i < 50 && health.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100)); // redis-server still starting
        health = await call("GET", "/health", { base: gateway.url });
      }
      expect(health.status).toBe(200);
      redis.kill("SIGTERM");
      await new Promise((resolve) => redis.once("exit", resolve));
      health = await call("GET", "/health", { base: gateway.url });
      expect(health.status).toBe(503);
      expect(health.json.status).toBe("unavailable");
      const state = (health.json.dependencies as { name: string; up: boolean; target: string }[]).find((d) => d.name === "redis");
      expect(state).toMatchObject({ up: false, target: `127.0.0.1:${port}` });
      expect((await call("GET", "/ready", { base: gateway.url })).status).toBe(503);
      // Requests still flow while the rate limiter cannot count them.
      expect((await call("GET", "/api/v1/instruments", { token: alice, base: gateway.url })).status).toBe(200);
    } finally {
      if (redis.exitCode === null) redis.kill("SIGKILL");
    }
  });

  it("serves Prometheus metrics by route template and code", async () => {
    await call("GET", "/api/v1/orders/123456789", { token: alice });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/hft_gateway_http_request_duration_seconds_count\{[^}]*route="GET \/api\/v1\/orders\/\{order_id\}"[^}]*status="404"/);
    expect(text).toMatch(/hft_gateway_rpc_duration_seconds_count\{[^}]*rpc="hft.v1.OrderService\/GetOrder",protocol="rest",code="not_found"/);
    expect(text).toContain("hft_gateway_websocket_connections");
  });

  it("serves the OpenAPI document and the viewer from the installed package", async () => {
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/api/analytics", "/api/analytics/daily-pnl", "/api/v1/orders/{order_id}"]));
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script src="/docs/swagger-ui-bundle.js"></script>');
    expect(html).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${url}/docs/swagger-ui-bundle.js`);
    expect([bundle.status, bundle.headers.get("content-type")]).toEqual([200, "text/javascript; charset=utf-8"]);
    expect((await fetch(`${url}/docs/../package.json`)).status).toBe(404);
  });
});

describe("WebSocket /ws", () => {
  interface Received {
    readonly type: string;
    readonly data?: { order?: { account: string; clientOrderId: string; status: string }; snapshot?: unknown };
    readonly symbol?: string;
    readonly reason?: string;
    readonly account?: string;
  }
  /** A client whose messages are kept in order; `until` waits (bounded by the test timeout) for one that matches. */
  function connect(headers: Record<string, string> = {}) {
    const socket = new WebSocket(`${url.replace("http", "ws")}/ws`, { headers });
    const received: Received[] = [];
    socket.on("message", (data) => received.push(JSON.parse(data.toString()) as Received));
    const opened = new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    return {
      socket,
      received,
      opened,
      send: (message: object) => socket.send(JSON.stringify(message)),
      async until(match: (m: Received) => boolean): Promise<Received> {
        for (;;) {
          const found = received.find(match);
          if (found) return found;
          if (socket.readyState === WebSocket.CLOSED) throw new Error(`closed before the awaited message; got ${JSON.stringify(received)}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
    };
  }

  it("delivers a subscriber only its own order updates", async () => {
    const bob = await platform.token(platform.accounts.bob, "trader");
    const aliceSocket = connect({ authorization: `Bearer ${alice}` });
    const bobSocket = connect();
    await Promise.all([aliceSocket.opened, bobSocket.opened]);
    bobSocket.send({ type: "auth", token: bob }); // a browser cannot set headers: the first message authenticates
    await aliceSocket.until((m) => m.type === "authenticated");
    expect(await bobSocket.until((m) => m.type === "authenticated")).toMatchObject({ account: platform.accounts.bob });
    // From sequence 1: the history first, so nothing placed before the backend stream opened is missed.
    aliceSocket.send({ type: "subscribe", channel: "orders", fromSequence: "1" });
    bobSocket.send({ type: "subscribe", channel: "orders", fromSequence: "1" });
    // Bob's order goes first: leaked to alice, it would reach her before her own.
    const placedBob = await call("POST", "/api/v1/orders", { token: bob, body: order("ws-bob") });
    const placedAlice = await call("POST", "/api/v1/orders", { token: alice, body: order("ws-alice") });
    expect([placedBob.status, placedAlice.status]).toEqual([200, 200]);
    await aliceSocket.until((m) => m.type === "order_update" && m.data?.order?.clientOrderId === "ws-alice");
    await bobSocket.until((m) => m.type === "order_update" && m.data?.order?.clientOrderId === "ws-bob");
    const accountsSeen = (received: Received[]) => [...new Set(received.filter((m) => m.type === "order_update").map((m) => m.data?.order?.account))];
    expect(accountsSeen(aliceSocket.received)).toEqual([platform.accounts.alice]);
    expect(accountsSeen(bobSocket.received)).toEqual([platform.accounts.bob]);
    aliceSocket.send({ type: "unsubscribe", channel: "orders" });
    await aliceSocket.until((m) => m.type === "unsubscribed");
    aliceSocket.socket.close();
    bobSocket.socket.close();
  });

  it("streams market data per symbol, and refuses a bad token", async () => {
    const client = connect({ authorization: `Bearer ${alice}` });
    await client.opened;
    client.send({ type: "subscribe", channel: "market", symbol: "BTC-USD" });
    const first = await client.until((m) => m.type === "market_data" || m.type === "error");
    expect(first).toMatchObject({ type: "market_data", symbol: "BTC-USD" });
    client.send({ type: "subscribe", channel: "market", symbol: "BTC-USD" });
    expect(await client.until((m) => m.type === "error")).toMatchObject({ reason: "ALREADY_SUBSCRIBED" });
    client.send({ type: "subscribe", channel: "market", symbol: "btc usd" });
    expect(await client.until((m) => m.type === "error" && m.reason !== "ALREADY_SUBSCRIBED")).toMatchObject({ reason: "INVALID_REQUEST" });
    client.socket.close();

    const forged = connect({ authorization: `Bearer ${await platform.token(platform.accounts.alice, "trader", { secret: "another-secret-of-at-least-32-bytes-000" })}` });
    await forged.opened;
    const closed = await new Promise<number>((resolve) => forged.socket.once("close", (code) => resolve(code)));
    expect([closed, forged.received[0]?.reason]).toEqual([1008, "TOKEN_INVALID"]);
  });

  it("ends a connection when its token expires: the reason, then 1008", async () => {
    const token = await platform.token(platform.accounts.alice, "trader", { ttlSeconds: 5 });
    const { exp } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number };
    const client = connect({ authorization: `Bearer ${token}` });
    await client.opened;
    const closed = new Promise<number>((resolve) => client.socket.once("close", (code) => resolve(code)));
    expect(await client.until((m) => m.type === "authenticated")).toMatchObject({ expiresAt: new Date(exp * 1_000).toISOString() });
    client.send({ type: "subscribe", channel: "orders" });
    await client.until((m) => m.type === "subscribed");
    expect(await closed).toBe(1008);
    expect(client.received.filter((m) => m.type === "error").map((m) => m.reason)).toContain("TOKEN_EXPIRED");
  });

  it("shares one market data stream among a symbol's subscribers, and starts a late one from the book", async () => {
    type Level = { price: string; quantity: string; orderCount: number };
    type Snapshot = { sequence: string; bids?: Level[]; asks?: Level[]; lastTradePrice?: string };
    const feeds = async () => Number(/^hft_gateway_websocket_market_feeds(?:{[^}]*})? (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
    const early = connect({ authorization: `Bearer ${alice}` });
    await early.opened;
    early.send({ type: "subscribe", channel: "market", symbol: "BTC-USD", l2: true });
    await early.until((m) => m.type === "market_data" && m.data?.snapshot !== undefined);
    // A resting buy at a price of its own: the early subscriber sees it arrive as a level update.
    const placed = await call("POST", "/api/v1/orders", { token: alice, body: order(`ws-feed-${Date.now()}`, { price: "9.37" }) });
    expect(placed.status).toBe(200);
    await early.until((m) => m.type === "market_data" && JSON.stringify(m.data).includes('"price":"9.37"'));

    const late = connect({ authorization: `Bearer ${alice}` });
    await late.opened;
    late.send({ type: "subscribe", channel: "market", symbol: "BTC-USD", l2: true });
    const first = await late.until((m) => m.type === "market_data");
    const book = await call("GET", "/api/v1/book/BTC-USD", { token: alice });
    const fromFeed = first.data?.snapshot as Snapshot;
    const fromEngine = book.json.book as Snapshot;
    // Nothing traded in between: the feed's mirror and the engine's book agree level for level.
    expect({ bids: fromFeed.bids, asks: fromFeed.asks ?? [] }).toEqual({ bids: fromEngine.bids, asks: fromEngine.asks ?? [] });
    expect(fromFeed.bids?.map((l) => l.price)).toContain("9.37");
    expect(await feeds()).toBe(1);

    early.socket.close();
    late.send({ type: "unsubscribe", channel: "market", symbol: "BTC-USD" });
    await late.until((m) => m.type === "unsubscribed");
    for (let tries = 0; (await feeds()) !== 0 && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await feeds()).toBe(0);
    late.socket.close();
  });
});
