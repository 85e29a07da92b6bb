/**
 * The order service's OrderEntry stream (the algorithmic clients' path): the real service beside
 * the bare @grpc/grpc-js echo, closed loop (a window of instructions in flight per stream) for the
 * most each does, then open loop at fixed rates, each instruction timed from its scheduled send.
 * The flow trades (order-service/bench/order-flow.ts): one order in ten is an IOC that takes.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { OrderServiceClient } from "@hft/contract/grpc/hft/v1/order_service.js";
import { driveOrderEntry, orderFor } from "../../../order-service/bench/order-flow.js";
import { summarize } from "../latency.js";
import type { Platform } from "../platform.js";
import { type Measured, roleOf } from "../result.js";
import { defineScenario, warmUpSeconds } from "../scenario.js";

export const ECHO = "bare grpc-js echo";
/** The `phase` setting of the open-loop phase at half the service's closed-loop rate (its offered rate differs run to run). */
export const HALF_OF_PEAK = "half of the closed-loop rate";
export const closedStreams = z.strictObject({ streams: z.number().int().min(1).max(64), window: z.number().int().min(1).max(4_096), seconds: z.number().min(0.5).max(300) });

/** One OrderEntry phase as a measurement; `rate` open loop, else closed with `window`. */
export async function measureOrderEntry(
  p: Platform,
  target: string,
  client: OrderServiceClient,
  phase: { streams: number; seconds: number; window?: number; rate?: number; symbols: readonly string[] },
): Promise<Measured> {
  const run = randomBytes(4).toString("hex");
  // Enough instructions that the duration, not the count, ends a closed phase.
  const count = phase.rate === undefined ? 5_000_000 : Math.max(1, Math.round(phase.rate * phase.seconds));
  const result = await driveOrderEntry(client, {
    streams: phase.streams,
    count,
    seconds: phase.seconds,
    ...(phase.window === undefined ? {} : { window: phase.window }),
    ...(phase.rate === undefined ? {} : { ratePerSecond: phase.rate }),
    metadataFor: (s) => p.metadataFor(s),
    orderFor: (index) => orderFor(index, run, phase.symbols),
  });
  // Refusals, and anything sent that did not come back as an order.
  const errors = result.sent - result.latenciesUs.length;
  return {
    target,
    ...roleOf(target, ECHO),
    mode: phase.rate === undefined ? "closed" : "open",
    unit: "orders",
    offeredRate: phase.rate ?? null,
    achievedRate: result.latenciesUs.length / result.seconds,
    latencyUs: summarize(result.latenciesUs),
    samples: result.latenciesUs.length,
    errors,
    ...(result.errors.size > 0 ? { errorKinds: Object.fromEntries(result.errors) } : {}),
    durationS: result.seconds,
    settings: { streams: phase.streams, ...(phase.window === undefined ? {} : { window: phase.window }), symbols: phase.symbols.join(" ") },
  };
}

export const orderStream = defineScenario({
  name: "order-stream",
  description: "OrderEntry bidirectional streams, orders of one lot on AAPL (one in ten an IOC that trades): the order service end to end, every answer after the engine's durable ack, beside a bare grpc-js echo",
  settings: z.strictObject({ closed: closedStreams, open: z.strictObject({ streams: z.number().int().min(1).max(64), seconds: z.number().min(0.5).max(300), rates: z.array(z.number().int().min(1).max(200_000)).max(10) }) }),
  async run(settings, { platform, log }) {
    const p = await platform();
    const symbols = [p.shards[0]!.symbol];
    const targets = [["order service", p.service.client], [ECHO, p.echoClient]] as const;
    const measured: Measured[] = [];
    // Warm-up, not recorded.
    for (const [, client] of targets) await measureOrderEntry(p, "warm-up", client, { streams: settings.closed.streams, window: 16, seconds: warmUpSeconds(settings.closed.seconds), symbols });
    for (const [target, client] of targets) {
      log(`${target} closed, ${settings.closed.streams} x ${settings.closed.window} in flight`);
      measured.push(await measureOrderEntry(p, target, client, { ...settings.closed, symbols }));
    }
    // The profile's rates, and half of the rate the service just reached closed loop: the goal's
    // p99 is "at half of the maximum", whatever the maximum is on this machine today.
    const half = Math.max(1, Math.round(measured[0]!.achievedRate / 2));
    const phases = [...settings.open.rates.map((rate) => ({ rate, phase: undefined })), { rate: half, phase: HALF_OF_PEAK }];
    for (const { rate, phase } of phases) {
      for (const [target, client] of targets) {
        log(`${target} open at ${rate}/s${phase ? ` (${phase})` : ""}`);
        const m = await measureOrderEntry(p, target, client, { streams: settings.open.streams, seconds: settings.open.seconds, rate, symbols });
        measured.push(phase ? { ...m, settings: { ...m.settings, phase } } : m);
      }
    }
    return measured;
  },
});
