/**
 * MarketDataService: the engines' books as the public sees them, by symbol and in decimals.
 * ListInstruments reads the catalog; GetBook asks the owning shard's engine for a snapshot;
 * StreamMarketData opens one StreamMarketUpdates per shard involved and relays the updates,
 * converted, into one stream. Backpressure goes upstream: while the caller does not read, the
 * engine streams are paused, and the engine conflates what the caller missed (net level changes,
 * or a fresh snapshot) instead of this process buffering it.
 */
import * as grpc from "@grpc/grpc-js";
import { fromUnits } from "@hft/service-kit";
import {
  type BookLevel,
  type BookSnapshot,
  EngineServiceClient,
  type GetBookSnapshotResponse,
  type StreamMarketUpdatesResponse,
} from "@hft/contract/grpc/hft/v1/engine_service.js";
import {
  type Book,
  type GetBookRequest,
  type GetBookResponse,
  type Instrument as PublicInstrument,
  type ListInstrumentsResponse,
  type PriceLevel,
  type StreamMarketDataRequest,
  type StreamMarketDataResponse,
  TradingStatus,
} from "@hft/contract/grpc/hft/v1/market_data_service.js";
import type { Catalog, Instrument } from "./catalog.js";
import { OrderError } from "./order-error.js";
import { trimDecimal } from "./projection/records.js";
import type { ShardConfig } from "./shards.js";

/** Levels per side when a request says 0. */
const DEFAULT_DEPTH = 10;

const tradingStatuses: Record<Instrument["tradingStatus"], TradingStatus> = {
  open: TradingStatus.TRADING_STATUS_OPEN,
  halted: TradingStatus.TRADING_STATUS_HALTED,
  closed: TradingStatus.TRADING_STATUS_CLOSED,
};

export interface MarketDataOptions {
  readonly catalog: Catalog;
  readonly shards: readonly ShardConfig[];
  /** TLS (mutual with a client certificate) to the engines; plaintext when unset. */
  readonly credentials?: grpc.ChannelCredentials;
}

/** A market data stream being relayed: ended with `reason` when the service drains. */
interface Relay {
  readonly end: (error: OrderError) => void;
}

export class MarketData {
  private readonly engines = new Map<string, EngineServiceClient>();
  private readonly relays = new Set<Relay>();

  constructor(private readonly options: MarketDataOptions) {
    for (const shard of options.shards) {
      this.engines.set(shard.name, new EngineServiceClient(shard.address, options.credentials ?? grpc.credentials.createInsecure(), { "grpc.keepalive_time_ms": 10_000 }));
    }
  }

  async listInstruments(): Promise<ListInstrumentsResponse> {
    const instruments = await this.options.catalog.instruments();
    return { instruments: instruments.sort((a, b) => (a.symbol < b.symbol ? -1 : 1)).map(publicInstrument) };
  }

  async getBook(request: GetBookRequest): Promise<GetBookResponse> {
    const instrument = await this.instrument(request.symbol);
    const snapshot = await new Promise<GetBookSnapshotResponse>((resolve, reject) =>
      this.engine(instrument).getBookSnapshot({ instrumentId: instrument.id, depth: request.depth || DEFAULT_DEPTH }, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (error, response) =>
        error ? reject(engineError(instrument, error)) : resolve(response),
      ),
    );
    return { book: book(snapshot.book, instrument) };
  }

  /**
   * Relays the books of `request` to `call` until the caller cancels, an engine stream ends (the
   * call ends with UNAVAILABLE naming the shard), or the service drains.
   */
  async stream(request: StreamMarketDataRequest, call: grpc.ServerWritableStream<unknown, StreamMarketDataResponse>): Promise<void> {
    if (!request.includeL1 && !request.includeL2 && !request.includeTrades) {
      throw new OrderError(grpc.status.INVALID_ARGUMENT, "NO_CHANNELS", "choose at least one of include_l1, include_l2 and include_trades");
    }
    const instruments = await Promise.all([...new Set(request.symbols)].map((symbol) => this.instrument(symbol)));
    const byShard = new Map<string, Instrument[]>();
    for (const i of instruments) byShard.set(i.shard, [...(byShard.get(i.shard) ?? []), i]);
    const byId = new Map(instruments.map((i) => [i.id, i]));
    const upstreams: grpc.ClientReadableStream<StreamMarketUpdatesResponse>[] = [];
    let ended = false;
    const relay: Relay = {
      end: (error) => {
        if (ended) return;
        ended = true;
        this.relays.delete(relay);
        for (const upstream of upstreams) upstream.cancel();
        if (!call.cancelled) call.emit("error", { code: error.code, details: error.message, metadata: reasonTrailer(error.reason) });
      },
    };
    this.relays.add(relay);
    call.on("cancelled", () => {
      ended = true;
      this.relays.delete(relay);
      for (const upstream of upstreams) upstream.cancel();
    });
    call.on("drain", () => upstreams.forEach((u) => u.resume()));
    for (const [shard, ofShard] of byShard) {
      const upstream = this.engines.get(shard)!.streamMarketUpdates({
        instrumentIds: ofShard.map((i) => i.id),
        depth: request.depth || DEFAULT_DEPTH,
        includeL1: request.includeL1,
        includeL2: request.includeL2,
        includeTrades: request.includeTrades,
      });
      upstreams.push(upstream);
      upstream.on("data", (update: StreamMarketUpdatesResponse) => {
        const instrument = byId.get(update.instrumentId);
        if (ended || !instrument) return;
        // A full buffer pauses every engine stream of this call until the caller reads again.
        if (!call.write(publicUpdate(update, instrument))) upstreams.forEach((u) => u.pause());
      });
      upstream.on("error", (error: grpc.ServiceError) => {
        if (error.code === grpc.status.CANCELLED && ended) return;
        relay.end(new OrderError(grpc.status.UNAVAILABLE, "MARKET_DATA_UNAVAILABLE", `market data of engine shard ${shard} ended: ${error.details || error.message}`));
      });
      upstream.on("end", () => relay.end(new OrderError(grpc.status.UNAVAILABLE, "MARKET_DATA_UNAVAILABLE", `engine shard ${shard} ended its market data stream`)));
    }
  }

  /** Ends every stream with UNAVAILABLE, so clients reconnect to another replica, and closes the engine connections. */
  close(): void {
    for (const relay of [...this.relays]) relay.end(new OrderError(grpc.status.UNAVAILABLE, "SERVICE_DRAINING", "the order service is shutting down; reconnect"));
    for (const engine of this.engines.values()) engine.close();
  }

  private async instrument(symbol: string): Promise<Instrument> {
    const instrument = await this.options.catalog.instrument(symbol);
    if (!instrument) throw new OrderError(grpc.status.NOT_FOUND, "UNKNOWN_SYMBOL", `symbol ${symbol} is not listed`);
    return instrument;
  }

  private engine(instrument: Instrument): EngineServiceClient {
    const engine = this.engines.get(instrument.shard);
    if (!engine) throw new OrderError(grpc.status.UNAVAILABLE, "SHARD_NOT_CONFIGURED", `no engine is configured for shard ${instrument.shard} of ${instrument.symbol}`);
    return engine;
  }
}

function reasonTrailer(reason: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set("hft-reason", reason);
  return metadata;
}

function engineError(instrument: Instrument, error: grpc.ServiceError): OrderError {
  return new OrderError(grpc.status.UNAVAILABLE, "MARKET_DATA_UNAVAILABLE", `engine shard ${instrument.shard} did not answer for ${instrument.symbol}: ${error.details || error.message}`);
}

function publicInstrument(i: Instrument): PublicInstrument {
  return {
    symbol: i.symbol,
    tickSize: trimDecimal(i.tickSize),
    lotSize: trimDecimal(i.lotSize),
    minQuantity: trimDecimal(i.minQuantity),
    maxQuantity: trimDecimal(i.maxQuantity),
    priceBandLow: trimDecimal(i.priceBandLow),
    priceBandHigh: trimDecimal(i.priceBandHigh),
    tradingStatus: tradingStatuses[i.tradingStatus],
  };
}

const price = (ticks: bigint, i: Instrument) => trimDecimal(fromUnits(ticks, i.tickSize));
const quantity = (lots: bigint, i: Instrument) => trimDecimal(fromUnits(lots, i.lotSize));
const level = (l: BookLevel, i: Instrument): PriceLevel => ({ price: price(l.priceTicks, i), quantity: quantity(l.quantityLots, i), orderCount: l.orderCount });

function book(snapshot: BookSnapshot | undefined, i: Instrument): Book {
  return {
    symbol: i.symbol,
    sequence: snapshot?.sequence ?? 0n,
    bids: (snapshot?.bids ?? []).map((l) => level(l, i)),
    asks: (snapshot?.asks ?? []).map((l) => level(l, i)),
    lastTradePrice: snapshot && snapshot.lastTradePriceTicks > 0n ? price(snapshot.lastTradePriceTicks, i) : "",
  };
}

/** An engine update in the public form: symbol for instrument id, decimals for ticks and lots. */
export function publicUpdate(update: StreamMarketUpdatesResponse, i: Instrument): StreamMarketDataResponse {
  const base = { symbol: i.symbol, sequence: update.sequence };
  const u = update.update;
  switch (u?.$case) {
    case "snapshot":
      return { ...base, update: { $case: "snapshot", value: book(u.value, i) } };
    case "l1":
      return { ...base, update: { $case: "l1", value: { bid: u.value.bid && level(u.value.bid, i), ask: u.value.ask && level(u.value.ask, i) } } };
    case "l2":
      return { ...base, update: { $case: "l2", value: { bids: u.value.bids.map((l) => level(l, i)), asks: u.value.asks.map((l) => level(l, i)) } } };
    case "trade":
      return {
        ...base,
        update: {
          $case: "trade",
          value: { tradeId: u.value.tradeId.toString(), price: price(u.value.priceTicks, i), quantity: quantity(u.value.quantityLots, i), aggressorSide: u.value.aggressorSide, tradeTime: u.value.timestamp },
        },
      };
    default:
      return { ...base, update: undefined };
  }
}
