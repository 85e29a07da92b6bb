/**
 * Reference data the order path needs on every request: instruments by symbol and id, accounts
 * by name and id. Read from PostgreSQL once and kept; a name it does not know triggers one reload
 * (at most every `reloadMs`), so an instrument or account added while running is found.
 */
import type pg from "pg";
import type { Names } from "./projection/records.js";

export interface Instrument {
  readonly id: number;
  readonly symbol: string;
  readonly tickSize: string;
  readonly lotSize: string;
  readonly minQuantity: string;
  readonly maxQuantity: string;
  readonly priceBandLow: string;
  readonly priceBandHigh: string;
  readonly shard: string;
  readonly tradingStatus: "open" | "halted" | "closed";
}

export interface Account {
  readonly id: bigint;
  readonly name: string;
  readonly status: "active" | "suspended" | "closed";
}

export class Catalog {
  private instrumentsBySymbol = new Map<string, Instrument>();
  private instrumentsById = new Map<number, Instrument>();
  private accountsByName = new Map<string, Account>();
  private accountsById = new Map<bigint, Account>();
  private lastReload = 0;
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly reloadMs = 1_000,
  ) {}

  async instrument(symbol: string): Promise<Instrument | undefined> {
    return this.instrumentsBySymbol.get(symbol) ?? (await this.reloadOnMiss(() => this.instrumentsBySymbol.get(symbol)));
  }

  async instrumentById(id: number): Promise<Instrument | undefined> {
    return this.instrumentsById.get(id) ?? (await this.reloadOnMiss(() => this.instrumentsById.get(id)));
  }

  async account(name: string): Promise<Account | undefined> {
    return this.accountsByName.get(name) ?? (await this.reloadOnMiss(() => this.accountsByName.get(name)));
  }

  async accountById(id: bigint): Promise<Account | undefined> {
    return this.accountsById.get(id) ?? (await this.reloadOnMiss(() => this.accountsById.get(id)));
  }

  /** Every listed instrument, read again when the last read is older than `reloadMs` (a halt shows). */
  async instruments(): Promise<Instrument[]> {
    if (Date.now() - this.lastReload >= this.reloadMs) await this.reload();
    return [...this.instrumentsById.values()];
  }

  /** Every instrument of a shard, by id. */
  async instrumentsOf(shard: string): Promise<Instrument[]> {
    if (this.lastReload === 0) await this.reload();
    return [...this.instrumentsById.values()].filter((i) => i.shard === shard).sort((a, b) => a.id - b.id);
  }

  /** Reads everything again now. */
  async reload(): Promise<void> {
    this.reloading ??= this.load().finally(() => (this.reloading = undefined));
    await this.reloading;
  }

  private async reloadOnMiss<T>(lookup: () => T | undefined): Promise<T | undefined> {
    if (Date.now() - this.lastReload < this.reloadMs) return undefined;
    await this.reload();
    return lookup();
  }

  private async load(): Promise<void> {
    const [instruments, accounts] = await Promise.all([
      this.pool.query<{
        instrument_id: number;
        symbol: string;
        tick_size: string;
        lot_size: string;
        min_quantity: string;
        max_quantity: string;
        price_band_low: string;
        price_band_high: string;
        shard: string;
        trading_status: Instrument["tradingStatus"];
      }>(
        `SELECT instrument_id, symbol, tick_size::text, lot_size::text, min_quantity::text, max_quantity::text,
                price_band_low::text, price_band_high::text, shard, trading_status
           FROM instruments`,
      ),
      this.pool.query<{ account_id: string; name: string; status: Account["status"] }>("SELECT account_id, name, status FROM accounts"),
    ]);
    this.instrumentsBySymbol = new Map();
    this.instrumentsById = new Map();
    for (const r of instruments.rows) {
      const instrument: Instrument = {
        id: r.instrument_id,
        symbol: r.symbol,
        tickSize: r.tick_size,
        lotSize: r.lot_size,
        minQuantity: r.min_quantity,
        maxQuantity: r.max_quantity,
        priceBandLow: r.price_band_low,
        priceBandHigh: r.price_band_high,
        shard: r.shard,
        tradingStatus: r.trading_status,
      };
      this.instrumentsBySymbol.set(instrument.symbol, instrument);
      this.instrumentsById.set(instrument.id, instrument);
    }
    this.accountsByName = new Map();
    this.accountsById = new Map();
    for (const r of accounts.rows) {
      const account: Account = { id: BigInt(r.account_id), name: r.name, status: r.status };
      this.accountsByName.set(account.name, account);
      this.accountsById.set(account.id, account);
    }
    this.lastReload = Date.now();
  }
}

/** Symbols and account names of projected rows, for turning them into hft.v1 messages. */
export async function namesOf(catalog: Catalog, rows: readonly { instrument_id: number; account_id: string }[]): Promise<Names> {
  const symbols = new Map<number, string>();
  const accounts = new Map<string, string>();
  for (const row of rows) {
    if (!symbols.has(row.instrument_id)) symbols.set(row.instrument_id, (await catalog.instrumentById(row.instrument_id))?.symbol ?? String(row.instrument_id));
    if (!accounts.has(row.account_id)) accounts.set(row.account_id, (await catalog.accountById(BigInt(row.account_id)))?.name ?? row.account_id);
  }
  return { symbol: (id) => symbols.get(id) ?? String(id), account: (id) => accounts.get(id) ?? id };
}
