import type { ClientReadableStream, ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { BookLevel, StreamMarketUpdatesRequest, StreamMarketUpdatesResponse } from "@hft/contract/grpc/hft/v1/engine_service.js";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";
import { OrderFlowSession, defineBtc, limit } from "./support/engine-commands.js";
import { type EngineProcess, startEngine } from "./support/engine-process.js";

const engines: EngineProcess[] = [];
async function engine(args: string[] = []): Promise<EngineProcess> {
  const started = await startEngine({ args });
  engines.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop("SIGKILL")));
});

type Levels = Map<bigint, BookLevel>;

/** The book a client rebuilds from the stream: snapshots replace it, L2 updates patch it. */
class StreamedBook {
  bids: Levels = new Map();
  asks: Levels = new Map();
  readonly messages: StreamMarketUpdatesResponse[] = [];
  private waiters: { until: (m: StreamMarketUpdatesResponse) => boolean; resolve: () => void }[] = [];
  readonly ended: Promise<ServiceError | undefined>;

  constructor(readonly stream: ClientReadableStream<StreamMarketUpdatesResponse>) {
    stream.on("data", (m: StreamMarketUpdatesResponse) => {
      this.messages.push(m);
      if (m.update?.$case === "snapshot") {
        this.bids = new Map(m.update.value.bids.map((l) => [l.priceTicks, l]));
        this.asks = new Map(m.update.value.asks.map((l) => [l.priceTicks, l]));
      } else if (m.update?.$case === "l2") {
        for (const [side, levels] of [
          [this.bids, m.update.value.bids],
          [this.asks, m.update.value.asks],
        ] as const) {
          for (const l of levels) {
            if (l.quantityLots === 0n) side.delete(l.priceTicks);
            else side.set(l.priceTicks, l);
          }
        }
      }
      this.waiters = this.waiters.filter((w) => (w.until(m) ? (w.resolve(), false) : true));
    });
    this.ended = new Promise((resolve) => {
      stream.on("error", (err: ServiceError) => resolve(err));
      stream.on("end", () => resolve(undefined));
    });
  }

  /** Resolves at the first message (already received or coming) that satisfies `until`. */
  async waitFor(until: (m: StreamMarketUpdatesResponse) => boolean, timeoutMs = 10_000): Promise<void> {
    if (this.messages.some(until)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such market data message among ${this.messages.length} after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ until, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  sorted(side: "bids" | "asks"): [bigint, bigint, number][] {
    return [...this[side].values()]
      .map((l): [bigint, bigint, number] => [l.priceTicks, l.quantityLots, l.orderCount])
      .sort((a, b) => (side === "bids" ? Number(b[0] - a[0]) : Number(a[0] - b[0])));
  }
}

const allChannels = (extra: Partial<StreamMarketUpdatesRequest> = {}): StreamMarketUpdatesRequest => ({
  instrumentIds: [1],
  depth: 5,
  includeL1: true,
  includeL2: true,
  includeTrades: true,
  ...extra,
});

function book(e: EngineProcess, depth: number) {
  return new Promise<[bigint, bigint, number][][]>((resolve, reject) =>
    e.client.getBookSnapshot({ instrumentId: 1, depth }, (err, response) =>
      err
        ? reject(err)
        : resolve(
            [response.book?.bids ?? [], response.book?.asks ?? []].map((side) =>
              side.map((l): [bigint, bigint, number] => [l.priceTicks, l.quantityLots, l.orderCount]),
            ),
          ),
    ),
  );
}

describe("engine StreamMarketUpdates", () => {
  it("starts with a snapshot, then sends trades, depth changes and the new top of book", async () => {
    const e = await engine();
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([
      defineBtc(1n),
      limit(2n, { account: 7n, side: Side.SIDE_SELL, price: 10_000n, quantity: 5n, clientOrderId: "ask" }),
      limit(3n, { account: 7n, side: Side.SIDE_BUY, price: 9_990n, quantity: 4n, clientOrderId: "bid" }),
    ]);
    await session.waitForAcks(3);

    const streamed = new StreamedBook(e.client.streamMarketUpdates(allChannels()));
    await streamed.waitFor((m) => m.update?.$case === "snapshot");
    const [snapshot] = streamed.messages;
    expect(snapshot?.sequence).toBe(3n);
    expect(streamed.sorted("asks")).toEqual([[10_000n, 5n, 1]]);
    expect(streamed.sorted("bids")).toEqual([[9_990n, 4n, 1]]);

    session.send([limit(4n, { account: 8n, side: Side.SIDE_BUY, price: 10_000n, quantity: 2n, clientOrderId: "take" })]);
    await streamed.waitFor((m) => m.update?.$case === "l1");
    const [, trade, l2, l1] = streamed.messages;
    expect(trade?.update).toMatchObject({ $case: "trade", value: { priceTicks: 10_000n, quantityLots: 2n, aggressorSide: Side.SIDE_BUY } });
    expect(trade?.sequence).toBe(4n);
    expect(l2?.update).toEqual({ $case: "l2", value: { bids: [], asks: [{ priceTicks: 10_000n, quantityLots: 3n, orderCount: 1 }] } });
    expect(l1?.update).toEqual({
      $case: "l1",
      value: { bid: { priceTicks: 9_990n, quantityLots: 4n, orderCount: 1 }, ask: { priceTicks: 10_000n, quantityLots: 3n, orderCount: 1 } },
    });
    streamed.stream.cancel();
  });

  it("refuses a request without channels, too deep, or for an instrument it does not have", async () => {
    const e = await engine();
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([defineBtc(1n)]);
    await session.waitForAcks(1);
    const refusal = (request: StreamMarketUpdatesRequest) => new StreamedBook(e.client.streamMarketUpdates(request)).ended;

    expect(await refusal(allChannels({ includeL1: false, includeL2: false, includeTrades: false }))).toMatchObject({
      code: 3,
      details: "ask for at least one of include_l1, include_l2 and include_trades",
    });
    expect(await refusal(allChannels({ depth: 5000 }))).toMatchObject({ code: 3, details: "depth must be at most 1000, got 5000" });
    expect(await refusal(allChannels({ instrumentIds: [1, 99] }))).toMatchObject({ code: 5, details: "instrument 99 is not defined in this engine" });
  });

  it("gives a reader that stopped reading conflated updates or a new snapshot, without holding up matching", async () => {
    const e = await engine(["--market-data-trade-queue=100"]);
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([defineBtc(1n)]);
    await session.waitForAcks(1);
    const streamed = new StreamedBook(e.client.streamMarketUpdates(allChannels()));
    await streamed.waitFor((m) => m.update?.$case === "snapshot");
    streamed.stream.pause();

    // 20,000 orders from two accounts around one price: thousands of trades and level changes.
    const total = 20_000;
    for (let first = 0; first < total; first += 1_000) {
      session.send(
        Array.from({ length: 1_000 }, (_, i) => {
          const n = first + i;
          return limit(BigInt(10 + n), {
            account: BigInt(1 + (n % 2)),
            side: n % 2 === 0 ? Side.SIDE_BUY : Side.SIDE_SELL,
            price: BigInt(10_000 + ((n * 7) % 11) - 5),
            quantity: BigInt(1 + (n % 4)),
            clientOrderId: `o-${n}`,
          });
        }),
      );
    }
    // Every command is acknowledged while the market data reader is not reading at all.
    const acks = await session.waitForAcks(1 + total, 30_000);
    const lastSequence = acks.at(-1)?.sequence ?? 0n;
    const trades = acks.flatMap((a) => a.events).filter((ev) => ev.event?.$case === "trade").length;
    expect(trades).toBeGreaterThan(1_000);

    streamed.stream.resume();
    await streamed.waitFor((m) => m.sequence === lastSequence && m.update?.$case !== "trade", 20_000);
    // Fewer messages than the trades alone would have been: the rest was conflated or resnapshot.
    expect(streamed.messages.length).toBeLessThan(trades);
    expect(streamed.messages.filter((m) => m.update?.$case === "snapshot").length).toBeGreaterThan(1);
    const sequences = streamed.messages.map((m) => m.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    // What the reader rebuilt from the stream is the engine's book.
    const [bids, asks] = await book(e, 5);
    expect(streamed.sorted("bids")).toEqual(bids);
    expect(streamed.sorted("asks")).toEqual(asks);
    streamed.stream.cancel();
  });

  it("ends the stream with UNAVAILABLE when the engine drains on SIGTERM", async () => {
    const e = await engine();
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([defineBtc(1n)]);
    await session.waitForAcks(1);
    const streamed = new StreamedBook(e.client.streamMarketUpdates(allChannels({ instrumentIds: [] })));
    await streamed.waitFor((m) => m.update?.$case === "snapshot");
    expect(await e.stop("SIGTERM")).toBe(0);
    expect(await streamed.ended).toMatchObject({ code: 14 });
  });
});
