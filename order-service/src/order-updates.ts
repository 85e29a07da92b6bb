/**
 * Order updates for StreamOrderUpdates and OrderEntry, on every replica.
 *
 * The projection leader publishes each committed batch's changes on a Redis channel after the
 * PostgreSQL COMMIT; every replica's feed receives them and hands them to the streams of the
 * accounts concerned. Pub/sub delivers at most once, so each message carries the batch's sequence
 * range: a feed that receives a range not following the last one (a leader that died between
 * COMMIT and PUBLISH, a Redis reconnect) reads the missed changes from PostgreSQL, the record.
 * A stream that resumes from a sequence reads its history from PostgreSQL in one snapshot with the
 * shards' checkpoints, and drops the live updates that the snapshot already held.
 *
 * An update is the order as it stands after its batch, with the fill that changed it when a fill
 * did; sequences are per shard.
 */
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Logger } from "@hft/service-kit";
import type { StreamOrderUpdatesResponse } from "@hft/contract/grpc/hft/v1/order_service.js";
import { type Catalog, namesOf } from "./catalog.js";
import { decodeOrderUpdate, encodeOrderUpdate } from "./encoded-messages.js";
import { ORDER_COLUMNS, type AppliedBatch, type ExecutionRow, type OrderRow } from "./projection/apply-events.js";
import { type Names, executionMessage, orderMessage } from "./projection/records.js";

/** The Redis channel of order updates, after the platform's key prefix. */
export const orderUpdatesChannel = (redisKeyPrefix: string) => `${redisKeyPrefix}order-updates:v1`;

/** Most changes a resuming stream may ask to replay; older history is for ListOrders. */
export const MAX_REPLAY = 50_000;

export interface OrderUpdate {
  readonly shard: string;
  /** The sequence of the change: the fill's, or the order's last change. */
  readonly sequence: bigint;
  readonly message: StreamOrderUpdatesResponse;
}

/** The order-update message of a batch as Redis carries it. */
interface Envelope {
  shard: string;
  /** The batch's first and last engine sequence (decimal strings). */
  first: string;
  last: string;
  /** Encoded StreamOrderUpdatesResponse messages, base64. */
  updates: string[];
}

export class ReplayTooLongError extends Error {
  constructor(fromSequence: bigint) {
    super(`more than ${MAX_REPLAY} order changes since sequence ${fromSequence}; read older history with ListOrders and ListExecutions, then stream from a later sequence`);
    this.name = "ReplayTooLongError";
  }
}

/**
 * The updates of a set of rows, in sequence order: one per fill (with its order), and one per
 * order changed without a fill. `orders` must hold the order of every execution.
 */
export function updatesOf(shard: string, orders: readonly OrderRow[], executions: readonly ExecutionRow[], names: Names): OrderUpdate[] {
  const byId = new Map(orders.map((row) => [row.order_id, row]));
  const filled = new Set(executions.map((row) => row.order_id));
  const updates: OrderUpdate[] = [];
  for (const row of executions) {
    const order = byId.get(row.order_id);
    if (!order) continue;
    updates.push({
      shard,
      sequence: BigInt(row.sequence),
      message: { order: orderMessage(order, names), execution: executionMessage(row, order.client_order_id, names) },
    });
  }
  for (const row of orders) {
    if (!filled.has(row.order_id)) updates.push({ shard, sequence: BigInt(row.last_sequence), message: { order: orderMessage(row, names), execution: undefined } });
  }
  return updates.sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
}

/** Publishes a committed batch's updates (leader side). */
export async function publishOrderUpdates(redis: Redis, channel: string, shard: string, batch: AppliedBatch, names: Names): Promise<void> {
  const envelope: Envelope = {
    shard,
    first: batch.firstSequence.toString(),
    last: batch.lastSequence.toString(),
    updates: updatesOf(shard, batch.orders, batch.executions, names).map((u) => encodeOrderUpdate(u.message).toString("base64")),
  };
  await redis.publish(channel, JSON.stringify(envelope));
}

export interface OrderUpdateFeedOptions {
  /** A connection of its own (a subscribed ioredis client runs no other command); closed by stop(). */
  readonly subscriber: Redis;
  readonly channel: string;
  readonly pool: pg.Pool;
  readonly catalog: Catalog;
  readonly logger: Logger;
}

interface Listener {
  readonly deliver: (updates: readonly OrderUpdate[]) => void;
  /** Called when the feed stops (the service drains). */
  readonly closed: () => void;
}

export class OrderUpdateFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly lastSequence = new Map<string, bigint>();
  /** Messages are handled one after the other, so a gap's history is delivered before what follows it. */
  private handling: Promise<void> = Promise.resolve();

  constructor(private readonly options: OrderUpdateFeedOptions) {}

  async start(): Promise<void> {
    this.options.subscriber.on("message", (channel: string, text: string) => {
      if (channel !== this.options.channel) return;
      this.handling = this.handling.then(() => this.handle(text)).catch((error: unknown) => this.options.logger.error({ err: error }, "order update lost"));
    });
    await this.options.subscriber.subscribe(this.options.channel);
  }

  /** Tells every listener the feed is closing, then stops receiving. */
  async stop(): Promise<void> {
    for (const set of [...this.listeners.values()]) for (const listener of [...set]) listener.closed();
    this.listeners.clear();
    await this.options.subscriber.unsubscribe(this.options.channel).catch(() => undefined);
    this.options.subscriber.disconnect();
    await this.handling;
  }

  /** Gives `listener` every live update of `account`'s orders until the returned function is called. */
  listen(account: string, listener: Listener): () => void {
    let set = this.listeners.get(account);
    if (!set) this.listeners.set(account, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(account);
    };
  }

  /** Streams open on this replica. */
  get listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  /**
   * The account's changes from `fromSequence` on (on every shard), read in one snapshot with each
   * shard's checkpoint: a live update at or below its shard's checkpoint is already in the history.
   */
  async history(accountId: bigint, fromSequence: bigint): Promise<{ updates: OrderUpdate[]; checkpoints: Map<string, bigint> }> {
    const client = await this.options.pool.connect();
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const checkpoints = await client.query<{ shard: string; last_sequence: string }>("SELECT shard, last_sequence FROM engine_checkpoints");
      const orders = await client.query<OrderRow & { shard: string }>(
        `SELECT ${ORDER_COLUMNS}, i.shard FROM orders o JOIN instruments i USING (instrument_id)
          WHERE o.account_id = $1 AND o.last_sequence >= $2 ORDER BY o.last_sequence LIMIT ${MAX_REPLAY + 1}`,
        [accountId.toString(), fromSequence.toString()],
      );
      const executions = await client.query<ExecutionRow & { shard: string }>(
        `SELECT e.*, i.shard FROM executions e JOIN instruments i USING (instrument_id)
          WHERE e.account_id = $1 AND e.sequence >= $2 ORDER BY e.sequence LIMIT ${MAX_REPLAY + 1}`,
        [accountId.toString(), fromSequence.toString()],
      );
      if (orders.rows.length + executions.rows.length > MAX_REPLAY) throw new ReplayTooLongError(fromSequence);
      const filledOrders = await this.ordersOf<OrderRow & { shard: string }>(client, executions.rows, orders.rows);
      await client.query("COMMIT");
      const names = await namesOf(this.options.catalog, [...orders.rows, ...filledOrders]);
      const updates: OrderUpdate[] = [];
      for (const shard of new Set([...orders.rows, ...executions.rows].map((r) => r.shard))) {
        const inShard = <T extends { shard: string }>(rows: T[]) => rows.filter((r) => r.shard === shard);
        updates.push(...updatesOf(shard, [...inShard(orders.rows), ...inShard(filledOrders)], inShard(executions.rows), names));
      }
      return { updates, checkpoints: new Map(checkpoints.rows.map((r) => [r.shard, BigInt(r.last_sequence)])) };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async handle(text: string): Promise<void> {
    const envelope = JSON.parse(text) as Envelope;
    const first = BigInt(envelope.first);
    const last = BigInt(envelope.last);
    const seen = this.lastSequence.get(envelope.shard);
    if (seen !== undefined && last <= seen) return; // a batch republished after a leader change
    if (seen !== undefined && first > seen + 1n) {
      this.options.logger.warn({ shard: envelope.shard, after: seen.toString(), before: first.toString() }, "order updates missed; reading them from PostgreSQL");
      this.deliver(await this.shardChanges(envelope.shard, seen, first));
    }
    this.lastSequence.set(envelope.shard, last);
    this.deliver(
      envelope.updates.map((encoded) => {
        const message = decodeOrderUpdate(Buffer.from(encoded, "base64"));
        return { shard: envelope.shard, sequence: message.execution?.sequence ?? message.order?.sequence ?? last, message };
      }),
    );
  }

  private deliver(updates: readonly OrderUpdate[]): void {
    const byAccount = new Map<string, OrderUpdate[]>();
    for (const update of updates) {
      const account = update.message.order?.account ?? "";
      if (!this.listeners.has(account)) continue;
      let list = byAccount.get(account);
      if (!list) byAccount.set(account, (list = []));
      list.push(update);
    }
    for (const [account, list] of byAccount) for (const listener of this.listeners.get(account) ?? []) listener.deliver(list);
  }

  /** A shard's changes with sequences strictly between `after` and `before`. */
  private async shardChanges(shard: string, after: bigint, before: bigint): Promise<OrderUpdate[]> {
    const instruments = (await this.options.catalog.instrumentsOf(shard)).map((i) => i.id);
    const range = [instruments, after.toString(), before.toString()];
    const { pool } = this.options;
    const orders = await pool.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.instrument_id = ANY($1) AND o.last_sequence > $2 AND o.last_sequence < $3`, range);
    const executions = await pool.query<ExecutionRow>("SELECT e.* FROM executions e WHERE e.instrument_id = ANY($1) AND e.sequence > $2 AND e.sequence < $3", range);
    const filledOrders = await this.ordersOf(pool, executions.rows, orders.rows);
    const names = await namesOf(this.options.catalog, [...orders.rows, ...filledOrders]);
    return updatesOf(shard, [...orders.rows, ...filledOrders], executions.rows, names);
  }

  /** The orders of `executions` that `known` does not hold already. */
  private async ordersOf<T extends OrderRow>(client: pg.Pool | pg.ClientBase, executions: readonly ExecutionRow[], known: readonly OrderRow[]): Promise<T[]> {
    const have = new Set(known.map((o) => o.order_id));
    const missing = [...new Set(executions.map((e) => e.order_id).filter((id) => !have.has(id)))];
    if (missing.length === 0) return [];
    const { rows } = await client.query<T>(`SELECT ${ORDER_COLUMNS}, i.shard FROM orders o JOIN instruments i USING (instrument_id) WHERE o.order_id = ANY($1::bigint[])`, [missing]);
    return rows;
  }
}
