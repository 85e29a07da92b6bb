/**
 * The names of the tables that hold one complete set of figures. The service writes and reads the
 * live set; a rebuild fills a fresh set beside it and swaps it in, so every query takes its table
 * names from here.
 */

export interface AnalyticsTables {
  readonly offsets: string;
  readonly appliedFills: string;
  readonly rejectedMessages: string;
  readonly openLots: string;
  readonly symbolStats: string;
  readonly dailyPnl: string;
  readonly lastPrices: string;
}

/** The tables of migrations 003 and 009. */
export const LIVE_TABLES: AnalyticsTables = {
  offsets: "analytics_consumer_offsets",
  appliedFills: "analytics_applied_fills",
  rejectedMessages: "analytics_rejected_messages",
  openLots: "analytics_open_lots",
  symbolStats: "analytics_symbol_stats",
  dailyPnl: "analytics_daily_pnl",
  lastPrices: "analytics_last_prices",
};

/** The live tables' names with `suffix` appended (`analytics_open_lots_rebuild`). */
export function suffixedTables(suffix: string): AnalyticsTables {
  if (!/^_[a-z0-9_]{1,20}$/.test(suffix)) throw new RangeError(`table suffix "${suffix}" must be "_" and up to 20 lowercase letters, digits or underscores`);
  return Object.fromEntries(Object.entries(LIVE_TABLES).map(([key, name]) => [key, `${name}${suffix}`])) as unknown as AnalyticsTables;
}

/**
 * Every table of a set, in the order a swap locks them. Readers (figure-reads.ts) touch them in the
 * same order (stats, daily, lots, marks) and batches take the offsets row first, so a swap never
 * deadlocks with either; it waits for them, and they for it.
 */
export function tableList(tables: AnalyticsTables): string[] {
  return [tables.offsets, tables.appliedFills, tables.rejectedMessages, tables.symbolStats, tables.dailyPnl, tables.openLots, tables.lastPrices];
}
