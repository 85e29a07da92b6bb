/**
 * Recomputes every figure from the beginning of the executions topic into a fresh set of tables
 * and swaps it in, while the service keeps running:
 *
 *   1. take the rebuild lock (one rebuild at a time) and note each partition's end offset;
 *   2. create `<table>_rebuild` beside every live table (same columns, constraints, indexes);
 *   3. read the topic from its first offsets with a throwaway consumer group, through the same
 *      {@link FigureStore} code as the service, until every partition reaches its end offset;
 *   4. in one transaction, lock the live tables, rename them away, rename the fresh ones in, and
 *      drop the old ones.
 *
 * The fresh offsets table holds the offsets the rebuild reached under the service's group id.
 * The running service's next batch then finds its stored offset behind its position and seeks
 * back (figure-store.ts, step 2), so the fills after the end offsets are counted once, on the
 * fresh tables: the figures equal those of a clean run.
 */
import { randomBytes } from "node:crypto";
import type { Kafka } from "kafkajs";
import type pg from "pg";
import type { Logger } from "@hft/service-kit";
import { startOffsetsOf } from "./execution-consumer.js";
import { FigureStore } from "./figure-store.js";
import type { Names } from "./names.js";
import { LIVE_TABLES, suffixedTables, tableList } from "./tables.js";

/** The advisory lock a rebuild holds; the same on every host. */
export const REBUILD_LOCK_KEY = 727_006n;

export interface RebuildOptions {
  readonly pool: pg.Pool;
  readonly kafka: Kafka;
  readonly topic: string;
  /** The service's consumer group: the offsets rebuilt are stored under it. */
  readonly groupId: string;
  readonly names: Names;
  readonly logger: Logger;
}

export interface RebuildResult {
  /** Messages read per partition, by partition. */
  readonly messages: ReadonlyMap<number, bigint>;
  readonly fills: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly seconds: number;
}

export async function rebuildFigures(options: RebuildOptions): Promise<RebuildResult> {
  const { pool, kafka, topic, logger } = options;
  const started = Date.now();
  const lock = await pool.connect();
  const admin = kafka.admin();
  try {
    const { rows } = await lock.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [REBUILD_LOCK_KEY.toString()]);
    if (!rows[0]?.locked) throw new Error("another rebuild is running (advisory lock 727006 is held)");
    await admin.connect();
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
    logger.info({ topic, partitions: Object.fromEntries([...ends].map(([p, e]) => [p, `${e.low}..${e.high}`])) }, "rebuild: reading the topic up to these offsets");

    const fresh = suffixedTables("_rebuild");
    for (const [live, next] of zip(tableList(LIVE_TABLES), tableList(fresh))) {
      await pool.query(`DROP TABLE IF EXISTS ${next}`);
      await pool.query(`CREATE TABLE ${next} (LIKE ${live} INCLUDING ALL)`);
    }
    const store = new FigureStore({ pool, tables: fresh, groupId: options.groupId, topic, names: options.names, startOffset: startOffsetsOf(admin, topic) });
    const totals = await readTopic(options, store, ends);

    await swapIn(lock, fresh);
    const result = { ...totals, seconds: (Date.now() - started) / 1000 };
    logger.info({ fills: result.fills, duplicates: result.duplicates, rejected: result.rejected, seconds: result.seconds }, "rebuild: fresh figures swapped in");
    return result;
  } finally {
    await lock.query("SELECT pg_advisory_unlock($1)", [REBUILD_LOCK_KEY.toString()]).catch(() => undefined);
    lock.release();
    await admin.disconnect();
  }
}

/** Consumes every partition from its start to its end offset into `store`. */
async function readTopic(options: RebuildOptions, store: FigureStore, ends: ReadonlyMap<number, { low: bigint; high: bigint }>) {
  const reached = new Map([...ends].map(([partition, e]) => [partition, e.low]));
  const messages = new Map<number, bigint>();
  const totals = { fills: 0, duplicates: 0, rejected: 0 };
  const done = () => [...ends].every(([partition, e]) => reached.get(partition)! >= e.high);
  if (done()) return { ...totals, messages };

  const groupId = `${options.groupId}-rebuild-${randomBytes(6).toString("hex")}`;
  const consumer = options.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 4 << 20, maxWaitTimeInMs: 250 });
  let finish!: (error?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => (finish = (error) => (error ? reject(error) : resolve())));
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) finish(event.payload.error);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, isRunning, isStale, heartbeat }) => {
        if (batch.messages.length === 0 || !isRunning() || isStale()) return;
        const result = await store.applyBatch(batch.partition, batch.messages);
        if (result.kind === "misplaced") {
          consumer.seek({ topic: options.topic, partition: batch.partition, offset: result.storedOffset.toString() });
          return;
        }
        reached.set(batch.partition, result.nextOffset);
        messages.set(batch.partition, (messages.get(batch.partition) ?? 0n) + BigInt(batch.messages.length));
        totals.fills += result.applied.length;
        totals.duplicates += result.duplicates;
        totals.rejected += result.rejected.length;
        await heartbeat();
        if (done()) finish();
      },
    });
    await finished;
  } finally {
    await consumer.disconnect();
    const admin = options.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch((error: unknown) => options.logger.warn({ err: error, groupId }, "rebuild: could not delete its consumer group"));
    await admin.disconnect();
  }
  return { ...totals, messages };
}

/**
 * Swaps the fresh tables in under ACCESS EXCLUSIVE locks taken in one order (the service's batch
 * transactions wait, then find the fresh tables by name), and renames their indexes to the live
 * names so the next rebuild starts from the same state.
 */
async function swapIn(client: pg.PoolClient, fresh: ReturnType<typeof suffixedTables>): Promise<void> {
  const pairs = zip(tableList(LIVE_TABLES), tableList(fresh));
  await client.query("BEGIN");
  try {
    await client.query(`LOCK TABLE ${pairs.map(([live]) => live).join(", ")} IN ACCESS EXCLUSIVE MODE`);
    for (const [live, next] of pairs) {
      // LIKE names the fresh indexes after the fresh table (`<table>_rebuild_pkey`).
      const indexes = await client.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1", [next]);
      await client.query(`DROP TABLE ${live}`);
      await client.query(`ALTER TABLE ${next} RENAME TO ${live}`);
      for (const { indexname } of indexes.rows) {
        if (indexname.startsWith(next)) await client.query(`ALTER INDEX ${indexname} RENAME TO ${live}${indexname.slice(next.length)}`);
      }
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

function zip<A, B>(a: readonly A[], b: readonly B[]): [A, B][] {
  return a.map((value, index) => [value, b[index]!]);
}
