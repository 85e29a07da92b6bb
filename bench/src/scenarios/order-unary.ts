/**
 * The order service's unary PlaceOrder, driven by ghz: the real service (risk, idempotency in
 * PostgreSQL and Redis, the engine's durable ack) beside the bare @grpc/grpc-js echo with the same
 * contract, closed loop for the most each does, then open loop at fixed rates.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { runGhz } from "../ghz.js";
import { type Measured, roleOf } from "../result.js";
import { defineScenario, warmUpSeconds } from "../scenario.js";

const SERVICE = "order service";
const ECHO = "bare grpc-js echo";
const loop = z.strictObject({ concurrency: z.number().int().min(1).max(2_000), connections: z.number().int().min(1).max(64) });

export const orderUnary = defineScenario({
  name: "order-unary",
  description: "PlaceOrder over gRPC (ghz), resting limit orders of one lot: the order service end to end beside a bare grpc-js echo",
  settings: z.strictObject({ closed: loop, open: loop, seconds: z.number().min(0.5).max(300), rates: z.array(z.number().int().min(1).max(100_000)).max(10) }),
  async run(settings, { platform, log }) {
    const p = await platform();
    const run = randomBytes(3).toString("hex");
    let phase = 0;
    const measured: Measured[] = [];
    // Resting bids far below the mid, client order ids unique per call: every order is accepted and none trades.
    const request = (prefix: string) => ({
      call: "hft.v1.OrderService.PlaceOrder",
      data: { client_order_id: `${prefix}-{{.RequestNumber}}`, symbol: "AAPL", side: "SIDE_BUY", type: "ORDER_TYPE_LIMIT", time_in_force: "TIME_IN_FORCE_GTC", price: "90.00", quantity: "1" },
      metadata: { authorization: `Bearer ${p.tokens[0]}` },
    });
    const drive = async (target: string, address: string, loopSettings: z.infer<typeof loop>, rate?: number) => {
      log(`ghz ${target} ${rate === undefined ? "closed" : `${rate}/s`}`);
      const result = await runGhz({
        address,
        ...request(`u${run}-${phase++}`),
        ...loopSettings,
        seconds: settings.seconds,
        ...(rate === undefined ? {} : { rate }),
      });
      if (result.ok === 0) throw new Error(`${target}: no call answered within the ${settings.seconds} s phase (${result.errors} errors); the machine may be too busy for these settings`);
      measured.push({
        target,
        ...roleOf(target, ECHO),
        mode: rate === undefined ? "closed" : "open",
        unit: "orders",
        offeredRate: rate ?? null,
        achievedRate: result.ok / result.seconds,
        latencyUs: result.latencies.summary(),
        samples: result.ok,
        errors: result.errors,
        durationS: result.seconds,
        settings: { ...loopSettings },
      });
    };
    const targets = [[SERVICE, p.service.address], [ECHO, p.echo.address]] as const;
    // Warm-up, not recorded: connections, JIT, the service's caches.
    for (const [, address] of targets) await runGhz({ address, ...request(`w${run}`), ...settings.closed, seconds: warmUpSeconds(settings.seconds) });
    for (const [target, address] of targets) await drive(target, address, settings.closed);
    for (const rate of settings.rates) for (const [target, address] of targets) await drive(target, address, settings.open, rate);
    return measured;
  },
});
