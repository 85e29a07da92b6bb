/**
 * The real order service process in front of two real engine shards, with real PostgreSQL and
 * Kafka, through crashes and stops: a SIGKILL of the service in the middle of the order flow, a
 * SIGTERM drain under load, and a SIGKILL of one engine.
 *
 * Isolation: every test has its own database, engines, projection lock key and accounts
 * (tests/support/two-shard-platform.ts); the shared Kafka topics are told apart by shard names.
 */
import type * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { type GetOrderRequest, type GetOrderResponse, type Order } from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderStatus, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { type EngineRecord, engineRecord, timesInEngine } from "../../tests/support/engine-record.js";
import { call, codeCounts, crossingOrder, limitOrder, listAllOrders, orderFlow, placeOrder } from "../../tests/support/order-calls.js";
import { OK, type Shard, UNAVAILABLE, accountIds, engine, expectKafkaCarriesProjection, expectProjectionEqualsEngine, expectRetriesIdempotent, inRange, instrumentsDefined, projectionCaughtUp, startPlatform } from "../../tests/support/two-shard-platform.js";

describe("the order service process with two engine shards", () => {
  it("loses and repeats nothing when the service is SIGKILLed mid-flow and restarted", { timeout: 180_000 }, async () => {
    const p = await startPlatform();
    const flow = orderFlow(() => p.service, 16, crossingOrder([p.a.symbol, p.b.symbol], p.alice, p.bob, "k"));
    // Kill once a good part of the flow went through, while the workers keep calls in flight.
    await flow.succeeded(300);
    flow.stop();
    const inFlightAtKill = flow.inFlight;
    const killed = p.service;
    expect(await killed.stop("SIGKILL")).toBeNull();
    const outcomes = await flow.settled;
    const succeeded = outcomes.filter((o) => o.order);
    console.log(`service SIGKILL: ${inFlightAtKill} calls in flight, outcomes ${JSON.stringify(codeCounts(outcomes))}`);
    expect(inFlightAtKill).toBeGreaterThan(0);
    // Only calls in flight at the kill may have failed.
    expect(outcomes.length - succeeded.length).toBeLessThanOrEqual(inFlightAtKill);
    expect(succeeded.every((o) => o.order!.status !== OrderStatus.ORDER_STATUS_REJECTED)).toBe(true);

    // Same database, engines and lock key; the projection resumes from its checkpoint.
    const restarted = await p.startService();
    await restarted.waitForLog((line) => line.msg === "projection leadership acquired");
    const records = new Map<Shard, EngineRecord>();
    for (const shard of [p.a, p.b]) {
      await projectionCaughtUp(p.db, shard);
      const record = await engineRecord(shard.engine.client);
      records.set(shard, record);
      await expectProjectionEqualsEngine(p.db, shard, record);
      expect(record.trades.length, `trades on shard ${shard.name}`).toBeGreaterThan(0);
    }

    // Every order the service confirmed is recorded, as confirmed.
    const ids = await accountIds(p.db, p.alice, p.bob);
    const { rows } = await p.db.pool.query<{ order_id: string; account_id: string; client_order_id: string }>(
      "SELECT order_id, account_id, client_order_id FROM orders WHERE order_id = ANY($1::bigint[])",
      [succeeded.map((o) => o.order!.orderId)],
    );
    const recorded = new Map(rows.map((r) => [r.order_id, r]));
    for (const o of succeeded) {
      expect(recorded.get(o.order!.orderId), `confirmed order ${o.order!.orderId} (${o.request.clientOrderId})`).toEqual({
        order_id: o.order!.orderId,
        account_id: ids.get(o.account)!.toString(),
        client_order_id: o.request.clientOrderId,
      });
    }
    const unconfirmedInEngine = outcomes
      .filter((o) => o.error)
      .filter((o) => [p.a, p.b].some((s) => timesInEngine(records.get(s)!, ids.get(o.account)!, o.request.clientOrderId) > 0)).length;
    console.log(`service SIGKILL: ${succeeded.length} confirmed orders; ${unconfirmedInEngine} of the failed calls still reached an engine`);

    const copies = await expectKafkaCarriesProjection(p);
    console.log(`service SIGKILL: ${copies} duplicate Kafka messages (same engine-sequence, same bytes)`);

    // Last, as it may place orders: the clients of the failed calls retry them.
    const retries = await expectRetriesIdempotent(restarted, outcomes.filter((o) => o.error), [...records.values()], ids);
    console.log(`service SIGKILL: retries of the failed calls ${JSON.stringify(retries)}`);
  });

  it("drains on SIGTERM under load: every call answered, every acknowledged order in PostgreSQL and Kafka before it exits", { timeout: 180_000 }, async () => {
    const p = await startPlatform();
    await p.service.waitForLog((line) => line.msg === "projection leadership acquired");
    const flow = orderFlow(() => p.service, 16, crossingOrder([p.a.symbol, p.b.symbol], p.alice, p.bob, "t"));
    await flow.succeeded(300);
    // The calls in flight at the signal go on to their outcome; no new one starts.
    const inFlightAtSignal = flow.inFlight;
    const exiting = p.service.stop("SIGTERM");
    flow.stop();
    const exitCode = await exiting;
    const outcomes = await flow.settled;
    const succeeded = outcomes.filter((o) => o.order);
    console.log(`service SIGTERM: ${inFlightAtSignal} calls in flight, outcomes ${JSON.stringify(codeCounts(outcomes))}`);
    expect(exitCode).toBe(0);
    expect(p.service.logs().some((line) => line.msg?.startsWith("projection not caught up"))).toBe(false);
    // A call the draining service did not take gets UNAVAILABLE, which says "retry elsewhere".
    expect(outcomes.filter((o) => o.error && o.error.code !== UNAVAILABLE).map((o) => `${o.error!.code} ${o.error!.details}`)).toEqual([]);
    expect(outcomes.length - succeeded.length).toBeLessThanOrEqual(inFlightAtSignal);

    // Before any restart: the checkpoint is at each engine's last sequence, and PostgreSQL and
    // Kafka hold every acknowledged order exactly once.
    const records = new Map<Shard, EngineRecord>();
    for (const shard of [p.a, p.b]) {
      const record = await engineRecord(shard.engine.client);
      records.set(shard, record);
      await expectProjectionEqualsEngine(p.db, shard, record);
    }
    const { rows } = await p.db.pool.query<{ order_id: string }>("SELECT order_id FROM orders WHERE order_id = ANY($1::bigint[])", [succeeded.map((o) => o.order!.orderId)]);
    expect(rows.length).toBe(succeeded.length);
    expect(await expectKafkaCarriesProjection(p), "Kafka copies after a clean stop").toBe(0);

    const ids = await accountIds(p.db, p.alice, p.bob);
    const restarted = await p.startService();
    const retries = await expectRetriesIdempotent(restarted, outcomes.filter((o) => o.error), [...records.values()], ids);
    console.log(`service SIGTERM: retries of the refused calls ${JSON.stringify(retries)}`);
  });

  it("answers UNAVAILABLE (or success) for calls in flight when an engine is SIGKILLed, and reconnects once it is back", { timeout: 180_000 }, async () => {
    const p = await startPlatform();
    const { a, b, alice, bob } = p;
    // Something on the book of B before the flow, and a resting order on A.
    await placeOrder(p.service, limitOrder(b.symbol, Side.SIDE_SELL, 10_000, 5, "pre-b"), alice);
    await placeOrder(p.service, limitOrder(a.symbol, Side.SIDE_SELL, 10_000, 5, "pre-a"), alice);

    const flow = orderFlow(() => p.service, 12, crossingOrder([b.symbol], alice, bob, "e"));
    await flow.succeeded(150);
    flow.stop();
    const inFlightAtKill = flow.inFlight;
    const killedEngine = b.engine;
    expect(await killedEngine.stop("SIGKILL")).toBeNull();
    const outcomes = await flow.settled;
    console.log(`engine SIGKILL: ${inFlightAtKill} calls in flight, outcomes ${JSON.stringify(codeCounts(outcomes))}`);
    expect(inFlightAtKill).toBeGreaterThan(0);
    // Never another code, never a deadline: a lost engine is UNAVAILABLE, at once.
    const refused = outcomes.filter((o) => o.error);
    expect(refused.length, "failed calls, all of them in flight at the kill").toBeLessThanOrEqual(inFlightAtKill);
    expect(refused.filter((o) => o.error!.code !== UNAVAILABLE).map((o) => `${o.request.clientOrderId}: ${o.error!.code} ${o.error!.details}`)).toEqual([]);

    // While B is down: A trades on, B is refused with UNAVAILABLE.
    expect((await placeOrder(p.service, limitOrder(a.symbol, Side.SIDE_BUY, 10_000, 2, "during-a"), bob)).status).toBe(OrderStatus.ORDER_STATUS_FILLED);
    const duringB = { account: bob, request: limitOrder(b.symbol, Side.SIDE_BUY, 9_000, 1, "during-b") };
    await expect(placeOrder(p.service, duringB.request, duringB.account)).rejects.toMatchObject({ code: UNAVAILABLE });
    refused.push(duringB);

    // Same data directory, port and first order id; the service finds it again by itself.
    const linksBefore = p.service.logs().length;
    b.engine = await engine(b.firstOrderId, killedEngine);
    let recovered: Order | undefined;
    for (let attempt = 0; !recovered; attempt++) {
      const retry = { account: bob, request: limitOrder(b.symbol, Side.SIDE_BUY, 9_000, 1, `after-b-${attempt}`) };
      try {
        recovered = await placeOrder(p.service, retry.request, retry.account);
      } catch (error) {
        expect((error as grpc.ServiceError).code).toBe(UNAVAILABLE);
        refused.push(retry);
        expect(attempt, "attempts before the service reached the restarted engine").toBeLessThan(150);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    expect(recovered.status).toBe(OrderStatus.ORDER_STATUS_NEW);
    expect(inRange(b, a, recovered.orderId)).toBe(true);
    await p.service.waitForLog((line) => line.msg === "engine link" && line.shard === b.name && line.state === "ready", { from: linksBefore });
    await p.service.waitForLog(instrumentsDefined(b), { from: linksBefore });

    // The engine's own record after its restart decides what the refused calls did.
    await projectionCaughtUp(p.db, a);
    await projectionCaughtUp(p.db, b);
    const record = await engineRecord(b.engine.client);
    await expectProjectionEqualsEngine(p.db, b, record);
    await expectProjectionEqualsEngine(p.db, a, await engineRecord(a.engine.client));
    const ids = await accountIds(p.db, alice, bob);
    for (const o of outcomes.filter((x) => x.order)) {
      expect(record.accepted.get(BigInt(o.order!.orderId))?.clientOrderId, `confirmed order ${o.order!.orderId}`).toBe(o.request.clientOrderId);
      expect(timesInEngine(record, ids.get(o.account)!, o.request.clientOrderId)).toBe(1);
    }
    // A refused order is in the engine once or not at all, and the service shows exactly that.
    const listed = new Map<string, Order[]>();
    for (const account of [alice, bob]) {
      for (const order of await listAllOrders(p.service, account, b.symbol)) listed.set(`${account}/${order.clientOrderId}`, [...(listed.get(`${account}/${order.clientOrderId}`) ?? []), order]);
    }
    let applied = 0;
    for (const o of refused) {
      const times = timesInEngine(record, ids.get(o.account)!, o.request.clientOrderId);
      expect(times, `refused ${o.request.clientOrderId} in the engine`).toBeLessThanOrEqual(1);
      const shown = listed.get(`${o.account}/${o.request.clientOrderId}`) ?? [];
      expect(shown.length, `refused ${o.request.clientOrderId} in ListOrders`).toBe(times);
      if (times === 1) {
        applied++;
        const got = await call<GetOrderRequest, GetOrderResponse>(p.service.client, p.service.client.getOrder, { orderId: shown[0]!.orderId }, o.account);
        expect(got.order?.clientOrderId).toBe(o.request.clientOrderId);
      }
    }
    console.log(`engine SIGKILL: ${refused.length} calls refused with UNAVAILABLE, ${applied} of them applied by the engine`);

    await expectKafkaCarriesProjection(p);

    // Last, as it may place orders: the clients of the refused calls retry them. The engine that
    // took the unacknowledged ones is gone, so the service knows at once which never reached a
    // journal and places those now, rather than answering REQUEST_IN_FLIGHT for two minutes.
    const retries = await expectRetriesIdempotent(p.service, refused, [record], ids, [OK]);
    console.log(`engine SIGKILL: retries of the refused calls ${JSON.stringify(retries)}`);
  });
});
