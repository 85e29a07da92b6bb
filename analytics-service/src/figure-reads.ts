/**
 * The figures of one account (or of every account together) read back from PostgreSQL, each read
 * in one REPEATABLE READ snapshot so the statistics, the open lots and the marks come from the
 * same committed batch. Unrealized P&L is computed here, against the last trade price as it
 * stands now: mark × net quantity − Σ entry price × lot quantity, exactly.
 */
import type pg from "pg";
import { Decimal } from "./decimal.js";
import type { Names } from "./names.js";
import type { AnalyticsTables } from "./tables.js";
import { type SymbolFigures, type TradingStatsView, EMPTY_FIGURES, mergeFigures, tradingStats } from "./trading-stats.js";

/** Whose figures: one account by its numeric id, or every account summed. */
export type FigureScope = { readonly accountId: string } | "all";

export interface SymbolView {
  readonly symbol: string;
  readonly instrumentId: number;
  readonly netQuantity: string;
  /** "" before any trade of the instrument. */
  readonly lastPrice: string;
  readonly stats: TradingStatsView;
}

export interface AnalyticsView {
  readonly totals: TradingStatsView;
  /** Ordered by symbol. */
  readonly symbols: readonly SymbolView[];
  /** The time of the last fill included; undefined before any. */
  readonly asOf: Date | undefined;
}

export interface DailyView {
  readonly date: string;
  readonly realizedPnl: string;
  readonly fees: string;
  readonly tradeCount: bigint;
  readonly volume: string;
}

interface StatsRow {
  instrument_id: number;
  realized_pnl: string;
  fees: string;
  trade_count: string;
  winning_trades: string;
  losing_trades: string;
  total_win: string;
  total_loss: string;
  largest_win: string;
  largest_loss: string;
  volume: string;
  notional: string;
  last_fill_at: Date | null;
}

export interface FigureReadsOptions {
  readonly pool: pg.Pool;
  readonly tables: AnalyticsTables;
  readonly names: Names;
}

export class FigureReads {
  constructor(private readonly options: FigureReadsOptions) {}

  /**
   * Totals and the per-symbol breakdown. With `instrumentId`, only that symbol, present with zero
   * figures when the scope never traded it.
   */
  async analytics(scope: FigureScope, instrumentId?: number): Promise<AnalyticsView> {
    return this.snapshot(async (client) => {
      const t = this.options.tables;
      const params: unknown[] = [];
      const where: string[] = [];
      if (scope !== "all") where.push(`account_id = $${params.push(scope.accountId)}`);
      if (instrumentId !== undefined) where.push(`instrument_id = $${params.push(instrumentId)}`);
      const filter = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
      const stats = await client.query<StatsRow>(
        `SELECT instrument_id, sum(realized_pnl)::text AS realized_pnl, sum(fees)::text AS fees, sum(trade_count)::text AS trade_count,
                sum(winning_trades)::text AS winning_trades, sum(losing_trades)::text AS losing_trades,
                sum(total_win)::text AS total_win, sum(total_loss)::text AS total_loss,
                max(largest_win)::text AS largest_win, min(largest_loss)::text AS largest_loss,
                sum(volume)::text AS volume, sum(notional)::text AS notional, max(last_fill_at) AS last_fill_at
           FROM ${t.symbolStats} ${filter} GROUP BY instrument_id`,
        params,
      );
      const positions = await client.query<{ instrument_id: number; net: string; cost: string }>(
        `SELECT instrument_id, sum(quantity)::text AS net, sum(quantity * price)::text AS cost FROM ${t.openLots} ${filter} GROUP BY instrument_id`,
        params,
      );
      const ids = [...new Set([...stats.rows.map((r) => r.instrument_id), ...(instrumentId === undefined ? [] : [instrumentId])])];
      const marks = await client.query<{ instrument_id: number; price: string }>(`SELECT instrument_id, price::text AS price FROM ${t.lastPrices} WHERE instrument_id = ANY($1::integer[])`, [ids]);
      const markOf = new Map(marks.rows.map((r) => [r.instrument_id, Decimal.parse(r.price, "last price")]));
      const positionOf = new Map(positions.rows.map((r) => [r.instrument_id, { net: Decimal.parse(r.net, "net quantity"), cost: Decimal.parse(r.cost, "cost") }]));
      const figuresOf = new Map(stats.rows.map((r) => [r.instrument_id, figuresFromRow(r)]));

      let totals = EMPTY_FIGURES;
      let totalUnrealized = Decimal.ZERO;
      const symbols: SymbolView[] = [];
      for (const id of ids) {
        const figures = figuresOf.get(id) ?? EMPTY_FIGURES;
        const position = positionOf.get(id) ?? { net: Decimal.ZERO, cost: Decimal.ZERO };
        const mark = markOf.get(id);
        const unrealized = mark === undefined ? Decimal.ZERO : mark.multiply(position.net).subtract(position.cost);
        totals = mergeFigures(totals, figures);
        totalUnrealized = totalUnrealized.add(unrealized);
        symbols.push({
          symbol: (await this.options.names.symbol(id)) ?? `instrument ${id}`,
          instrumentId: id,
          netQuantity: position.net.toString(),
          lastPrice: mark?.toString() ?? "",
          stats: tradingStats(figures, unrealized),
        });
      }
      symbols.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
      return { totals: tradingStats(totals, totalUnrealized), symbols, asOf: totals.lastFillAt };
    });
  }

  /** One entry per day of `days` ("YYYY-MM-DD", oldest first), zero where nothing traded. */
  async daily(scope: FigureScope, days: readonly string[]): Promise<{ days: DailyView[]; asOf: Date | undefined }> {
    if (days.length === 0) throw new RangeError("daily needs at least one day");
    return this.snapshot(async (client) => {
      const t = this.options.tables;
      const params: unknown[] = [days[0], days[days.length - 1]];
      const account = scope === "all" ? "" : `AND account_id = $${params.push(scope.accountId)}`;
      // The stats before the daily rows: the order a rebuild's swap locks them (tables.ts).
      const asOf = await client.query<{ as_of: Date | null }>(
        `SELECT max(last_fill_at) AS as_of FROM ${t.symbolStats} ${scope === "all" ? "" : "WHERE account_id = $1"}`,
        scope === "all" ? [] : [scope.accountId],
      );
      const { rows } = await client.query<{ day: string; realized_pnl: string; fees: string; trade_count: string; volume: string }>(
        `SELECT to_char(day, 'YYYY-MM-DD') AS day, sum(realized_pnl)::text AS realized_pnl, sum(fees)::text AS fees,
                sum(trade_count)::text AS trade_count, sum(volume)::text AS volume
           FROM ${t.dailyPnl} WHERE day BETWEEN $1::date AND $2::date ${account} GROUP BY day`,
        params,
      );
      const byDay = new Map(rows.map((r) => [r.day, r]));
      return {
        days: days.map((date) => {
          const row = byDay.get(date);
          return {
            date,
            realizedPnl: row ? Decimal.parse(row.realized_pnl, "realized_pnl").toString() : "0",
            fees: row ? Decimal.parse(row.fees, "fees").toString() : "0",
            tradeCount: row ? BigInt(row.trade_count) : 0n,
            volume: row ? Decimal.parse(row.volume, "volume").toString() : "0",
          };
        }),
        asOf: asOf.rows[0]?.as_of ?? undefined,
      };
    });
  }

  private async snapshot<T>(read: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.options.pool.connect();
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const result = await read(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

function figuresFromRow(row: StatsRow): SymbolFigures {
  const d = (value: string, field: string) => Decimal.parse(value, field);
  return {
    realizedPnl: d(row.realized_pnl, "realized_pnl"),
    fees: d(row.fees, "fees"),
    tradeCount: BigInt(row.trade_count),
    winningTrades: BigInt(row.winning_trades),
    losingTrades: BigInt(row.losing_trades),
    totalWin: d(row.total_win, "total_win"),
    totalLoss: d(row.total_loss, "total_loss"),
    largestWin: d(row.largest_win, "largest_win"),
    largestLoss: d(row.largest_loss, "largest_loss"),
    volume: d(row.volume, "volume"),
    notional: d(row.notional, "notional"),
    lastFillAt: row.last_fill_at ?? undefined,
  };
}
