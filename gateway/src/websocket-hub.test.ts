import * as http from "node:http";
import { emptyMetricsRegistry } from "@hft/service-kit";
import { createRouterTransport } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { createLogger } from "@hft/service-kit";
import type { Admission } from "./admission.js";
import type { BackendRoutes } from "./backends.js";
import { GatewayMetrics } from "./metrics.js";
import { closeCodes, createWebSocketHub } from "./websocket-hub.js";

/**
 * The hub's bound on a slow client, without the platform: the backend is an in-memory Connect
 * router streaming order updates as fast as it can, and the client stops reading.
 */
const cleanups: (() => unknown)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

async function hubWith(maxBufferedBytes: number) {
  const transport = createRouterTransport((router) =>
    router.service(OrderService, {
      async *streamOrderUpdates() {
        for (let n = 0; ; n++) yield { order: { orderId: String(n), clientOrderId: `c-${n}`, account: "alice", symbol: "BTC-USD", rejectMessage: "x".repeat(8_000) } };
      },
    }),
  );
  const backends = { backendOf: () => ({ transport }), services: [], close() {} } as unknown as BackendRoutes;
  const admit: Admission = async () => ({ identity: { account: "alice", role: "trader", expiresAtMs: Date.now() + 3_600_000 }, token: "t", rate: { allowed: true, limit: 1, remaining: 1, resetMs: 1, degraded: false }, rateHeaders: {} });
  const metrics = new GatewayMetrics(emptyMetricsRegistry());
  const hub = createWebSocketHub({ backends, admit, metrics, logger: createLogger({ service: "test", level: "silent" }), heartbeatMs: 60_000, maxBufferedBytes, maxMessageBytes: 4096 });
  const server = http.createServer();
  server.on("upgrade", hub.handleUpgrade);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => server.close(), () => void hub.close());
  return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/ws`, metrics };
}

describe("createWebSocketHub", () => {
  it("drops a client that stops reading with 1013 once its queue passes the bound", { timeout: 30_000 }, async () => {
    const { url, metrics } = await hubWith(64 * 1024);
    const client = new WebSocket(url, { headers: { authorization: "Bearer t" } });
    cleanups.push(() => client.terminate());
    const closed = new Promise<number>((resolve) => client.once("close", (code) => resolve(code)));
    // Listening before "open": the first message may come in the same packet as the upgrade.
    client.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { type: string };
      if (message.type === "authenticated") {
        client.send(JSON.stringify({ type: "subscribe", channel: "orders" }));
        // Stop reading: the kernel's buffers fill, then the gateway's queue for this client.
        (client as unknown as { _socket: { pause(): void } })._socket.pause();
      }
    });
    for (;;) {
      const dropped = (await metrics.wsDropped.get()).values.find((v) => v.labels.reason === "slow_consumer")?.value ?? 0;
      if (dropped > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toBe(closeCodes.slowConsumer);
    // The server side sees the close on its own turn.
    while ((await metrics.wsConnections.get()).values[0]?.value !== 0) await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it("refuses an upgrade to another path and answers a message before authentication with an error", async () => {
    const { url } = await hubWith(1 << 20);
    const elsewhere = new WebSocket(url.replace("/ws", "/other"));
    const refused = await new Promise<string>((resolve) => elsewhere.once("unexpected-response", (_req, res) => resolve(String(res.statusCode))).once("error", () => resolve("error")));
    expect(refused).toBe("404");

    const client = new WebSocket(url);
    cleanups.push(() => client.terminate());
    const answers: unknown[] = [];
    client.on("message", (data) => answers.push(JSON.parse(data.toString())));
    await new Promise((resolve) => client.once("open", resolve));
    client.send(JSON.stringify({ type: "subscribe", channel: "orders" }));
    client.send("{not json");
    client.send(JSON.stringify({ type: "ping" }));
    while (answers.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(answers).toEqual([
      expect.objectContaining({ type: "error", code: "unauthenticated", reason: "TOKEN_MISSING" }),
      expect.objectContaining({ type: "error", code: "invalid_argument", reason: "MALFORMED_JSON" }),
      { type: "pong" },
    ]);
  });
});
