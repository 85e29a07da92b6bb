import { create } from "@bufbuild/protobuf";
import {
  type StreamMarketDataRequest,
  StreamMarketDataRequestSchema,
  type StreamMarketDataResponse,
  StreamMarketDataResponseSchema,
} from "@hft/contract/es/hft/v1/market_data_service_pb.js";
import { describe, expect, it } from "vitest";
import { type FeedSubscriber, compareDecimals, createMarketFeeds } from "./market-feeds.js";

/** A backend stream the test writes into, remembering what it was opened with and whether it was cancelled. */
function backend() {
  const opened: { request: StreamMarketDataRequest; signal: AbortSignal }[] = [];
  let push: (update: StreamMarketDataResponse | Error | "end") => void = () => {};
  const open = async (request: StreamMarketDataRequest, signal: AbortSignal) => {
    opened.push({ request, signal });
    const queue: (StreamMarketDataResponse | Error | "end")[] = [];
    let wake = () => {};
    push = (item) => (queue.push(item), wake());
    signal.addEventListener("abort", () => push(new Error("cancelled")));
    return (async function* () {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        const item = queue.shift()!;
        if (item === "end") return;
        if (item instanceof Error) throw item;
        yield item;
      }
    })();
  };
  return { open, opened, push: (item: StreamMarketDataResponse | Error | "end") => push(item) };
}

function subscriber() {
  const texts: string[] = [];
  const events: string[] = [];
  const self: FeedSubscriber & { texts: string[]; events: string[]; data: () => unknown[] } = {
    texts,
    events,
    deliver: (text) => (texts.push(text.toString()), true),
    opened: () => void events.push("opened"),
    closed: (error) => void events.push(error === undefined ? "ended" : `failed: ${(error as Error).message}`),
    data: () => texts.map((text) => (JSON.parse(text) as { data: unknown }).data),
  };
  return self;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
const request = (fields: Partial<StreamMarketDataRequest> = {}) =>
  create(StreamMarketDataRequestSchema, { symbols: ["BTC-USD"], depth: 10, includeL1: false, includeL2: true, includeTrades: false, ...fields });
const level = (price: string, quantity: string) => ({ price, quantity, orderCount: quantity === "0" ? 0 : 1 });
const snapshot = (sequence: bigint) =>
  create(StreamMarketDataResponseSchema, {
    symbol: "BTC-USD",
    sequence,
    update: { case: "snapshot", value: { symbol: "BTC-USD", sequence, bids: [level("100", "1"), level("99", "2")], asks: [level("101", "1")], lastTradePrice: "100.5" } },
  });
const l2 = (sequence: bigint, bids: ReturnType<typeof level>[], asks: ReturnType<typeof level>[]) =>
  create(StreamMarketDataResponseSchema, { symbol: "BTC-USD", sequence, update: { case: "l2", value: { bids, asks } } });
const trade = (sequence: bigint, price: string) =>
  create(StreamMarketDataResponseSchema, { symbol: "BTC-USD", sequence, update: { case: "trade", value: { tradeId: `T${sequence}`, price, quantity: "1" } } });

describe("market feeds", () => {
  it("orders decimal prices by value, not as text", () => {
    const prices = ["100.25", "99.9", "100.5", "1000", "0.001", "100", "100.250"];
    expect([...prices].sort(compareDecimals)).toEqual(["0.001", "99.9", "100", "100.25", "100.250", "100.5", "1000"]);
    expect(compareDecimals("100.25", "100.250")).toBe(0);
  });

  it("opens one backend stream for every subscriber of a symbol and sends each the same text", async () => {
    const counts: number[] = [];
    const feeds = createMarketFeeds((n) => counts.push(n));
    const stream = backend();
    const [a, b] = [subscriber(), subscriber()];
    feeds.join(request(), stream.open, a);
    feeds.join(request(), stream.open, b);
    await settle();
    expect(stream.opened).toHaveLength(1);
    expect([a.events, b.events]).toEqual([["opened"], ["opened"]]);
    stream.push(snapshot(5n));
    stream.push(l2(6n, [level("100", "0")], []));
    await settle();
    expect(a.texts).toHaveLength(2);
    expect(b.texts).toEqual(a.texts);
    expect(JSON.parse(a.texts[0]!)).toMatchObject({ type: "market_data", symbol: "BTC-USD", data: { sequence: "5", snapshot: { bids: [{ price: "100" }, { price: "99" }] } } });
    expect(feeds.size).toBe(1);
    expect(counts).toEqual([1]);

    // Another set of channels is another feed.
    feeds.join(request({ includeL1: true, includeL2: false }), stream.open, subscriber());
    expect(feeds.size).toBe(2);
  });

  it("gives a late subscriber the book as the updates so far made it, then the updates after it", async () => {
    const feeds = createMarketFeeds();
    const stream = backend();
    const early = subscriber();
    feeds.join(request({ includeTrades: true }), stream.open, early);
    await settle();
    stream.push(snapshot(5n));
    // A level that appears and goes again between two snapshots must not stay in a late subscriber's book.
    stream.push(l2(6n, [level("100", "0"), level("98.5", "3")], [level("100.75", "2")]));
    stream.push(l2(7n, [level("99.5", "4")], []));
    stream.push(l2(8n, [level("99.5", "0")], []));
    stream.push(trade(9n, "101"));
    await settle();
    const late = subscriber();
    feeds.join(request({ includeTrades: true }), stream.open, late);
    stream.push(l2(10n, [level("99", "1")], []));
    await settle();
    expect(early.events).toEqual(["opened"]);
    expect(late.events).toEqual(["opened"]);
    expect(late.data()).toEqual([
      {
        symbol: "BTC-USD",
        sequence: "9",
        snapshot: {
          symbol: "BTC-USD",
          sequence: "9",
          bids: [
            { price: "99", quantity: "2", orderCount: 1 },
            { price: "98.5", quantity: "3", orderCount: 1 },
          ],
          asks: [
            { price: "100.75", quantity: "2", orderCount: 1 },
            { price: "101", quantity: "1", orderCount: 1 },
          ],
          lastTradePrice: "101",
        },
      },
      { symbol: "BTC-USD", sequence: "10", l2: { bids: [{ price: "99", quantity: "1", orderCount: 1 }] } },
    ]);
    expect(early.texts.slice(-1)).toEqual(late.texts.slice(-1));
  });

  it("asks upstream for trades to keep the last trade price, but forwards them only to feeds that want them", async () => {
    const feeds = createMarketFeeds();
    const stream = backend();
    const l1Only = subscriber();
    feeds.join(request({ includeL1: true, includeL2: false }), stream.open, l1Only);
    await settle();
    expect(stream.opened[0]!.request).toMatchObject({ includeL1: true, includeL2: false, includeTrades: true });
    stream.push(snapshot(5n));
    stream.push(trade(6n, "102"));
    stream.push(create(StreamMarketDataResponseSchema, { symbol: "BTC-USD", sequence: 7n, update: { case: "l1", value: { bid: level("100.5", "1"), ask: level("101", "1") } } }));
    await settle();
    expect(l1Only.data().map((d) => Object.keys(d as object)[2])).toEqual(["snapshot", "l1"]);
    const late = subscriber();
    feeds.join(request({ includeL1: true, includeL2: false }), stream.open, late);
    expect(late.data()[0]).toMatchObject({ sequence: "7", snapshot: { bids: [{ price: "100.5" }], asks: [{ price: "101" }], lastTradePrice: "102" } });
  });

  it("cancels the backend stream when the last subscriber leaves, and opens a new one for the next", async () => {
    const counts: number[] = [];
    const feeds = createMarketFeeds((n) => counts.push(n));
    const stream = backend();
    const [a, b] = [subscriber(), subscriber()];
    const leaveA = feeds.join(request(), stream.open, a);
    const leaveB = feeds.join(request(), stream.open, b);
    await settle();
    leaveA();
    expect(stream.opened[0]!.signal.aborted).toBe(false);
    leaveB();
    expect(stream.opened[0]!.signal.aborted).toBe(true);
    expect(feeds.size).toBe(0);
    await settle();
    expect([a.events, b.events]).toEqual([["opened"], ["opened"]]);
    feeds.join(request(), stream.open, subscriber());
    await settle();
    expect(stream.opened).toHaveLength(2);
    expect(counts).toEqual([1, 0, 1]);
  });

  it("tells every subscriber when the backend stream fails or ends, and starts afresh after", async () => {
    const feeds = createMarketFeeds();
    const stream = backend();
    const [a, b] = [subscriber(), subscriber()];
    feeds.join(request(), stream.open, a);
    feeds.join(request(), stream.open, b);
    await settle();
    stream.push(new Error("market data of engine shard a ended"));
    await settle();
    expect([a.events, b.events]).toEqual([
      ["opened", "failed: market data of engine shard a ended"],
      ["opened", "failed: market data of engine shard a ended"],
    ]);
    expect(feeds.size).toBe(0);
    const c = subscriber();
    feeds.join(request(), stream.open, c);
    await settle();
    stream.push("end");
    await settle();
    expect(c.events).toEqual(["opened", "ended"]);
    expect(stream.opened).toHaveLength(2);
  });
});
