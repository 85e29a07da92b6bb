/**
 * One partition's batch of execution messages applied to PostgreSQL in one transaction: the
 * figures, the fills' identities (for de-duplication), the messages refused, and the partition's
 * next offset and engine sequences. The stored offset, not Kafka's, decides what is new:
 *
 *   1. lock the partition's offset row (BEGIN … FOR UPDATE): one writer per partition, even when a
 *      rebalance leaves a zombie consumer running for a moment;
 *   2. fence: a batch that starts after the stored offset would skip messages, so nothing is
 *      written and the consumer seeks back; messages before it were applied already and are
 *      dropped;
 *   3. decode, resolve account and symbol ids, drop fills already counted (producer duplicates);
 *   4. load the touched FIFO books, apply the fills, write the changes and the next offset (one
 *      statement);
 *   5. COMMIT.
 *
 * A crash anywhere before COMMIT leaves nothing behind; after it, the next batch starts at the
 * stored offset. So a fill is counted exactly once across crashes, rebalances and rebuilds.
 */
import type pg from "pg";
import { Decimal } from "./decimal.js";
import { decodeExecution, MessageError, type StreamMessage } from "./execution-message.js";
import { type BatchFigures, type BookedFill, applyFills } from "./figure-batch.js";
import { createFifoBook, type Lot } from "./fifo.js";
import { fillKey } from "./fill.js";
import type { Names } from "./names.js";
import type { AnalyticsTables } from "./tables.js";

/** A message of the batch with its offset (kafkajs's `KafkaMessage` fits). */
export interface OffsetMessage extends StreamMessage {
  readonly offset: string;
}

export interface Rejection {
  readonly offset: string;
  readonly code: string;
  readonly reason: string;
  readonly message: StreamMessage;
}

export type BatchResult =
  | {
      readonly kind: "applied";
      /** The offset after the last message of the batch, now stored. */
      readonly nextOffset: bigint;
      /** New fills counted, in stream order. */
      readonly applied: readonly BookedFill[];
      /** Fills already counted before (producer duplicates). */
      readonly duplicates: number;
      readonly rejected: readonly Rejection[];
    }
  /** The stored offset is not within the batch: nothing was written; continue from `storedOffset`. */
  | { readonly kind: "misplaced"; readonly storedOffset: bigint };

export interface FigureStoreOptions {
  readonly pool: pg.Pool;
  readonly tables: AnalyticsTables;
  readonly groupId: string;
  readonly topic: string;
  readonly names: Names;
  /**
   * The partition's first offset still in Kafka: where a partition without a stored offset
   * starts (a topic never read, or a fresh set of tables).
   */
  readonly startOffset: (partition: number) => Promise<bigint>;
}

interface OffsetRow {
  next_offset: string;
  last_sequence: string;
  shard_sequences: Record<string, string>;
}

interface LotRow {
  account_id: string;
  instrument_id: number;
  lot_seq: string;
  quantity: string;
  price: string;
  opened_at: Date;
}

export class FigureStore {
  constructor(private readonly options: FigureStoreOptions) {}

  get tables(): AnalyticsTables {
    return this.options.tables;
  }

  /** The stored next offsets of the group, by partition. */
  async storedOffsets(): Promise<Map<number, bigint>> {
    const { rows } = await this.options.pool.query<{ partition: number; next_offset: string }>(
      `SELECT partition, next_offset FROM ${this.options.tables.offsets} WHERE group_id = $1 AND topic = $2`,
      [this.options.groupId, this.options.topic],
    );
    return new Map(rows.map((row) => [row.partition, BigInt(row.next_offset)]));
  }

  /** Applies one batch of `partition` (messages in offset order); see the file comment. */
  async applyBatch(partition: number, messages: readonly OffsetMessage[]): Promise<BatchResult> {
    if (messages.length === 0) throw new RangeError("applyBatch needs at least one message");
    const client = await this.options.pool.connect();
    let failed: Error | undefined;
    try {
      await client.query("BEGIN");
      const stored = await this.lockOffset(client, partition);
      const storedOffset = BigInt(stored.next_offset);
      const first = BigInt(messages[0]!.offset);
      const last = BigInt(messages[messages.length - 1]!.offset);
      if (storedOffset < first || storedOffset > last) {
        await client.query("ROLLBACK");
        return { kind: "misplaced", storedOffset };
      }
      const fresh = messages.filter((m) => BigInt(m.offset) >= storedOffset);

      const { fills, rejected } = await this.decode(fresh);
      const applied = await this.newFills(client, partition, fills);
      const figures = applyFills(applied, await this.loadBooks(client, applied));
      await this.writeBatch(client, partition, figures, rejected, stored, last + 1n, applied);
      await client.query("COMMIT");
      return { kind: "applied", nextOffset: last + 1n, applied, duplicates: fills.length - applied.length, rejected };
    } catch (error) {
      failed = error as Error;
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      // A client whose transaction failed may be broken; the pool replaces it.
      client.release(failed);
    }
  }

  private async lockOffset(client: pg.PoolClient, partition: number): Promise<OffsetRow> {
    const select = () =>
      client.query<OffsetRow>(
        `SELECT next_offset, last_sequence, shard_sequences FROM ${this.options.tables.offsets}
          WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE`,
        [this.options.groupId, this.options.topic, partition],
      );
    let { rows } = await select();
    if (rows.length === 0) {
      const start = await this.options.startOffset(partition);
      await client.query(
        `INSERT INTO ${this.options.tables.offsets} (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [this.options.groupId, this.options.topic, partition, start.toString()],
      );
      ({ rows } = await select());
    }
    return rows[0]!;
  }

  /** The messages as fills with their ids; the rest refused with the reason. */
  private async decode(messages: readonly OffsetMessage[]): Promise<{ fills: (BookedFill & { offset: string })[]; rejected: Rejection[] }> {
    const fills: (BookedFill & { offset: string })[] = [];
    const rejected: Rejection[] = [];
    // Within one batch an unknown name is asked for once (a partition full of foreign fills).
    const accounts = new Map<string, Promise<string | undefined>>();
    const instruments = new Map<string, Promise<number | undefined>>();
    const names = this.options.names;
    for (const message of messages) {
      try {
        const fill = decodeExecution(message);
        if (!accounts.has(fill.account)) accounts.set(fill.account, names.accountId(fill.account));
        const accountId = await accounts.get(fill.account);
        if (accountId === undefined) throw new MessageError("FILL_MALFORMED", `account "${fill.account}" does not exist`);
        if (!instruments.has(fill.symbol)) instruments.set(fill.symbol, names.instrumentId(fill.symbol));
        const instrumentId = await instruments.get(fill.symbol);
        if (instrumentId === undefined) throw new MessageError("FILL_MALFORMED", `symbol "${fill.symbol}" is not listed`);
        fills.push({ ...fill, accountId, instrumentId, offset: message.offset });
      } catch (error) {
        if (!(error instanceof MessageError)) throw error;
        rejected.push({ offset: message.offset, code: error.code, reason: error.message, message });
      }
    }
    return { fills, rejected };
  }

  /**
   * The fills not counted before, in stream order, recorded as counted. A duplicate within the
   * batch keeps its first occurrence.
   */
  private async newFills(client: pg.PoolClient, partition: number, fills: readonly (BookedFill & { offset: string })[]): Promise<BookedFill[]> {
    const unique = new Map<string, BookedFill & { offset: string }>();
    for (const fill of fills) if (!unique.has(fillKey(fill))) unique.set(fillKey(fill), fill);
    if (unique.size === 0) return [];
    const candidates = [...unique.values()];
    const { rows } = await client.query<{ shard: string; sequence: string; trade_id: string; liquidity: string }>(
      `INSERT INTO ${this.options.tables.appliedFills} (shard, sequence, trade_id, liquidity, account_id, partition, kafka_offset)
       SELECT shard, sequence, trade_id, liquidity, account_id, $7, kafka_offset
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[])
              AS f (shard, sequence, trade_id, liquidity, account_id, kafka_offset)
       ON CONFLICT DO NOTHING
       RETURNING shard, sequence, trade_id, liquidity`,
      [
        candidates.map((f) => f.shard),
        candidates.map((f) => f.sequence.toString()),
        candidates.map((f) => f.tradeId),
        candidates.map((f) => f.liquidity),
        candidates.map((f) => f.accountId),
        candidates.map((f) => f.offset),
        partition,
      ],
    );
    const inserted = new Set(rows.map((r) => `${r.shard}/${r.sequence}/${r.trade_id}/${r.liquidity}`));
    return candidates.filter((fill) => inserted.has(fillKey(fill)));
  }

  /** The open lots of every book the fills touch, as a book source for {@link applyFills}. */
  private async loadBooks(client: pg.PoolClient, fills: readonly BookedFill[]) {
    const pairs = [...new Map(fills.map((f) => [`${f.accountId}/${f.instrumentId}`, f])).values()];
    const lots = new Map<string, Lot[]>();
    if (pairs.length > 0) {
      const { rows } = await client.query<LotRow>(
        `SELECT l.account_id, l.instrument_id, l.lot_seq, l.quantity::text AS quantity, l.price::text AS price, l.opened_at
           FROM ${this.options.tables.openLots} l
           JOIN unnest($1::bigint[], $2::integer[]) AS b (account_id, instrument_id)
             ON l.account_id = b.account_id AND l.instrument_id = b.instrument_id
          ORDER BY l.account_id, l.instrument_id, l.lot_seq`,
        [pairs.map((f) => f.accountId), pairs.map((f) => f.instrumentId)],
      );
      for (const row of rows) {
        const key = `${row.account_id}/${row.instrument_id}`;
        const lot: Lot = { lotSeq: BigInt(row.lot_seq), quantity: Decimal.parse(row.quantity, "quantity"), price: Decimal.parse(row.price, "price"), openedAt: row.opened_at };
        const list = lots.get(key);
        if (list) list.push(lot);
        else lots.set(key, [lot]);
      }
    }
    return function restoredBook(accountId: string, instrumentId: number, symbol: string) {
      return createFifoBook(symbol, lots.get(`${accountId}/${instrumentId}`) ?? []);
    };
  }

  /**
   * Every change of the batch and the partition's next offset in one statement (data-modifying
   * CTEs run once each, to completion): one round trip whatever the batch holds. The CTEs touch
   * disjoint rows: a lot number is removed, reduced or added, never two of them.
   */
  private async writeBatch(client: pg.PoolClient, partition: number, figures: BatchFigures, rejected: readonly Rejection[], stored: OffsetRow, nextOffset: bigint, applied: readonly BookedFill[]): Promise<void> {
    const t = this.options.tables;
    const params: unknown[] = [];
    /** Appends a parameter and returns its placeholder. */
    const $ = (value: unknown, type: string) => `$${params.push(value)}::${type}`;
    const removed = figures.lots.flatMap((c) => c.removed.map((lotSeq) => ({ c, lotSeq })));
    const reduced = figures.lots.flatMap((c) => c.reduced.map((lot) => ({ c, lot })));
    const added = figures.lots.flatMap((c) => c.added.map((lot) => ({ c, lot })));
    const s = figures.symbols;
    const d = figures.days;
    const p = figures.lastPrices;

    const shards = new Map(Object.entries(stored.shard_sequences).map(([shard, sequence]) => [shard, BigInt(sequence)]));
    let lastSequence = BigInt(stored.last_sequence);
    for (const fill of applied) {
      if ((shards.get(fill.shard) ?? 0n) < fill.sequence) shards.set(fill.shard, fill.sequence);
      if (lastSequence < fill.sequence) lastSequence = fill.sequence;
    }

    const sql = `
      WITH closed AS (
        DELETE FROM ${t.openLots} l
         USING unnest(${$(removed.map((r) => r.c.accountId), "bigint[]")}, ${$(removed.map((r) => r.c.instrumentId), "integer[]")}, ${$(removed.map((r) => r.lotSeq.toString()), "bigint[]")})
               AS r (account_id, instrument_id, lot_seq)
         WHERE l.account_id = r.account_id AND l.instrument_id = r.instrument_id AND l.lot_seq = r.lot_seq
        RETURNING 1
      ), reduced AS (
        UPDATE ${t.openLots} l SET quantity = r.quantity
          FROM unnest(${$(reduced.map((r) => r.c.accountId), "bigint[]")}, ${$(reduced.map((r) => r.c.instrumentId), "integer[]")}, ${$(reduced.map((r) => r.lot.lotSeq.toString()), "bigint[]")},
                      ${$(reduced.map((r) => r.lot.quantity.toString()), "numeric[]")}) AS r (account_id, instrument_id, lot_seq, quantity)
         WHERE l.account_id = r.account_id AND l.instrument_id = r.instrument_id AND l.lot_seq = r.lot_seq
        RETURNING 1
      ), opened AS (
        INSERT INTO ${t.openLots} (account_id, instrument_id, lot_seq, quantity, price, opened_at)
        SELECT * FROM unnest(${$(added.map((a) => a.c.accountId), "bigint[]")}, ${$(added.map((a) => a.c.instrumentId), "integer[]")}, ${$(added.map((a) => a.lot.lotSeq.toString()), "bigint[]")},
                             ${$(added.map((a) => a.lot.quantity.toString()), "numeric[]")}, ${$(added.map((a) => a.lot.price.toString()), "numeric[]")}, ${$(added.map((a) => a.lot.openedAt.toISOString()), "timestamptz[]")})
        RETURNING 1
      ), stats AS (
        INSERT INTO ${t.symbolStats} AS s (account_id, instrument_id, realized_pnl, fees, trade_count, winning_trades, losing_trades,
                                           total_win, total_loss, largest_win, largest_loss, volume, notional, last_fill_at, updated_at)
        SELECT *, now() FROM unnest(
          ${$(s.map((c) => c.accountId), "bigint[]")}, ${$(s.map((c) => c.instrumentId), "integer[]")},
          ${$(s.map((c) => c.figures.realizedPnl.toString()), "numeric[]")}, ${$(s.map((c) => c.figures.fees.toString()), "numeric[]")},
          ${$(s.map((c) => c.figures.tradeCount.toString()), "bigint[]")}, ${$(s.map((c) => c.figures.winningTrades.toString()), "bigint[]")},
          ${$(s.map((c) => c.figures.losingTrades.toString()), "bigint[]")}, ${$(s.map((c) => c.figures.totalWin.toString()), "numeric[]")},
          ${$(s.map((c) => c.figures.totalLoss.toString()), "numeric[]")}, ${$(s.map((c) => c.figures.largestWin.toString()), "numeric[]")},
          ${$(s.map((c) => c.figures.largestLoss.toString()), "numeric[]")}, ${$(s.map((c) => c.figures.volume.toString()), "numeric[]")},
          ${$(s.map((c) => c.figures.notional.toString()), "numeric[]")}, ${$(s.map((c) => c.figures.lastFillAt?.toISOString() ?? null), "timestamptz[]")})
        ON CONFLICT (account_id, instrument_id) DO UPDATE SET
          realized_pnl = s.realized_pnl + EXCLUDED.realized_pnl,
          fees = s.fees + EXCLUDED.fees,
          trade_count = s.trade_count + EXCLUDED.trade_count,
          winning_trades = s.winning_trades + EXCLUDED.winning_trades,
          losing_trades = s.losing_trades + EXCLUDED.losing_trades,
          total_win = s.total_win + EXCLUDED.total_win,
          total_loss = s.total_loss + EXCLUDED.total_loss,
          largest_win = GREATEST(s.largest_win, EXCLUDED.largest_win),
          largest_loss = LEAST(s.largest_loss, EXCLUDED.largest_loss),
          volume = s.volume + EXCLUDED.volume,
          notional = s.notional + EXCLUDED.notional,
          last_fill_at = GREATEST(s.last_fill_at, EXCLUDED.last_fill_at),
          updated_at = now()
        RETURNING 1
      ), days AS (
        INSERT INTO ${t.dailyPnl} AS d (account_id, instrument_id, day, realized_pnl, fees, trade_count, volume)
        SELECT * FROM unnest(${$(d.map((c) => c.accountId), "bigint[]")}, ${$(d.map((c) => c.instrumentId), "integer[]")}, ${$(d.map((c) => c.day), "date[]")},
                             ${$(d.map((c) => c.figures.realizedPnl.toString()), "numeric[]")}, ${$(d.map((c) => c.figures.fees.toString()), "numeric[]")},
                             ${$(d.map((c) => c.figures.tradeCount.toString()), "bigint[]")}, ${$(d.map((c) => c.figures.volume.toString()), "numeric[]")})
        ON CONFLICT (account_id, day, instrument_id) DO UPDATE SET
          realized_pnl = d.realized_pnl + EXCLUDED.realized_pnl,
          fees = d.fees + EXCLUDED.fees,
          trade_count = d.trade_count + EXCLUDED.trade_count,
          volume = d.volume + EXCLUDED.volume
        RETURNING 1
      ), marks AS (
        -- Rows locked in instrument order (figures.lastPrices is sorted), so concurrent batches never deadlock.
        INSERT INTO ${t.lastPrices} AS p (instrument_id, price, sequence, trade_id, traded_at)
        SELECT * FROM unnest(${$(p.map((c) => c.instrumentId), "integer[]")}, ${$(p.map((c) => c.price.toString()), "numeric[]")}, ${$(p.map((c) => c.sequence.toString()), "bigint[]")},
                             ${$(p.map((c) => c.tradeId.toString()), "bigint[]")}, ${$(p.map((c) => c.tradedAt.toISOString()), "timestamptz[]")})
        ON CONFLICT (instrument_id) DO UPDATE SET
          price = EXCLUDED.price, sequence = EXCLUDED.sequence, trade_id = EXCLUDED.trade_id, traded_at = EXCLUDED.traded_at
        WHERE (EXCLUDED.sequence, EXCLUDED.trade_id) > (p.sequence, p.trade_id)
        RETURNING 1
      ), rejects AS (
        INSERT INTO ${t.rejectedMessages} (group_id, topic, partition, kafka_offset, code, reason)
        SELECT ${$(this.options.groupId, "text")}, ${$(this.options.topic, "text")}, ${$(partition, "integer")}, *
          FROM unnest(${$(rejected.map((r) => r.offset), "bigint[]")}, ${$(rejected.map((r) => r.code), "text[]")}, ${$(rejected.map((r) => r.reason), "text[]")})
        ON CONFLICT DO NOTHING
        RETURNING 1
      )
      UPDATE ${t.offsets}
         SET next_offset = ${$(nextOffset.toString(), "bigint")}, last_sequence = ${$(lastSequence.toString(), "bigint")},
             shard_sequences = ${$(JSON.stringify(Object.fromEntries([...shards].map(([shard, sequence]) => [shard, sequence.toString()]))), "jsonb")}, updated_at = now()
       WHERE group_id = ${$(this.options.groupId, "text")} AND topic = ${$(this.options.topic, "text")} AND partition = ${$(partition, "integer")}`;
    await client.query(sql, params);
  }
}
