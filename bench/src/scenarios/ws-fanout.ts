/**
 * WebSocket market data fan-out: a fleet of `clients` WebSocket clients subscribed to the trades
 * of one symbol through the gateway's `/ws` (all sharing the gateway's one StreamMarketData stream
 * of that symbol from the order service), while trades are made at fixed rates (IOC buys of one lot against a large
 * resting sell, through the order service); each delivery is timed from the trade's time (the
 * engine's, carried in the message) to its arrival at the client. Beside it, the same fleet on a
 * bare `ws` fan-out server broadcasting messages of the same size at the same rates.
 */
import { z } from "zod";
import type { PlaceOrderResponse } from "@hft/contract/grpc/hft/v1/order_service.js";
import { Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import { startNodeServer, stopChild } from "../processes.js";
import { type Measured, roleOf } from "../result.js";
import { defineScenario } from "../scenario.js";
import { type Fleet, connectFleet } from "../ws-fleet.js";

const BARE = "bare ws fan-out";
const SYMBOL = "MSFT";

/** An IOC buy of one lot at 100.00 by default: it trades against the resting sell. */
const trade = { symbol: SYMBOL, timeInForce: TimeInForce.TIME_IN_FORCE_IOC, price: "100.00" };

/** Waits until `expected` deliveries arrived or nothing more came for `quietMs`. */
async function settle(fleet: Fleet, expected: number, quietMs = 2_000): Promise<void> {
  let last = fleet.received();
  let quietSince = Date.now();
  while (fleet.received() < expected && Date.now() - quietSince < quietMs) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (fleet.received() !== last) [last, quietSince] = [fleet.received(), Date.now()];
  }
}

export const wsFanout = defineScenario({
  name: "ws-fanout",
  description: "WebSocket market data: every trade of one symbol fanned out to a fleet of clients through the gateway's /ws, timed from the trade to each client, beside a bare ws fan-out server",
  settings: z.strictObject({
    clients: z.number().int().min(1).max(5_000),
    seconds: z.number().min(0.5).max(300),
    /** Trades per second; each is one delivery per client. */
    tradeRates: z.array(z.number().min(0.5).max(1_000)).min(1).max(10),
  }),
  async run(settings, { platform, log, defer }) {
    const p = await platform();
    const [gatewayProcess, bare] = await Promise.all([p.gateway(), startNodeServer("bench/src/servers/ws-fanout-server.ts").then((b) => (defer(() => stopChild(b.child)), b))]);
    // What the IOC buys trade against: far more lots than a run buys.
    await p.place(1, { ...trade, side: Side.SIDE_SELL, timeInForce: TimeInForce.TIME_IN_FORCE_GTC, quantity: "900000" });

    const measured: Measured[] = [];
    const record = (target: string, fleet: Fleet, tradeRate: number, trades: number, seconds: number) => {
      const expected = trades * settings.clients;
      measured.push({
        target,
        ...roleOf(target, BARE),
        mode: "open",
        unit: "deliveries",
        offeredRate: tradeRate * settings.clients,
        achievedRate: fleet.received() / seconds,
        latencyUs: fleet.latencies.summary(),
        samples: fleet.received(),
        errors: Math.max(0, expected - fleet.received()) + fleet.dropped(),
        durationS: seconds,
        settings: { clients: settings.clients, tradesPerSecond: tradeRate, trades },
      });
    };
    for (const tradeRate of settings.tradeRates) {
      const trades = Math.max(1, Math.round(tradeRate * settings.seconds));

      log(`gateway: ${settings.clients} clients, ${tradeRate} trades/s`);
      const viaGateway = await connectFleet({
        url: `ws://${gatewayProcess.address}/ws`,
        clients: settings.clients,
        headers: { authorization: `Bearer ${p.tokens[2]}` },
        subscribe: { type: "subscribe", channel: "market", symbol: SYMBOL, trades: true },
        subscribed: '"type":"subscribed"',
      });
      try {
        // The order service's market data streams are live once subscribed; a moment for the last ones.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const began = performance.now();
        const placed: Promise<PlaceOrderResponse>[] = [];
        for (let i = 0; i < trades; i++) {
          const due = began + (i * 1000) / tradeRate;
          if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
          placed.push(p.place(2, trade));
        }
        const answers = await Promise.all(placed);
        const traded = answers.filter((a) => a.order?.filledQuantity === "1").length;
        await settle(viaGateway, traded * settings.clients);
        record("gateway /ws", viaGateway, tradeRate, traded, (performance.now() - began) / 1000);
      } finally {
        await viaGateway.close();
      }

      log(`bare: ${settings.clients} clients, ${tradeRate} messages/s`);
      const viaBare = await connectFleet({ url: `ws://${bare.address}/ws`, clients: settings.clients });
      try {
        const began = performance.now();
        const response = await fetch(`http://${bare.address}/broadcast?rate=${tradeRate}&count=${trades}`, { method: "POST" });
        if (response.status !== 202) throw new Error(`the bare fan-out server refused the broadcast: ${response.status}`);
        await new Promise((resolve) => setTimeout(resolve, (trades / tradeRate) * 1000));
        await settle(viaBare, trades * settings.clients);
        record(BARE, viaBare, tradeRate, trades, (performance.now() - began) / 1000);
      } finally {
        await viaBare.close();
      }
    }
    return measured;
  },
});
