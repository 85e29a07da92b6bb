/**
 * Account names and symbols (what the stream and the API speak) against the numeric ids the
 * tables are keyed by. Both are reference data that only grows, so a found entry is cached for the
 * life of the process; a miss always asks PostgreSQL for that one key, because a fill refused as
 * "unknown account" is never counted, so an account created a moment ago must be found.
 */
import type pg from "pg";

export interface NamesOptions {
  readonly pool: pg.Pool;
}

export class Names {
  private readonly accountIds = new Map<string, string>();
  private readonly accountNames = new Map<string, string>();
  private readonly instrumentIds = new Map<string, number>();
  private readonly symbols = new Map<number, string>();

  constructor(private readonly options: NamesOptions) {}

  /** The numeric id (as text) of the account named `name`; undefined when there is none. */
  async accountId(name: string): Promise<string | undefined> {
    const cached = this.accountIds.get(name);
    if (cached !== undefined) return cached;
    const { rows } = await this.options.pool.query<{ account_id: string }>("SELECT account_id FROM accounts WHERE name = $1", [name]);
    if (rows[0]) this.rememberAccount(rows[0].account_id, name);
    return rows[0]?.account_id;
  }

  async accountName(id: string): Promise<string | undefined> {
    const cached = this.accountNames.get(id);
    if (cached !== undefined) return cached;
    const { rows } = await this.options.pool.query<{ name: string }>("SELECT name FROM accounts WHERE account_id = $1", [id]);
    if (rows[0]) this.rememberAccount(id, rows[0].name);
    return rows[0]?.name;
  }

  async instrumentId(symbol: string): Promise<number | undefined> {
    const cached = this.instrumentIds.get(symbol);
    if (cached !== undefined) return cached;
    const { rows } = await this.options.pool.query<{ instrument_id: number }>("SELECT instrument_id FROM instruments WHERE symbol = $1", [symbol]);
    if (rows[0]) this.rememberInstrument(rows[0].instrument_id, symbol);
    return rows[0]?.instrument_id;
  }

  async symbol(instrumentId: number): Promise<string | undefined> {
    const cached = this.symbols.get(instrumentId);
    if (cached !== undefined) return cached;
    const { rows } = await this.options.pool.query<{ symbol: string }>("SELECT symbol FROM instruments WHERE instrument_id = $1", [instrumentId]);
    if (rows[0]) this.rememberInstrument(instrumentId, rows[0].symbol);
    return rows[0]?.symbol;
  }

  private rememberAccount(id: string, name: string): void {
    this.accountIds.set(name, id);
    this.accountNames.set(id, name);
  }

  private rememberInstrument(id: number, symbol: string): void {
    this.instrumentIds.set(symbol, id);
    this.symbols.set(id, symbol);
  }
}
