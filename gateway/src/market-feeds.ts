import { create, toJson } from "@bufbuild/protobuf";
import {
  type PriceLevel,
  type StreamMarketDataRequest,
  type StreamMarketDataResponse,
  StreamMarketDataResponseSchema,
} from "@hft/contract/es/hft/v1/market_data_service_pb.js";

/** One WebSocket subscription to a feed. */
export interface FeedSubscriber {
  /** Sends one `market_data` message, UTF-8 JSON; false once the subscriber is gone. */
  deliver(text: Buffer): boolean;
  /** The feed's backend stream is open: the subscription is confirmed. */
  opened(): void;
  /** The feed's backend stream failed (`error`) or ended. The subscriber is no longer in the feed. */
  closed(error?: unknown): void;
}

/** What a feed is opened with: the subscription's request and the headers of its first subscriber. */
export type OpenFeed = (request: StreamMarketDataRequest, signal: AbortSignal) => Promise<AsyncIterable<StreamMarketDataResponse>>;

export interface MarketFeeds {
  /**
   * Adds `subscriber` to the feed of `request`'s symbol and channels, opening it with `open` when
   * there is none. A subscriber that joins a feed already running gets a snapshot of the book as
   * the feed has it, then every update after it. Returns the function that removes it again.
   */
  join(request: StreamMarketDataRequest, open: OpenFeed, subscriber: FeedSubscriber): () => void;
  /** Feeds running now, for the gauge. */
  readonly size: number;
}

/**
 * The gateway's market data fan-out: one `StreamMarketData` stream from the order service per
 * symbol and set of channels, whatever the number of WebSocket subscribers, each update converted
 * to JSON once and the same text sent to every one of them. The feed mirrors the book from the
 * snapshot and the absolute level updates it relays, so a late subscriber starts from a snapshot
 * consistent with the next update rather than opening a stream of its own.
 */
export function createMarketFeeds(onCountChange: (feeds: number) => void = () => {}): MarketFeeds {
  const feeds = new Map<string, Feed>();
  const remove = (key: string, feed: Feed) => {
    if (feeds.get(key) !== feed) return;
    feeds.delete(key);
    onCountChange(feeds.size);
  };

  function start(key: string, request: StreamMarketDataRequest, open: OpenFeed): Feed {
    const controller = new AbortController();
    const feed: Feed = { controller, subscribers: new Set(), opened: false, book: new BookMirror(request) };
    feeds.set(key, feed);
    onCountChange(feeds.size);
    const forwardsTrades = request.includeTrades;
    // Trades are always asked for: they keep the mirror's last trade price true for late subscribers.
    const upstream = { ...request, includeTrades: true };
    void (async () => {
      let failure: unknown;
      try {
        const updates = await open(upstream, controller.signal);
        feed.opened = true;
        for (const subscriber of feed.subscribers) subscriber.opened();
        for await (const update of updates) {
          feed.book.apply(update);
          if (update.update.case === "trade" && !forwardsTrades) continue;
          const text = marketDataText(request.symbols[0]!, update);
          for (const subscriber of feed.subscribers) subscriber.deliver(text);
        }
      } catch (error) {
        failure = error;
      } finally {
        remove(key, feed);
        controller.abort();
        // Empty when the last subscriber's leaving ended the feed.
        const subscribers = [...feed.subscribers];
        feed.subscribers.clear();
        for (const subscriber of subscribers) subscriber.closed(failure);
      }
    })();
    return feed;
  }

  return {
    join(request, open, subscriber) {
      const key = feedKey(request);
      const feed = feeds.get(key) ?? start(key, request, open);
      feed.subscribers.add(subscriber);
      if (feed.opened) {
        subscriber.opened();
        const snapshot = feed.book.snapshot();
        if (snapshot) subscriber.deliver(marketDataText(request.symbols[0]!, snapshot));
      }
      return () => {
        if (!feed.subscribers.delete(subscriber) || feed.subscribers.size > 0) return;
        remove(key, feed);
        feed.controller.abort(new Error("the feed's last subscriber left"));
      };
    },
    get size() {
      return feeds.size;
    },
  };
}

interface Feed {
  readonly controller: AbortController;
  readonly subscribers: Set<FeedSubscriber>;
  opened: boolean;
  readonly book: BookMirror;
}

function feedKey(request: StreamMarketDataRequest): string {
  return JSON.stringify([request.symbols, request.depth, request.includeL1, request.includeL2, request.includeTrades]);
}

function marketDataText(symbol: string, update: StreamMarketDataResponse): Buffer {
  return Buffer.from(JSON.stringify({ type: "market_data", symbol, data: toJson(StreamMarketDataResponseSchema, update) }));
}

/**
 * The book as a client that received every update of the feed holds it: the levels of the last
 * snapshot with the level updates applied (a quantity of zero removes a level), the best bid and
 * offer, and the last trade price.
 */
export class BookMirror {
  private readonly bids = new Map<string, PriceLevel>();
  private readonly asks = new Map<string, PriceLevel>();
  private best: { bid?: PriceLevel; ask?: PriceLevel } = {};
  private lastTradePrice = "";
  private sequence: bigint | undefined;

  constructor(private readonly request: StreamMarketDataRequest) {}

  apply(update: StreamMarketDataResponse): void {
    this.sequence = update.sequence;
    const u = update.update;
    switch (u.case) {
      case "snapshot":
        replaceLevels(this.bids, u.value.bids);
        replaceLevels(this.asks, u.value.asks);
        this.best = { bid: u.value.bids[0], ask: u.value.asks[0] };
        this.lastTradePrice = u.value.lastTradePrice;
        break;
      case "l2":
        applyLevels(this.bids, u.value.bids);
        applyLevels(this.asks, u.value.asks);
        break;
      case "l1":
        this.best = { bid: u.value.bid, ask: u.value.ask };
        break;
      case "trade":
        this.lastTradePrice = u.value.price;
        break;
    }
  }

  /** A snapshot message at the last sequence applied, shaped as the engine's for these channels; none before the first. */
  snapshot(): StreamMarketDataResponse | undefined {
    if (this.sequence === undefined) return undefined;
    const { includeL1, includeL2 } = this.request;
    const side = (levels: Map<string, PriceLevel>, best: PriceLevel | undefined, order: 1 | -1) =>
      includeL2 ? [...levels.values()].sort((a, b) => order * compareDecimals(a.price, b.price)) : includeL1 && best ? [best] : [];
    const symbol = this.request.symbols[0]!;
    return create(StreamMarketDataResponseSchema, {
      symbol,
      sequence: this.sequence,
      update: {
        case: "snapshot",
        value: { symbol, sequence: this.sequence, bids: side(this.bids, this.best.bid, -1), asks: side(this.asks, this.best.ask, 1), lastTradePrice: this.lastTradePrice },
      },
    });
  }
}

function replaceLevels(side: Map<string, PriceLevel>, levels: readonly PriceLevel[]): void {
  side.clear();
  applyLevels(side, levels);
}

function applyLevels(side: Map<string, PriceLevel>, levels: readonly PriceLevel[]): void {
  for (const level of levels) {
    if (/^0(\.0*)?$/.test(level.quantity)) side.delete(level.price);
    else side.set(level.price, level);
  }
}

/** Orders two non-negative decimal strings ("100.5" < "100.25" is false) without floating point. */
export function compareDecimals(a: string, b: string): number {
  const [aWhole = "", aFraction = ""] = a.split(".");
  const [bWhole = "", bFraction = ""] = b.split(".");
  const aInt = aWhole.replace(/^0+/, ""), bInt = bWhole.replace(/^0+/, "");
  if (aInt.length !== bInt.length) return aInt.length - bInt.length;
  if (aInt !== bInt) return aInt < bInt ? -1 : 1;
  const width = Math.max(aFraction.length, bFraction.length);
  const aFrac = aFraction.padEnd(width, "0"), bFrac = bFraction.padEnd(width, "0");
  return aFrac === bFrac ? 0 : aFrac < bFrac ? -1 : 1;
}
