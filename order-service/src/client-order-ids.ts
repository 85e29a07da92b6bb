/**
 * Idempotency of PlaceOrder on (account, client_order_id), with PostgreSQL as the record and
 * Redis as a cache of answers. A first attempt costs one batched INSERT before the order goes
 * out and one batched UPDATE with the answer after it (and a Redis write of the answer, not
 * waited for): the claims and answers of orders that arrive together share a statement (and a
 * WAL flush). Everything unusual (a retry, a key reused for another order, a claim left by a
 * crash) takes the per-key path, which asks Redis first.
 */
import { hash as oneShotHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import type pg from "pg";
import { Order, type PlaceOrderRequest } from "@hft/contract/grpc/hft/v1/order_service.js";
import { createBatcher, type Batched } from "./batcher.js";
import { type Account, type Catalog, namesOf } from "./catalog.js";
import { asBuffer, encodedOrder } from "./encoded-messages.js";
import { OrderError } from "./order-error.js";
import type { EngineHead } from "./engine-link.js";
import type { OrderMetrics } from "./metrics.js";
import { ORDER_COLUMNS, type OrderRow } from "./projection/apply-events.js";
import { orderMessage } from "./projection/records.js";

/** How long a PlaceOrder answer stays in Redis; PostgreSQL keeps it for good. */
const ANSWER_CACHE_SECONDS = 24 * 60 * 60;
/**
 * A client_order_id claimed this long ago with no answer belongs to a request that died (the
 * service crashed). A retry may take it over once the projection holds every event the engine
 * has sequenced and still shows no order of that key: then the dead request never reached the
 * engine, and placing the retry cannot make a second order. A claim whose order went to an engine
 * process that has since been replaced may be taken over the same way at once (`inDoubt`).
 */
export const STALE_CLAIM_SECONDS = 120;

export interface ClientOrderIdsOptions {
  readonly pool: pg.Pool;
  readonly catalog: Catalog;
  readonly metrics: OrderMetrics;
  readonly redis?: { readonly client: Redis; readonly keyPrefix: string };
  /** The engine shard's last assigned sequence and the process that assigned it, asked now. */
  readonly engineHead: (shard: string) => Promise<EngineHead>;
}

interface Claim {
  readonly accountId: string;
  readonly clientOrderId: string;
  readonly hash: string;
}

interface Answer extends Claim {
  readonly orderId: string;
  /** The Order as protobuf bytes in base64, so a retry gets it exactly (JSON would round timestamps). */
  readonly encoded: string;
}

/** What identifies a PlaceOrder request for idempotency: a retry must hash the same. */
export const requestHash = (request: PlaceOrderRequest, accountName: string) => oneShotHash("sha256", JSON.stringify({ ...request, account: accountName }), "hex");

export class ClientOrderIds {
  private readonly claimFresh: Batched<Claim, boolean>;
  private readonly recordAnswer: Batched<Answer, void>;

  constructor(private readonly options: ClientOrderIdsOptions) {
    const { pool, metrics } = options;
    this.claimFresh = createBatcher({ run: (claims) => metrics.time("postgres", "claim_client_order_ids", () => insertClaims(pool, claims)) });
    this.recordAnswer = createBatcher({ run: (answers) => metrics.time("postgres", "record_answers", () => updateAnswers(pool, answers)) });
  }

  /**
   * Claims the key before the order goes out. Resolves with undefined when this request now owns
   * it, or with the earlier answer when this is a retry (from Redis when cached); refuses a key used
   * for a different order, and one whose earlier request has no outcome yet.
   */
  async claim(account: Account, clientOrderId: string, hash: string, shard: string): Promise<Order | undefined> {
    const claim = { accountId: account.id.toString(), clientOrderId, hash };
    // A first attempt (the common case) needs only the INSERT; the cache is asked once it says retry.
    if (await this.claimFresh(claim)) return undefined;
    const cached = await this.cachedAnswer(account, clientOrderId);
    if (cached) {
      if (cached.hash !== hash) throw reusedKey(account, clientOrderId);
      return Order.decode(Buffer.from(cached.order, "base64"));
    }
    return this.claimTaken(account, claim, shard);
  }

  /** Frees a key whose order certainly never reached the engine, so a retry is a first attempt. */
  async release(account: Account, clientOrderId: string): Promise<void> {
    await this.options.pool.query("DELETE FROM idempotency_keys WHERE account_id = $1 AND client_order_id = $2 AND response IS NULL", [account.id.toString(), clientOrderId]);
  }

  /**
   * Marks a claim whose order went to engine process `engineInstance` and was not acknowledged:
   * once another process answers for the shard, that one can sequence nothing more.
   */
  async inDoubt(account: Account, clientOrderId: string, engineInstance: bigint): Promise<void> {
    await this.options.pool.query("UPDATE idempotency_keys SET engine_instance = $3 WHERE account_id = $1 AND client_order_id = $2 AND response IS NULL", [
      account.id.toString(),
      clientOrderId,
      engineInstance.toString(),
    ]);
  }

  /** Records the answer in PostgreSQL (the record, awaited), then in Redis (for fast retries, not awaited). */
  async answered(account: Account, clientOrderId: string, hash: string, order: Order): Promise<void> {
    const encoded = asBuffer(encodedOrder(order)).toString("base64");
    await this.recordAnswer({ accountId: account.id.toString(), clientOrderId, hash, orderId: order.orderId, encoded });
    const { redis, metrics } = this.options;
    if (!redis) return;
    void metrics
      .time("redis", "set_answer", () => redis.client.set(answerKey(redis.keyPrefix, account, clientOrderId), JSON.stringify({ hash, order: encoded }), "EX", ANSWER_CACHE_SECONDS))
      .catch(() => undefined); // a cache: a retry then reads PostgreSQL
  }

  private async cachedAnswer(account: Account, clientOrderId: string): Promise<{ hash: string; order: string } | undefined> {
    const { redis, metrics } = this.options;
    if (!redis) return undefined;
    const cached = await metrics
      .time("redis", "get_answer", () => redis.client.get(answerKey(redis.keyPrefix, account, clientOrderId)))
      .catch(() => null); // Redis is a cache: without it, PostgreSQL answers.
    return cached ? (JSON.parse(cached) as { hash: string; order: string }) : undefined;
  }

  /** The key is taken: the earlier answer, a refusal, or the takeover of a claim left by a crash. */
  private async claimTaken(account: Account, { accountId, clientOrderId, hash }: Claim, shard: string): Promise<Order | undefined> {
    const { pool, catalog } = this.options;
    const key = [accountId, clientOrderId];
    const { rows } = await pool.query<{ request_hash: string; response: { order: string } | null; stale: boolean; in_doubt: boolean }>(
      `SELECT request_hash, response, created_at < now() - make_interval(secs => $3) AS stale, engine_instance IS NOT NULL AS in_doubt
         FROM idempotency_keys WHERE account_id = $1 AND client_order_id = $2`,
      [...key, STALE_CLAIM_SECONDS],
    );
    const earlier = rows[0];
    // Released between the INSERT and now: claim it again.
    if (!earlier) return this.claim(account, clientOrderId, hash, shard);
    if (earlier.request_hash !== hash) throw reusedKey(account, clientOrderId);
    if (earlier.response) return Order.decode(Buffer.from(earlier.response.order, "base64"));
    const projected = await pool.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.account_id = $1 AND o.client_order_id = $2`, key);
    if (projected.rows[0]) return orderMessage(projected.rows[0], await namesOf(catalog, projected.rows));
    if (earlier.stale || earlier.in_doubt) {
      const { takenOver, engineReplaced } = await this.takeOver({ accountId, clientOrderId, hash }, shard);
      if (takenOver) return undefined;
      if (!earlier.stale && !engineReplaced) throw inFlight(clientOrderId);
      throw new OrderError(
        grpc.status.ABORTED,
        "REQUEST_OUTCOME_UNKNOWN",
        `an earlier request with client_order_id ${clientOrderId} died without an outcome, and the record has not caught up with engine shard ${shard} yet to show whether it reached the engine; retry shortly with the same client_order_id`,
      );
    }
    throw inFlight(clientOrderId);
  }

  /**
   * Takes over a claim that is stale, or whose order went to an engine process since replaced, if
   * the projection shows no order for it once it has caught up: with the engine's current
   * sequence for a stale claim (its request may have reached the engine at any time), with what
   * the current process recovered at start for a replaced one (all the gone process journaled).
   * Says whether it took the claim, and whether the claim's engine process is gone.
   */
  private async takeOver({ accountId, clientOrderId, hash }: Claim, shard: string): Promise<{ takenOver: boolean; engineReplaced: boolean }> {
    const { pool, metrics, engineHead } = this.options;
    const head = await engineHead(shard);
    const { rows } = await metrics.time("postgres", "take_over_client_order_id", () =>
      pool.query<{ taken_over: boolean; engine_replaced: boolean }>(
        // The conditions are on the row itself, so that of two retries racing for one claim, the
        // second sees the first's takeover when it gets the row lock, and takes nothing.
        `WITH taken AS (
           UPDATE idempotency_keys k SET request_hash = $3, created_at = now(), engine_instance = NULL
            WHERE k.account_id = $1 AND k.client_order_id = $2 AND k.response IS NULL
              AND (SELECT c.last_sequence FROM engine_checkpoints c WHERE c.shard = $5) >=
                  CASE WHEN k.engine_instance <> $7 THEN $8::bigint WHEN k.created_at < now() - make_interval(secs => $4) THEN $6::bigint END
              AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.account_id = $1 AND o.client_order_id = $2)
           RETURNING 1
         )
         SELECT EXISTS (SELECT 1 FROM taken) AS taken_over,
                EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.account_id = $1 AND k.client_order_id = $2 AND k.engine_instance <> $7) AS engine_replaced`,
        [accountId, clientOrderId, hash, STALE_CLAIM_SECONDS, shard, head.sequence.toString(), head.instance.toString(), head.startSequence.toString()],
      ),
    );
    return { takenOver: rows[0]!.taken_over, engineReplaced: rows[0]!.engine_replaced };
  }
}

/**
 * Inserts the claims in one statement; true for each that it inserted. Only the first of several
 * claims of one key in a batch is sent: the others find it taken.
 */
async function insertClaims(pool: pg.Pool, claims: readonly Claim[]): Promise<boolean[]> {
  const keyOf = (c: Claim) => `${c.accountId}/${c.clientOrderId}`;
  const firsts = new Map<string, Claim>();
  for (const claim of claims) if (!firsts.has(keyOf(claim))) firsts.set(keyOf(claim), claim);
  const sent = [...firsts.values()];
  const { rows } = await pool.query<{ account_id: string; client_order_id: string }>(
    `INSERT INTO idempotency_keys (account_id, client_order_id, request_hash)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
     ON CONFLICT DO NOTHING
     RETURNING account_id::text, client_order_id`,
    [sent.map((c) => c.accountId), sent.map((c) => c.clientOrderId), sent.map((c) => c.hash)],
  );
  const inserted = new Set(rows.map((r) => `${r.account_id}/${r.client_order_id}`));
  return claims.map((claim) => firsts.get(keyOf(claim)) === claim && inserted.has(keyOf(claim)));
}

async function updateAnswers(pool: pg.Pool, answers: readonly Answer[]): Promise<void[]> {
  await pool.query(
    `UPDATE idempotency_keys k SET order_id = a.order_id, response = jsonb_build_object('order', a.encoded)
       FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[]) AS a(account_id, client_order_id, order_id, encoded)
      WHERE k.account_id = a.account_id AND k.client_order_id = a.client_order_id`,
    [answers.map((a) => a.accountId), answers.map((a) => a.clientOrderId), answers.map((a) => a.orderId), answers.map((a) => a.encoded)],
  );
  return answers.map(() => undefined);
}

const answerKey = (prefix: string, account: Account, clientOrderId: string) => `${prefix}order-answer:v1:${account.id}:${clientOrderId}`;

const reusedKey = (account: Account, clientOrderId: string) =>
  new OrderError(grpc.status.ALREADY_EXISTS, "CLIENT_ORDER_ID_REUSED", `client_order_id ${clientOrderId} was already used by account ${account.name} for a different order`);

const inFlight = (clientOrderId: string) =>
  new OrderError(grpc.status.ABORTED, "REQUEST_IN_FLIGHT", `an earlier request with client_order_id ${clientOrderId} has no outcome yet; retry shortly with the same client_order_id`);
