/**
 * The engine keeps a quiet stream open for a client that pings to find dead links, as the order
 * service does (every 10 s). gRPC's server default allows one ping per 5 minutes without data and
 * ends the connection with GOAWAY "too_many_pings" after two more: every stream on it failed with
 * RESOURCE_EXHAUSTED, a market data stream about 40 s after its book went quiet.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EngineServiceClient } from "@hft/contract/grpc/hft/v1/engine_service.js";
import { OrderFlowSession, defineBtc } from "./support/engine-commands.js";
import { type EngineProcess, startEngine } from "./support/engine-process.js";

let engine: EngineProcess;
beforeAll(async () => {
  engine = await startEngine();
});
afterAll(async () => {
  await engine?.stop("SIGKILL");
});

it("keeps a quiet market data stream open through four keepalive pings", async () => {
  const pingEveryMs = 6_000;
  const client = new EngineServiceClient(engine.address, grpc.credentials.createInsecure(), { "grpc.keepalive_time_ms": pingEveryMs, "grpc.keepalive_timeout_ms": 5_000 });
  const session = new OrderFlowSession(client.orderFlow());
  session.send([defineBtc(1n)]);
  await session.waitForAcks(1);
  const stream = client.streamMarketUpdates({ instrumentIds: [1], depth: 5, includeL1: true, includeL2: true, includeTrades: true });
  const failed = new Promise<string>((resolve) => stream.on("error", (error: grpc.ServiceError) => resolve(`${grpc.status[error.code]}: ${error.details}`)));
  await new Promise((resolve) => stream.once("data", resolve)); // the snapshot, then nothing
  const quiet = new Promise<string>((resolve) => setTimeout(() => resolve("open"), 4 * pingEveryMs + 2_000));
  try {
    expect(await Promise.race([failed, quiet])).toBe("open");
  } finally {
    stream.cancel();
    session.stream.end();
    client.close();
  }
}, 60_000);
