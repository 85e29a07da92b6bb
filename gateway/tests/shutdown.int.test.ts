/**
 * The gateway process SIGTERMed under a flow of REST orders: it exits 0, every request it
 * answered was answered whole, and every order it acknowledged is in the order service. A request
 * that found the gateway gone failed on the connection, and its retry with the same
 * client_order_id (straight to the order service) neither loses nor doubles it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GetOrderRequest, GetOrderResponse } from "@hft/contract/grpc/hft/v1/order_service.js";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";
import { call, limitOrder, placeOrder } from "../../tests/support/order-calls.js";
import { startGatewayProcess } from "../../tests/support/ready-process.js";
import { until } from "../../tests/support/until.js";
import { type Platform, startPlatform } from "./platform.js";

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(async () => platform?.stop());

interface RestOutcome {
  readonly account: string;
  readonly side: Side;
  readonly clientOrderId: string;
  readonly status?: number;
  readonly orderId?: string;
  /** The connection-level failure (ECONNREFUSED, a reset, ...) when no answer came. */
  readonly failure?: string;
}

describe("gateway SIGTERM under load", () => {
  it("drains: exit 0, answers whole, every acknowledged order in the order service, retries idempotent", { timeout: 120_000 }, async () => {
    const { alice, bob } = platform.accounts;
    const tokens = { [alice]: await platform.token(alice, "trader"), [bob]: await platform.token(bob, "trader") };
    const gateway = await startGatewayProcess({ orders: platform.orders.address, analytics: platform.analyticsAddress }, { GATEWAY_RATE_LIMIT: "1000000" });
    const exited = new Promise<number | null>((resolve) => gateway.child.once("exit", (code) => resolve(code)));

    // Alice sells and Bob buys at one price, so the orders trade away instead of piling up.
    const outcomes: RestOutcome[] = [];
    let placed = 0;
    let gone = false;
    const worker = async () => {
      while (!gone) {
        const n = placed++;
        const [account, side] = n % 2 === 0 ? [alice, Side.SIDE_SELL] : [bob, Side.SIDE_BUY];
        const clientOrderId = `sigterm-${n}`;
        const body = { clientOrderId, symbol: "BTC-USD", side: Side[side], type: "ORDER_TYPE_LIMIT", timeInForce: "TIME_IN_FORCE_GTC", price: "10.00", quantity: "0.0100" };
        try {
          const response = await fetch(`http://${gateway.address}/api/v1/orders`, {
            method: "POST",
            headers: { authorization: `Bearer ${tokens[account]}`, "content-type": "application/json" },
            body: JSON.stringify(body),
          });
          const json = (await response.json()) as { order?: { orderId: string } };
          outcomes.push({ account, side, clientOrderId, status: response.status, orderId: json.order?.orderId });
        } catch (error) {
          const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
          outcomes.push({ account, side, clientOrderId, failure: cause?.code ?? cause?.message ?? (error as Error).message });
        }
      }
    };
    const workers = Promise.all(Array.from({ length: 16 }, worker));
    await until(() => outcomes.filter((o) => o.status === 200).length >= 200, "200 orders through the gateway", 60_000);
    // The requests in flight at the signal go on to their outcome; no new one starts.
    gateway.child.kill("SIGTERM");
    gone = true;
    const exitCode = await exited;
    await workers;

    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o.failure ?? String(o.status)] = (counts[o.failure ?? String(o.status)] ?? 0) + 1;
    console.log(`gateway SIGTERM: outcomes ${JSON.stringify(counts)}`);
    expect(exitCode).toBe(0);
    // Every answer the gateway gave was an order; what it did not take failed on the connection.
    expect(outcomes.filter((o) => o.status !== undefined && o.status !== 200)).toEqual([]);
    expect(outcomes.filter((o) => o.failure).length).toBeLessThanOrEqual(16);

    for (const o of outcomes.filter((x) => x.orderId)) {
      const { order } = await call<GetOrderRequest, GetOrderResponse>(platform.orders.client, platform.orders.client.getOrder, { orderId: o.orderId! }, o.account);
      expect(order?.clientOrderId, `acknowledged order ${o.orderId}`).toBe(o.clientOrderId);
    }
    // A failed request may or may not have reached the order service: its retry returns the order
    // if it did and places it now if it did not, but never makes a second one.
    for (const o of outcomes.filter((x) => x.failure)) {
      const first = await placeOrder(platform.orders, limitOrder("BTC-USD", o.side, 1_000, 100, o.clientOrderId), o.account);
      const again = await placeOrder(platform.orders, limitOrder("BTC-USD", o.side, 1_000, 100, o.clientOrderId), o.account);
      expect(again.orderId).toBe(first.orderId);
    }
    const failedWithAnotherCode = outcomes.filter((o) => o.failure).map((o) => o.failure).filter((f) => !/ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|other side closed/.test(f!));
    expect(failedWithAnotherCode, "failures other than a refused or closed connection").toEqual([]);
  });
});
