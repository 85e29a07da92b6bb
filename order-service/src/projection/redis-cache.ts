/**
 * Redis caches of the projection, kept by the projection leader: each account's positions and
 * open orders, for reads that should not touch PostgreSQL (GetPositions today).
 *
 * Keys, after the platform's key prefix (REDIS_KEY_PREFIX):
 * - `positions:v1:{accountId}`: hash, instrument id -> `hft.v1.Position` (protobuf, base64);
 * - `open-orders:v1:{accountId}`: hash, order id -> `hft.v1.Order` (protobuf, base64), only while
 *   the order is open (pending_trigger, new, partially_filled);
 * - `cache:v1:checkpoint:{shard}`: the last engine sequence of the shard the caches hold;
 * - `cache:v1:ready`: the marker that the caches can be trusted.
 *
 * PostgreSQL is the record; Redis follows it. After each COMMIT the leader writes the batch's rows
 * and the shard's checkpoint in one MULTI/EXEC, so a reader never sees half a batch. When this
 * replica becomes the leader, before its projectors start, it rebuilds the caches from one
 * PostgreSQL snapshot: a leader that died between COMMIT and the Redis write left them behind.
 *
 * When to trust the caches: while `cache:v1:ready` exists, and only then. A rebuild deletes the
 * marker first and sets it last; a failed batch write (or a sequence gap, i.e. a batch that never
 * reached Redis) deletes it, so reads go to PostgreSQL until the next rebuild, which the leader
 * retries in the background (ProjectionCaches). A reader checks the marker and reads the hash in
 * one MULTI, so it sees either a whole rebuild or none of it.
 * The rule tolerates one window: a leader that dies between COMMIT and its Redis write leaves the
 * marker with caches one batch behind until the next leader's rebuild (seconds, the time it takes
 * to take the lock); what they show then is an earlier state, never a mix of two batches.
 */
import type { ChainableCommander, Redis } from "ioredis";
import type pg from "pg";
import type { Logger } from "@hft/service-kit";
import { Position } from "@hft/contract/grpc/hft/v1/order_service.js";
import { asBuffer, encodedOrder } from "../encoded-messages.js";
import type { OrderMetrics } from "../metrics.js";
import { ORDER_COLUMNS, POSITION_COLUMNS, type AppliedBatch, type OrderRow, type PositionRow } from "./apply-events.js";
import { type Names, orderMessage, positionMessage } from "./records.js";

export const positionsKey = (prefix: string, accountId: bigint | string) => `${prefix}positions:v1:${accountId}`;
export const openOrdersKey = (prefix: string, accountId: bigint | string) => `${prefix}open-orders:v1:${accountId}`;
export const checkpointKey = (prefix: string, shard: string) => `${prefix}cache:v1:checkpoint:${shard}`;
export const readyKey = (prefix: string) => `${prefix}cache:v1:ready`;

const OPEN_STATUSES: ReadonlySet<string> = new Set(["pending_trigger", "new", "partially_filled"]);
/** Commands per pipeline when a rebuild writes the caches. */
const REBUILD_CHUNK = 500;

const encode = (bytes: Uint8Array) => asBuffer(bytes).toString("base64");
/** A prefix as a literal in a SCAN MATCH pattern. */
const globLiteral = (text: string) => text.replace(/[*?[\]\\]/g, "\\$&");

/** Runs a MULTI or pipeline; rejects when any of its commands failed. */
async function run(commands: ChainableCommander): Promise<unknown[]> {
  const results = await commands.exec();
  if (!results) throw new Error("Redis transaction aborted");
  return results.map(([error, result]) => {
    if (error) throw error;
    return result;
  });
}

/** Groups hash fields by key: one HSET per key. */
function byKey<T>(rows: readonly T[], key: (row: T) => string, field: (row: T) => string, value: (row: T) => string): Map<string, Record<string, string>> {
  const keys = new Map<string, Record<string, string>>();
  for (const row of rows) {
    const k = key(row);
    let fields = keys.get(k);
    if (!fields) keys.set(k, (fields = {}));
    fields[field(row)] = value(row);
  }
  return keys;
}

/**
 * Writes a committed batch into the caches, with the shard's checkpoint, in one MULTI/EXEC. On a
 * Redis error it deletes the ready marker (best effort) and rethrows: reads go to PostgreSQL.
 */
export async function writeCaches(redis: Redis, prefix: string, shard: string, batch: AppliedBatch, names: Names): Promise<void> {
  const multi = redis.multi();
  const positions = byKey(
    batch.positions,
    (row) => positionsKey(prefix, row.account_id),
    (row) => String(row.instrument_id),
    (row) => encode(Position.encode(positionMessage(row, names)).finish()),
  );
  for (const [key, fields] of positions) multi.hset(key, fields);
  const open = batch.orders.filter((row) => OPEN_STATUSES.has(row.status));
  const orders = byKey(
    open,
    (row) => openOrdersKey(prefix, row.account_id),
    (row) => row.order_id,
    (row) => encode(encodedOrder(orderMessage(row, names))),
  );
  for (const [key, fields] of orders) multi.hset(key, fields);
  for (const row of batch.orders) if (!OPEN_STATUSES.has(row.status)) multi.hdel(openOrdersKey(prefix, row.account_id), row.order_id);
  multi.set(checkpointKey(prefix, shard), batch.lastSequence.toString());
  try {
    await run(multi);
  } catch (error) {
    await redis.del(readyKey(prefix)).catch(() => undefined);
    throw error;
  }
}

/**
 * Replaces the caches with PostgreSQL's positions and open orders, read in one REPEATABLE READ
 * snapshot with the shards' checkpoints, and sets the ready marker. Returns the checkpoints the
 * caches now hold (0 for a shard never projected).
 */
export async function rebuildCaches(pool: pg.Pool, redis: Redis, prefix: string, shards: readonly string[]): Promise<Map<string, bigint>> {
  // Readers go to PostgreSQL from here until the caches are whole again.
  await redis.del(readyKey(prefix));

  const client = await pool.connect();
  let checkpoints: Map<string, bigint>;
  let positions: PositionRow[];
  let orders: OrderRow[];
  let names: Names;
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const marks = await client.query<{ shard: string; last_sequence: string }>("SELECT shard, last_sequence FROM engine_checkpoints WHERE shard = ANY($1)", [shards]);
    positions = (await client.query<PositionRow>(`SELECT ${POSITION_COLUMNS} FROM positions p`)).rows;
    orders = (await client.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.status IN ('pending_trigger', 'new', 'partially_filled')`)).rows;
    const instruments = await client.query<{ instrument_id: number; symbol: string }>("SELECT instrument_id, symbol FROM instruments");
    const accountIds = [...new Set([...positions, ...orders].map((row) => row.account_id))];
    const accounts = await client.query<{ account_id: string; name: string }>("SELECT account_id, name FROM accounts WHERE account_id = ANY($1::bigint[])", [accountIds]);
    await client.query("COMMIT");
    checkpoints = new Map(shards.map((shard) => [shard, 0n]));
    for (const row of marks.rows) checkpoints.set(row.shard, BigInt(row.last_sequence));
    const symbols = new Map(instruments.rows.map((r) => [r.instrument_id, r.symbol]));
    const accountNames = new Map(accounts.rows.map((r) => [r.account_id, r.name]));
    names = { symbol: (id) => symbols.get(id) ?? String(id), account: (id) => accountNames.get(id) ?? id };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }

  for (const namespace of ["positions:v1:", "open-orders:v1:", "cache:v1:checkpoint:"]) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${globLiteral(prefix + namespace)}*`, "COUNT", 1_000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
  }

  const writes = [
    ...byKey(
      positions,
      (row) => positionsKey(prefix, row.account_id),
      (row) => String(row.instrument_id),
      (row) => encode(Position.encode(positionMessage(row, names)).finish()),
    ),
    ...byKey(
      orders,
      (row) => openOrdersKey(prefix, row.account_id),
      (row) => row.order_id,
      (row) => encode(encodedOrder(orderMessage(row, names))),
    ),
  ];
  for (let i = 0; i < writes.length; i += REBUILD_CHUNK) {
    const pipeline = redis.pipeline();
    for (const [key, fields] of writes.slice(i, i + REBUILD_CHUNK)) pipeline.hset(key, fields);
    await run(pipeline);
  }
  const done = redis.multi();
  for (const [shard, sequence] of checkpoints) done.set(checkpointKey(prefix, shard), sequence.toString());
  done.set(readyKey(prefix), new Date().toISOString());
  await run(done);
  return checkpoints;
}

/** A cached position, with the instrument id it is filed under. */
export interface CachedPosition {
  readonly instrumentId: number;
  readonly position: Position;
}

/**
 * The account's cached positions (one instrument's, when given), by instrument id; undefined when
 * the caches cannot be trusted (no ready marker). The marker and the hash are read in one MULTI.
 */
export async function cachedPositions(redis: Redis, prefix: string, accountId: bigint | string, instrumentId?: number): Promise<CachedPosition[] | undefined> {
  const key = positionsKey(prefix, accountId);
  const multi = redis.multi().exists(readyKey(prefix));
  if (instrumentId === undefined) multi.hgetall(key);
  else multi.hget(key, String(instrumentId));
  const [ready, found] = await run(multi);
  if (ready !== 1) return undefined;
  const entries: [string, string][] =
    instrumentId === undefined ? Object.entries(found as Record<string, string>) : typeof found === "string" ? [[String(instrumentId), found]] : [];
  return entries
    .map(([field, value]) => ({ instrumentId: Number(field), position: Position.decode(Buffer.from(value, "base64")) }))
    .sort((a, b) => a.instrumentId - b.instrumentId);
}

export interface ProjectionCachesOptions {
  readonly pool: pg.Pool;
  readonly redis: Redis;
  readonly prefix: string;
  /** Every shard the projection runs. */
  readonly shards: readonly string[];
  readonly logger: Logger;
  readonly metrics?: OrderMetrics;
  /** First delay before a failed rebuild is tried again; doubles up to 30 s. */
  readonly retryMs?: number;
}

/**
 * The leader's side of the caches for one leadership term: a rebuild at the start, then each
 * committed batch, one at a time in commit order (so a rebuild's snapshot and the batches around
 * it never cross). The batches of a shard must follow on from what the caches hold: a batch already
 * in a rebuild's snapshot is skipped; one after a missing batch (a failed write) makes the caches
 * untrusted, and a rebuild is retried with backoff until Redis takes it. Never throws: the
 * projection does not depend on Redis.
 */
export class ProjectionCaches {
  /** The last sequence the caches hold per shard; undefined while they cannot be trusted. */
  private held: Map<string, bigint> | undefined;
  private queue: Promise<void> = Promise.resolve();
  /** A rebuild is queued or running: batches go into the queue behind it. */
  private rebuilding = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  private stopped = false;

  constructor(private readonly options: ProjectionCachesOptions) {
    this.retryMs = options.retryMs ?? 1_000;
  }

  /** True while the caches hold every committed batch written so far. */
  get trusted(): boolean {
    return this.held !== undefined && !this.rebuilding;
  }

  /**
   * Rebuilds the caches. Waits for it at most `waitMs`: with Redis unreachable the projection
   * starts anyway, and batches queue behind the rebuild (or are covered by a later one).
   */
  async start(waitMs = 5_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.rebuild(), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  /** Writes a committed batch (called by the projector after COMMIT). */
  write(shard: string, batch: AppliedBatch, names: Names): void {
    // Untrusted with no rebuild queued: the retried rebuild reads a snapshot taken after this COMMIT.
    if (this.stopped || (!this.held && !this.rebuilding)) return;
    void this.enqueue(() => this.apply(shard, batch, names));
  }

  /** Stops retrying rebuilds and waits for the queued writes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.queue;
  }

  private async apply(shard: string, batch: AppliedBatch, names: Names): Promise<void> {
    const held = this.held;
    if (!held) return;
    const last = held.get(shard) ?? 0n;
    if (batch.lastSequence <= last) return; // in the rebuild's snapshot already
    if (batch.firstSequence !== last + 1n) {
      return this.untrusted({ shard, after: last.toString(), first: batch.firstSequence.toString() }, "projection caches missed a batch; reads use PostgreSQL until they are rebuilt");
    }
    const { redis, prefix, metrics } = this.options;
    try {
      const write = () => writeCaches(redis, prefix, shard, batch, names);
      await (metrics ? metrics.time("redis", "write_caches", write) : write());
      held.set(shard, batch.lastSequence);
    } catch (error) {
      // writeCaches has deleted the ready marker, if Redis let it.
      await this.untrusted({ shard, err: error }, "projection caches not written; reads use PostgreSQL until they are rebuilt");
    }
  }

  private async untrusted(details: object, message: string): Promise<void> {
    this.options.logger.warn(details, message);
    this.held = undefined;
    await this.options.redis.del(readyKey(this.options.prefix)).catch(() => undefined);
    this.retryLater();
  }

  private rebuild(): Promise<void> {
    this.rebuilding = true;
    this.held = undefined;
    return this.enqueue(async () => {
      const { pool, redis, prefix, shards, metrics, logger } = this.options;
      try {
        const rebuild = () => rebuildCaches(pool, redis, prefix, shards);
        this.held = await (metrics ? metrics.time("redis", "rebuild_caches", rebuild) : rebuild());
        this.retryMs = this.options.retryMs ?? 1_000;
        logger.info({ checkpoints: Object.fromEntries([...this.held].map(([s, n]) => [s, n.toString()])) }, "projection caches rebuilt");
      } catch (error) {
        logger.warn({ err: error }, "projection caches not rebuilt; reads use PostgreSQL");
        this.retryLater();
      } finally {
        this.rebuilding = false;
      }
    });
  }

  private retryLater(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) void this.rebuild();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 30_000);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task).catch((error: unknown) => this.options.logger.error({ err: error }, "projection cache task failed"));
    this.queue = next;
    return next;
  }
}
