/**
 * The real order service as a child process (node + tsx on main.ts, as scripts/services.sh runs
 * it) in front of two real engine shards, with real PostgreSQL and Kafka: routing across shards,
 * and a client_order_id freed when nothing reached the engine.
 *
 * Isolation: every test has its own database, engines, projection lock key and accounts
 * (tests/support/two-shard-platform.ts); the shared Kafka topics are told apart by shard names.
 */
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { type GetPositionsRequest, type GetPositionsResponse, type ListExecutionsRequest, type ListExecutionsResponse } from "@hft/contract/grpc/hft/v1/order_service.js";
import { Liquidity, OrderStatus, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { book, engineRecord, shardInstruments, stats } from "../../tests/support/engine-record.js";
import { call, limitOrder, placeOrder } from "../../tests/support/order-calls.js";
import { UNAVAILABLE, engine, expectKafkaCarriesProjection, expectProjectionEqualsEngine, inRange, instrumentsDefined, projectionCaughtUp, startPlatform } from "../../tests/support/two-shard-platform.js";

describe("the order service process with two engine shards", () => {
  it("routes each instrument to its shard: order ids in the shard's range, books apart, fills and positions of both", { timeout: 120_000 }, async () => {
    const p = await startPlatform();
    const { a, b, alice, bob, service } = p;

    // On A alice rests an ask and bob takes part of it; on B the roles turn.
    const aliceAsk = await placeOrder(service, limitOrder(a.symbol, Side.SIDE_SELL, 10_000, 30, "a-ask"), alice);
    const bobBid = await placeOrder(service, limitOrder(a.symbol, Side.SIDE_BUY, 10_050, 20, "a-bid"), bob);
    const bobAsk = await placeOrder(service, limitOrder(b.symbol, Side.SIDE_SELL, 5_000, 50, "b-ask"), bob);
    const aliceBid = await placeOrder(service, limitOrder(b.symbol, Side.SIDE_BUY, 5_000, 50, "b-bid"), alice);
    expect([aliceAsk, bobBid, bobAsk, aliceBid].map((o) => o.status)).toEqual([
      OrderStatus.ORDER_STATUS_NEW,
      OrderStatus.ORDER_STATUS_FILLED,
      OrderStatus.ORDER_STATUS_NEW,
      OrderStatus.ORDER_STATUS_FILLED,
    ]);
    for (const o of [aliceAsk, bobBid]) expect(inRange(a, b, o.orderId), `order ${o.orderId} of ${a.symbol} in shard a's range`).toBe(true);
    for (const o of [bobAsk, aliceBid]) expect(inRange(b, a, o.orderId), `order ${o.orderId} of ${b.symbol} in shard b's range`).toBe(true);

    // Each engine holds its own instrument only: definitions, counters and books.
    for (const [shard, other, restingLots] of [
      [a, b, 10n],
      [b, a, 0n],
    ] as const) {
      const defined = await shardInstruments(shard.engine.client);
      expect(defined.instruments.map((i) => i.symbol)).toEqual([shard.symbol]);
      const s = await stats(shard.engine.client);
      expect(s.instruments.map((i) => ({ id: i.instrumentId, trades: i.tradesTotal }))).toEqual([{ id: shard.instrumentId, trades: 1n }]);
      const ownBook = (await book(shard.engine.client, shard.instrumentId)).book!;
      expect([...ownBook.bids, ...ownBook.asks].reduce((sum, level) => sum + level.quantityLots, 0n)).toBe(restingLots);
      await expect(book(shard.engine.client, other.instrumentId)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    }

    for (const shard of [a, b]) await projectionCaughtUp(p.db, shard);
    const listExecutions = (account: string) =>
      call<ListExecutionsRequest, ListExecutionsResponse>(
        service.client,
        service.client.listExecutions,
        { symbol: "", orderId: "", startTime: undefined, endTime: undefined, pageSize: 0, pageToken: "", account: "" },
        account,
      ).then((r) => r.executions.map((e) => ({ symbol: e.symbol, orderId: e.orderId, side: e.side, price: e.price, quantity: e.quantity, liquidity: e.liquidity })));
    const bySymbol = (x: { symbol: string }, y: { symbol: string }) => x.symbol.localeCompare(y.symbol);
    expect((await listExecutions(alice)).sort(bySymbol)).toEqual([
      { symbol: a.symbol, orderId: aliceAsk.orderId, side: Side.SIDE_SELL, price: "100", quantity: "0.002", liquidity: Liquidity.LIQUIDITY_MAKER },
      { symbol: b.symbol, orderId: aliceBid.orderId, side: Side.SIDE_BUY, price: "50", quantity: "0.005", liquidity: Liquidity.LIQUIDITY_TAKER },
    ]);
    expect((await listExecutions(bob)).sort(bySymbol)).toEqual([
      { symbol: a.symbol, orderId: bobBid.orderId, side: Side.SIDE_BUY, price: "100", quantity: "0.002", liquidity: Liquidity.LIQUIDITY_TAKER },
      { symbol: b.symbol, orderId: bobAsk.orderId, side: Side.SIDE_SELL, price: "50", quantity: "0.005", liquidity: Liquidity.LIQUIDITY_MAKER },
    ]);
    const positions = (account: string) =>
      call<GetPositionsRequest, GetPositionsResponse>(service.client, service.client.getPositions, { symbol: "", account: "" }, account).then((r) =>
        r.positions.map((x) => ({ symbol: x.symbol, net: x.netQuantity, average: x.averagePrice })).sort(bySymbol),
      );
    expect(await positions(alice)).toEqual([
      { symbol: a.symbol, net: "-0.002", average: "100" },
      { symbol: b.symbol, net: "0.005", average: "50" },
    ]);
    expect(await positions(bob)).toEqual([
      { symbol: a.symbol, net: "0.002", average: "100" },
      { symbol: b.symbol, net: "-0.005", average: "50" },
    ]);

    for (const shard of [a, b]) await expectProjectionEqualsEngine(p.db, shard, await engineRecord(shard.engine.client));
    // Kafka: each shard's messages carry its own shard header (checked against the order's instrument).
    await expectKafkaCarriesProjection(p);
  });

  it("frees the client_order_id of an order refused before anything was sent to the engine", { timeout: 120_000 }, async () => {
    const p = await startPlatform();
    const { a, b, alice } = p;
    const killedEngine = b.engine;
    const before = p.service.logs().length;
    await killedEngine.stop("SIGKILL");
    // Once the link is down, the order is refused at once and never written to any stream.
    await p.service.waitForLog((line) => line.msg === "engine link" && line.shard === b.name && line.state === "down", { from: before });
    const request = limitOrder(b.symbol, Side.SIDE_SELL, 10_000, 1, "unsent-1");
    await expect(placeOrder(p.service, request, alice)).rejects.toMatchObject({ code: UNAVAILABLE, details: expect.stringMatching(/nothing was sent|not sent/) });

    const restartedAt = p.service.logs().length;
    b.engine = await engine(b.firstOrderId, killedEngine);
    await p.service.waitForLog(instrumentsDefined(b), { from: restartedAt });
    // The service's contract: "Never sent: the key is free again, so a retry is a first attempt".
    const retried = await placeOrder(p.service, request, alice);
    expect(retried.status).toBe(OrderStatus.ORDER_STATUS_NEW);
    expect(inRange(b, a, retried.orderId)).toBe(true);
  });
});
