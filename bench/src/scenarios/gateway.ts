/**
 * The gateway's REST and Connect over HTTP/1.1 keep-alive (autocannon), GetOrder:
 *   - the gateway in front of a bare connect-node backend (gateway/bench/bare-server.ts): the
 *     gateway's own cost (JWT, the Redis rate-limit window, transcoding, the gRPC hop);
 *   - the gateway in front of the platform's order service, REST, closed loop: end to end with
 *     the PostgreSQL read;
 * beside their ceilings in the same run: bare Node HTTP answering the same REST JSON, and bare
 * connect-node answering the same Connect call, on HTTP/1.1 like the load (servers/http-bare-server.ts).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { z } from "zod";
import { GetOrderRequestSchema } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { startGatewayProcess } from "../../../tests/support/ready-process.js";
import { runAutocannon } from "../autocannon-run.js";
import { gatewayBenchEnv } from "../platform.js";
import { type Server, startNodeServer, stopChild } from "../processes.js";
import { type Measured, roleOf } from "../result.js";
import { defineScenario, warmUpSeconds } from "../scenario.js";

const NODE_HTTP = "bare Node HTTP, REST JSON";
const CONNECT_NODE = "bare connect-node, Connect";

export const gateway = defineScenario({
  name: "gateway",
  description: "GetOrder through the gateway over HTTP/1.1 keep-alive (autocannon): REST and Connect (binary), beside bare Node HTTP and bare connect-node answering the same bytes",
  settings: z.strictObject({
    connections: z.number().int().min(1).max(1_000),
    /** Closed-loop seconds, and seconds per open-loop rate. */
    seconds: z.number().min(0.5).max(300),
    rates: z.array(z.number().int().min(1).max(100_000)).max(10),
  }),
  async run(settings, { platform, log, defer }) {
    const p = await platform();
    const started = <T extends Server>(server: Promise<T>) => server.then((s) => (defer(() => stopChild(s.child)), s));
    const [backend, bare] = await Promise.all([started(startNodeServer("gateway/bench/bare-server.ts")), started(startNodeServer("bench/src/servers/http-bare-server.ts"))]);
    // One gateway after the other: the second starts from the first one's compiled sources.
    const overBare = await started(startGatewayProcess({ orders: backend.address, analytics: backend.address }, gatewayBenchEnv));
    const overService = await p.gateway();

    // A real order of the account, for the end-to-end reads.
    const placed = await p.place(0, {});
    const orderId = placed.order!.orderId;
    const authorization = `Bearer ${p.tokens[0]}`;
    const rest = (address: string) => ({ url: `http://${address}/api/v1/orders/${orderId}`, method: "GET" as const, headers: { authorization } });
    const connect = (address: string) => ({
      url: `http://${address}/hft.v1.OrderService/GetOrder`,
      method: "POST" as const,
      headers: { authorization, "content-type": "application/proto", "connect-protocol-version": "1" },
      body: Buffer.from(toBinary(GetOrderRequestSchema, create(GetOrderRequestSchema, { orderId }))),
    });

    const targets = [
      { target: "gateway → bare backend, REST", request: rest(overBare.address), ceiling: NODE_HTTP, open: true },
      { target: NODE_HTTP, request: rest(bare.address), ceiling: NODE_HTTP, open: true },
      { target: "gateway → bare backend, Connect", request: connect(overBare.address), ceiling: CONNECT_NODE, open: true },
      { target: CONNECT_NODE, request: connect(bare.address), ceiling: CONNECT_NODE, open: true },
      { target: "gateway → order service, REST", request: rest(overService.address), ceiling: NODE_HTTP, open: false },
    ];
    const measured: Measured[] = [];
    for (const { request } of targets) await runAutocannon({ ...request, connections: settings.connections, seconds: warmUpSeconds(settings.seconds) });
    for (const rate of [undefined, ...settings.rates]) {
      for (const { target, request, ceiling, open } of targets) {
        if (rate !== undefined && !open) continue;
        log(`${target} ${rate === undefined ? "closed" : `at ${rate}/s`}`);
        const result = await runAutocannon({ ...request, connections: settings.connections, seconds: settings.seconds, ...(rate === undefined ? {} : { rate }) });
        if (result.ok === 0) throw new Error(`${target}: no successful response (${result.errors} errors)`);
        measured.push({
          target,
          ...roleOf(target, ceiling),
          mode: rate === undefined ? "closed" : "open",
          unit: "requests",
          offeredRate: rate ?? null,
          achievedRate: result.ok / result.seconds,
          latencyUs: result.latencies.summary(),
          samples: result.latencies.count,
          errors: result.errors,
          durationS: result.seconds,
          settings: { connections: settings.connections },
        });
      }
    }
    return measured;
  },
});
