/**
 * Two engine processes behind one order service (ENGINE_SHARDS with two entries, an instrument
 * on each): OrderEntry closed loop with the orders spread over both shards, beside the bare
 * grpc-js echo driven the same way. Compare with order-stream's closed figure of the same run.
 */
import { defineScenario, warmUpSeconds } from "../scenario.js";
import { startPlatform } from "../platform.js";
import { ECHO, closedStreams, measureOrderEntry } from "./order-stream.js";

export const twoShard = defineScenario({
  name: "two-shard",
  description: "OrderEntry streams over two shards: one order service in front of two hft-engine processes, orders alternating between an instrument on each",
  settings: closedStreams,
  async run(settings, { log, defer }) {
    log("starting a two-shard platform");
    const p = await startPlatform(2);
    defer(() => p.stop());
    const symbols = p.shards.map((s) => s.symbol);
    await measureOrderEntry(p, "warm-up", p.service.client, { streams: settings.streams, window: 16, seconds: warmUpSeconds(settings.seconds), symbols });
    log(`two shards closed, ${settings.streams} x ${settings.window} in flight`);
    const service = await measureOrderEntry(p, "order service, two shards", p.service.client, { ...settings, symbols });
    const echo = await measureOrderEntry(p, ECHO, p.echoClient, { ...settings, symbols });
    return [service, echo];
  },
});
