/**
 * Account names and symbols (what the stream and the API speak) against the numeric ids the
 * tables are keyed by. Both are reference data that only grows, so a found entry is cached for the
 * life of the process; a miss asks PostgreSQL again (at most once per `reloadMs`), because an
 * account or instrument may have been created since.
 */
import type pg from "pg";

export interface NamesOptions {
  readonly pool: pg.Pool;
  /** Least time between two reloads caused by misses. Default 1 s. */
  readonly reloadMs?: number;
}

export class Names {
  private readonly accountIds = new Map<string, string>();
  private readonly accountNames = new Map<string, string>();
  private readonly instrumentIds = new Map<string, number>();
  private readonly symbols = new Map<number, string>();
  private lastReload = 0;
  private reloading: Promise<void> | undefined;

  constructor(private readonly options: NamesOptions) {}

  /** The numeric id (as text) of the account named `name`; undefined when there is none. */
  async accountId(name: string): Promise<string | undefined> {
    return this.accountIds.get(name) ?? (await this.onMiss(() => this.accountIds.get(name)));
  }

  async accountName(id: string): Promise<string | undefined> {
    return this.accountNames.get(id) ?? (await this.onMiss(() => this.accountNames.get(id)));
  }

  async instrumentId(symbol: string): Promise<number | undefined> {
    return this.instrumentIds.get(symbol) ?? (await this.onMiss(() => this.instrumentIds.get(symbol)));
  }

  async symbol(instrumentId: number): Promise<string | undefined> {
    return this.symbols.get(instrumentId) ?? (await this.onMiss(() => this.symbols.get(instrumentId)));
  }

  private async onMiss<T>(lookup: () => T | undefined): Promise<T | undefined> {
    if (Date.now() - this.lastReload >= (this.options.reloadMs ?? 1_000)) {
      this.reloading ??= this.load().finally(() => (this.reloading = undefined));
    }
    if (this.reloading) await this.reloading;
    return lookup();
  }

  private async load(): Promise<void> {
    const [accounts, instruments] = await Promise.all([
      this.options.pool.query<{ account_id: string; name: string }>("SELECT account_id, name FROM accounts"),
      this.options.pool.query<{ instrument_id: number; symbol: string }>("SELECT instrument_id, symbol FROM instruments"),
    ]);
    for (const row of accounts.rows) {
      this.accountIds.set(row.name, row.account_id);
      this.accountNames.set(row.account_id, row.name);
    }
    for (const row of instruments.rows) {
      this.instrumentIds.set(row.symbol, row.instrument_id);
      this.symbols.set(row.instrument_id, row.symbol);
    }
    this.lastReload = Date.now();
  }
}
