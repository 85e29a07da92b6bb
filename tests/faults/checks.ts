/**
 * What must hold after every fault, once the platform recovered and the load stopped:
 *
 *   1. every acknowledged order is exactly once in the engine's record (its journal, replayed by
 *      Subscribe from sequence 1), under the id the client was given, and no client order id is
 *      there twice;
 *   2. PostgreSQL holds exactly the engine's record: every order with its fills, both sides of
 *      every trade, positions equal to the sum of the executions, the checkpoint at the engine;
 *   3. Kafka carries every order state and execution PostgreSQL holds, each acknowledged order
 *      under one order id; copies of a message (a batch published again after a crash) are
 *      byte-identical;
 *   4. the analytics figures equal those of a clean replay of the executions topic into fresh
 *      tables, through the service's own FigureStore;
 *   5. an order the client was refused is not in the engine, and its refusal was a clear error.
 *
 * Each returns the problems it found as sentences, so a failure names every order concerned.
 */
import type pg from "pg";
import { Execution, Order } from "@hft/contract/grpc/hft/v1/order_service.js";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";
import { FigureStore } from "../../analytics-service/src/figure-store.js";
import { Names } from "../../analytics-service/src/names.js";
import { LIVE_TABLES, type AnalyticsTables, suffixedTables, tableList } from "../../analytics-service/src/tables.js";
import { EXECUTIONS_TOPIC, ORDERS_TOPIC } from "../../order-service/src/projection/projector.js";
import { type EngineRecord, engineRecord, executionRowsOf, stats } from "../support/engine-record.js";
import { until } from "../support/until.js";
import type { KafkaTap, TappedMessage } from "./kafka-tap.js";
import type { FaultPlatform } from "./platform.js";
import { type OrderRecord, finalAnswer } from "./steady-load.js";

const SHARD = "default";
const ANALYTICS_GROUP = "hft-analytics";

/**
 * The codes a client may be refused with while a part is down or slow, each of which says what to
 * do: retry (UNAVAILABLE, ABORTED with the outcome unknown or in flight), or that the deadline
 * passed; and below gRPC and HTTP, a connection that was refused or dropped.
 */
export const CLEAR_REFUSALS: ReadonlySet<string> = new Set(["UNAVAILABLE", "ABORTED", "DEADLINE_EXCEEDED", "CONNECTION_REFUSED", "CONNECTION_LOST"]);

export interface CheckResult {
  readonly engineSequence: bigint;
  readonly record: EngineRecord;
  /** Acknowledged orders missing from the engine, PostgreSQL or Kafka. */
  readonly lost: number;
  /** Client order ids found more than once (engine, PostgreSQL) or under two order ids (Kafka). */
  readonly duplicated: number;
  /** Kafka messages that are copies of another (same sequence and id, same bytes). */
  readonly kafkaCopies: number;
  /** Failures that are not a lost or duplicated order (figures that differ, an unclear error). */
  readonly problems: readonly string[];
}

export async function checkpoint(pool: pg.Pool): Promise<bigint> {
  const { rows } = await pool.query<{ last_sequence: string }>("SELECT last_sequence FROM engine_checkpoints WHERE shard = $1", [SHARD]);
  return BigInt(rows[0]?.last_sequence ?? 0);
}

/** Waits until PostgreSQL's checkpoint reaches the engine's last sequence; resolves with it. */
export async function projectionCaughtUp(p: FaultPlatform, timeoutMs = 60_000): Promise<bigint> {
  let engineAt = 0n;
  let projectedAt = 0n;
  await until(
    async () => {
      engineAt = (await stats(p.engine.client)).lastSequence;
      projectedAt = await checkpoint(p.pool);
      return engineAt === projectedAt;
    },
    () => `the projection to reach the engine (engine at ${engineAt}, checkpoint at ${projectedAt})`,
    timeoutMs,
  );
  return engineAt;
}

export async function accountIds(pool: pg.Pool): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ name: string; account_id: string }>("SELECT name, account_id::text FROM accounts");
  return new Map(rows.map((r) => [r.name, r.account_id]));
}

/** Checks 1 to 5 over every order placed so far. Call once the projection caught up. */
export async function checkEverything(p: FaultPlatform, tap: KafkaTap, records: readonly OrderRecord[]): Promise<CheckResult> {
  const engineSequence = await projectionCaughtUp(p);
  const record = await engineRecord(p.engine.client);
  const ids = await accountIds(p.pool);
  const problems: string[] = [];
  const lostKeys = new Set<string>();
  const duplicatedKeys = new Set<string>();
  const keyOf = (r: OrderRecord) => `${ids.get(r.account)}/${r.request.clientOrderId}`;

  // 1. The engine.
  // Every order id the engine gave each (account, client order id), accepted or rejected.
  const inEngine = new Map<string, bigint[]>();
  for (const [orderId, o] of [...record.accepted, ...record.rejected]) {
    const key = `${o.accountId}/${o.clientOrderId}`;
    inEngine.set(key, [...(inEngine.get(key) ?? []), orderId]);
  }
  for (const [key, orderIds] of inEngine) {
    if (orderIds.length === 1) continue;
    duplicatedKeys.add(key);
    problems.push(`the engine took ${key} ${orderIds.length} times (${orderIds.join(", ")})`);
  }
  for (const r of records) {
    const answer = finalAnswer(r);
    const engineIds = inEngine.get(keyOf(r)) ?? [];
    if (answer?.kind === "acknowledged") {
      if (engineIds.length === 0) {
        lostKeys.add(keyOf(r));
        problems.push(`acknowledged ${r.request.clientOrderId} (order ${answer.order.orderId}, ${r.channel}) is not in the engine`);
      } else if (engineIds[0]!.toString() !== answer.order.orderId) problems.push(`acknowledged ${r.request.clientOrderId} as order ${answer.order.orderId}, but the engine has it as ${engineIds[0]}`);
    } else if (answer?.kind === "refused") {
      if (engineIds.length > 0) problems.push(`${r.request.clientOrderId} (${r.channel}) was refused with ${answer.code} ${answer.reason}, yet the engine has it as order ${engineIds[0]}`);
    } else {
      problems.push(`${r.request.clientOrderId} (${r.channel}) never got an answer`);
    }
    // Every refusal, of the first attempt or of a retry, says what to do.
    for (const refusal of [r.first, r.retried]) {
      if (refusal?.kind !== "refused" || (CLEAR_REFUSALS.has(refusal.code) && refusal.message !== "")) continue;
      problems.push(`${r.request.clientOrderId} (${r.channel}) was refused with an unclear error: ${refusal.code} ${refusal.reason} "${refusal.message}"`);
    }
  }

  // 2. PostgreSQL.
  const projection = await projectionProblems(p.pool, record);
  problems.push(...projection.problems);
  for (const key of projection.missing) lostKeys.add(key);
  for (const key of projection.duplicated) duplicatedKeys.add(key);

  // 3. Kafka.
  await tap.caughtUp();
  const kafka = await kafkaProblems(p.pool, tap, records, keyOf);
  problems.push(...kafka.problems);
  for (const key of kafka.missing) lostKeys.add(key);
  for (const key of kafka.duplicated) duplicatedKeys.add(key);

  // 4. Analytics.
  problems.push(...(await analyticsProblems(p.pool, tap)));

  const acknowledgedKeys = new Set(records.filter((r) => finalAnswer(r)?.kind === "acknowledged").map(keyOf));
  return {
    engineSequence,
    record,
    lost: [...lostKeys].filter((k) => acknowledgedKeys.has(k)).length,
    duplicated: duplicatedKeys.size,
    kafkaCopies: kafka.copies,
    problems,
  };
}

const statusOf = (o: { filledLots: bigint; quantityLots: bigint; cancelled: boolean }) =>
  o.filledLots === o.quantityLots ? "filled" : o.cancelled ? "cancelled" : o.filledLots > 0n ? "partially_filled" : "new";

/** PostgreSQL against the engine's record (check 2); keys are `account id/client order id`. */
async function projectionProblems(pool: pg.Pool, record: EngineRecord) {
  const problems: string[] = [];
  const missing: string[] = [];
  const duplicated: string[] = [];
  const { rows: orders } = await pool.query<{ order_id: string; account_id: string; client_order_id: string; filled_lots: string; status: string }>(
    `SELECT o.order_id::text, o.account_id::text, o.client_order_id, round(o.filled_quantity / i.lot_size)::bigint::text AS filled_lots, o.status
       FROM orders o JOIN instruments i USING (instrument_id) WHERE i.shard = $1`,
    [SHARD],
  );
  const byId = new Map(orders.map((o) => [o.order_id, o]));
  const keys = new Map<string, number>();
  for (const o of orders) keys.set(`${o.account_id}/${o.client_order_id}`, (keys.get(`${o.account_id}/${o.client_order_id}`) ?? 0) + 1);
  for (const [key, count] of keys) {
    if (count === 1) continue;
    duplicated.push(key);
    problems.push(`PostgreSQL holds ${key} ${count} times`);
  }
  for (const o of record.accepted.values()) {
    const row = byId.get(o.orderId.toString());
    const expected = { account_id: o.accountId.toString(), client_order_id: o.clientOrderId, filled_lots: o.filledLots.toString(), status: statusOf(o) };
    if (!row) {
      missing.push(`${o.accountId}/${o.clientOrderId}`);
      problems.push(`order ${o.orderId} (${o.clientOrderId}) is in the engine, not in PostgreSQL`);
    } else if (JSON.stringify({ ...row, order_id: undefined }) !== JSON.stringify({ ...expected, order_id: undefined })) {
      problems.push(`order ${o.orderId} in PostgreSQL ${JSON.stringify(row)} differs from the engine's ${JSON.stringify(expected)}`);
    }
  }
  for (const o of orders) if (!record.accepted.has(BigInt(o.order_id))) problems.push(`order ${o.order_id} (${o.client_order_id}) is in PostgreSQL, not in the engine`);

  const { rows: executions } = await pool.query<{ trade_id: string; liquidity: string; order_id: string; account_id: string; side: string; price_ticks: string; lots: string; sequence: string }>(
    `SELECT e.trade_id::text, e.liquidity, e.order_id::text, e.account_id::text, e.side, round(e.price / i.tick_size)::bigint::text AS price_ticks,
            round(e.quantity / i.lot_size)::bigint::text AS lots, e.sequence::text
       FROM executions e JOIN instruments i USING (instrument_id) WHERE i.shard = $1 ORDER BY e.trade_id, e.liquidity`,
    [SHARD],
  );
  const expectedExecutions = executionRowsOf(record.trades);
  const canonical = (e: Record<string, string>) => JSON.stringify(Object.fromEntries(Object.entries(e).sort(([a], [b]) => a.localeCompare(b))));
  const projected = new Set(executions.map(canonical));
  const engineSide = new Set(expectedExecutions.map(canonical));
  const onlyEngine = expectedExecutions.filter((e) => !projected.has(canonical(e)));
  const onlyProjected = executions.filter((e) => !engineSide.has(canonical(e)));
  if (onlyEngine.length > 0) problems.push(`${onlyEngine.length} executions of the engine are not in PostgreSQL, e.g. ${canonical(onlyEngine[0]!)}`);
  if (onlyProjected.length > 0) problems.push(`${onlyProjected.length} executions in PostgreSQL are not the engine's, e.g. ${canonical(onlyProjected[0]!)}`);

  // Positions equal the sum of the executions, by SQL, and every account's net is the engine's.
  const { rows: offPositions } = await pool.query<{ account_id: string; instrument_id: number; position: string | null; executions: string | null }>(
    `SELECT account_id::text, instrument_id, p.net_quantity::text AS position, e.net::text AS executions
       FROM positions p
       FULL JOIN (SELECT account_id, instrument_id, sum(CASE side WHEN 'buy' THEN quantity ELSE -quantity END) AS net FROM executions GROUP BY 1, 2) e
            USING (account_id, instrument_id)
      WHERE coalesce(p.net_quantity, 0) <> coalesce(e.net, 0)`,
  );
  for (const row of offPositions) problems.push(`position of account ${row.account_id} in instrument ${row.instrument_id} is ${row.position}, its executions sum to ${row.executions}`);
  const net = new Map<string, bigint>();
  for (const t of record.trades) {
    const [buyer, seller] = t.aggressorSide === Side.SIDE_BUY ? [t.takerAccountId, t.makerAccountId] : [t.makerAccountId, t.takerAccountId];
    net.set(buyer.toString(), (net.get(buyer.toString()) ?? 0n) + t.quantityLots);
    net.set(seller.toString(), (net.get(seller.toString()) ?? 0n) - t.quantityLots);
  }
  const { rows: positions } = await pool.query<{ account_id: string; net_lots: string }>(
    `SELECT p.account_id::text, round(p.net_quantity / i.lot_size)::bigint::text AS net_lots FROM positions p JOIN instruments i USING (instrument_id) WHERE i.shard = $1`,
    [SHARD],
  );
  const projectedNet = new Map(positions.map((r) => [r.account_id, BigInt(r.net_lots)]));
  for (const account of new Set([...net.keys(), ...projectedNet.keys()])) {
    if ((net.get(account) ?? 0n) !== (projectedNet.get(account) ?? 0n)) problems.push(`account ${account}: net ${projectedNet.get(account) ?? 0n} lots in PostgreSQL, ${net.get(account) ?? 0n} by the engine's trades`);
  }

  const at = await checkpoint(pool);
  if (at !== record.lastSequence) problems.push(`the checkpoint is at ${at}, the engine at ${record.lastSequence}`);
  return { problems, missing, duplicated };
}

/** Kafka against PostgreSQL and the acknowledged orders (check 3). */
async function kafkaProblems(pool: pg.Pool, tap: KafkaTap, records: readonly OrderRecord[], keyOf: (r: OrderRecord) => string) {
  const problems: string[] = [];
  const missing: string[] = [];
  const duplicated: string[] = [];
  const { rows: orders } = await pool.query<{ order_id: string; account_id: string; client_order_id: string; last_sequence: string }>(
    "SELECT order_id::text, account_id::text, client_order_id, last_sequence::text FROM orders",
  );
  const { rows: executions } = await pool.query<{ trade_id: string; order_id: string; sequence: string }>("SELECT trade_id::text, order_id::text, sequence::text FROM executions");

  // What a consumer de-duplicates on: the topic, the engine sequence and the id.
  const byKey = new Map<string, TappedMessage[]>();
  const orderIdsOfKey = new Map<string, Set<string>>();
  for (const topic of [ORDERS_TOPIC, EXECUTIONS_TOPIC]) {
    for (const partition of tap.messages.get(topic)!.values()) {
      for (const m of partition) {
        const sequence = m.headers["engine-sequence"]?.toString() ?? "";
        let id: string;
        if (topic === ORDERS_TOPIC) {
          const order = Order.decode(m.value!);
          id = order.orderId;
          const key = `${order.account}/${order.clientOrderId}`;
          orderIdsOfKey.set(key, (orderIdsOfKey.get(key) ?? new Set()).add(order.orderId));
        } else {
          const execution = Execution.decode(m.value!);
          id = `${execution.tradeId}/${execution.orderId}`;
        }
        const key = `${topic} ${sequence}/${id}`;
        byKey.set(key, [...(byKey.get(key) ?? []), m]);
      }
    }
  }
  let copies = 0;
  for (const [key, group] of byKey) {
    copies += group.length - 1;
    if (group.some((m) => !m.value!.equals(group[0]!.value!))) problems.push(`copies of ${key} in Kafka differ`);
  }
  const expected = [
    ...orders.map((o) => ({ key: `${ORDERS_TOPIC} ${o.last_sequence}/${o.order_id}`, orderKey: `${o.account_id}/${o.client_order_id}` })),
    ...executions.map((e) => ({ key: `${EXECUTIONS_TOPIC} ${e.sequence}/${e.trade_id}/${e.order_id}`, orderKey: undefined })),
  ];
  const absent = expected.filter((e) => !byKey.has(e.key));
  for (const e of absent.slice(0, 20)) problems.push(`PostgreSQL's ${e.key} is not in Kafka`);
  if (absent.length > 20) problems.push(`... and ${absent.length - 20} more not in Kafka`);
  for (const e of absent) if (e.orderKey) missing.push(e.orderKey);
  const known = new Set(expected.map((e) => e.key));
  const sequenceOf = new Map(orders.map((o) => [o.order_id, BigInt(o.last_sequence)]));
  for (const key of byKey.keys()) {
    if (known.has(key)) continue;
    // An order's earlier states are in Kafka too; only the last one is PostgreSQL's row.
    const [topic, rest] = key.split(" ") as [string, string];
    const [sequence, orderId] = rest.split("/") as [string, string];
    const rowSequence = topic === ORDERS_TOPIC ? sequenceOf.get(orderId) : undefined;
    if (rowSequence === undefined || BigInt(sequence) > rowSequence) problems.push(`Kafka has ${key}, which PostgreSQL does not`);
  }

  // Every acknowledged order is in the orders topic under the one id it was given.
  const names = await pool.query<{ name: string; account_id: string }>("SELECT name, account_id::text FROM accounts");
  const nameOf = new Map(names.rows.map((r) => [r.account_id, r.name]));
  for (const r of records) {
    const answer = finalAnswer(r);
    if (answer?.kind !== "acknowledged") continue;
    const [accountId] = keyOf(r).split("/") as [string];
    const inKafka = orderIdsOfKey.get(`${nameOf.get(accountId)}/${r.request.clientOrderId}`) ?? new Set<string>();
    if (inKafka.size === 0) {
      missing.push(keyOf(r));
      problems.push(`acknowledged ${r.request.clientOrderId} (order ${answer.order.orderId}) is not in ${ORDERS_TOPIC}`);
    } else if (inKafka.size > 1) {
      duplicated.push(keyOf(r));
      problems.push(`${r.request.clientOrderId} is in ${ORDERS_TOPIC} under ${inKafka.size} order ids`);
    } else if (!inKafka.has(answer.order.orderId)) problems.push(`acknowledged ${r.request.clientOrderId} as ${answer.order.orderId}, Kafka has ${[...inKafka][0]}`);
  }
  return { problems, missing, duplicated, copies };
}

/**
 * What is compared between the live figures and the replayed ones (check 4): the columns, in the
 * order given. An open lot's number only orders the lots of a book (a book that went flat numbers
 * its next lot from 1 again, so the numbers depend on where batches ended): the lots are compared
 * in that order, without it.
 */
const FIGURE_COLUMNS: readonly { readonly table: keyof AnalyticsTables; readonly columns: string; readonly orderBy: string }[] = [
  { table: "appliedFills", columns: "shard, sequence, trade_id, liquidity, account_id, partition, kafka_offset", orderBy: "shard, sequence, trade_id, liquidity" },
  { table: "rejectedMessages", columns: "partition, kafka_offset, code, reason", orderBy: "partition, kafka_offset" },
  { table: "openLots", columns: "account_id, instrument_id, quantity, price, opened_at", orderBy: "account_id, instrument_id, lot_seq" },
  {
    table: "symbolStats",
    columns: "account_id, instrument_id, realized_pnl, fees, trade_count, winning_trades, losing_trades, total_win, total_loss, largest_win, largest_loss, volume, notional, last_fill_at",
    orderBy: "account_id, instrument_id",
  },
  { table: "dailyPnl", columns: "account_id, instrument_id, day, realized_pnl, fees, trade_count, volume", orderBy: "account_id, instrument_id, day" },
  { table: "lastPrices", columns: "instrument_id, price, sequence, trade_id, traded_at", orderBy: "instrument_id" },
];

/**
 * A row as text to compare, numerics by value: a sum's scale depends on the order of its terms
 * (0.000040 = 0.00004), and the replay adds in other batches than the service did.
 */
function figureRow(row: Record<string, unknown>): string {
  const byValue = (value: unknown) => (typeof value === "string" && /^-?\d+\.\d+$/.test(value) ? value.replace(/\.?0+$/, "") : value);
  return JSON.stringify(Object.fromEntries(Object.entries(row).map(([column, value]) => [column, byValue(value)])));
}

/**
 * Waits until the analytics service has counted the whole executions topic, replays the topic
 * (as the tap read it) into fresh tables through the service's FigureStore, and compares.
 */
async function analyticsProblems(pool: pg.Pool, tap: KafkaTap): Promise<string[]> {
  const ends = await tap.endOffsets(EXECUTIONS_TOPIC);
  const stored = async () => {
    const { rows } = await pool.query<{ partition: number; next_offset: string }>(`SELECT partition, next_offset::text FROM ${LIVE_TABLES.offsets} WHERE group_id = $1 AND topic = $2`, [ANALYTICS_GROUP, EXECUTIONS_TOPIC]);
    return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
  };
  let behind: string[] = [];
  await until(
    async () => {
      const at = await stored();
      behind = [...ends].filter(([partition, end]) => end > 0n && (at.get(partition) ?? 0n) < end).map(([partition, end]) => `partition ${partition} at ${at.get(partition) ?? 0n} of ${end}`);
      return behind.length === 0;
    },
    () => `the analytics service to count the executions topic up to its end (${behind.join(", ")})`,
    60_000,
  );

  const replay = suffixedTables("_replay");
  for (const [live, fresh] of tableList(LIVE_TABLES).map((t, i) => [t, tableList(replay)[i]!] as const)) {
    await pool.query(`DROP TABLE IF EXISTS ${fresh}`);
    await pool.query(`CREATE TABLE ${fresh} (LIKE ${live} INCLUDING ALL)`);
  }
  try {
    const store = new FigureStore({ pool, tables: replay, groupId: ANALYTICS_GROUP, topic: EXECUTIONS_TOPIC, names: new Names({ pool }), startOffset: async () => 0n });
    for (const [partition, messages] of tap.messages.get(EXECUTIONS_TOPIC)!) {
      const upTo = messages.filter((m) => BigInt(m.offset) < (ends.get(partition) ?? 0n));
      for (let from = 0; from < upTo.length; from += 500) {
        const result = await store.applyBatch(partition, upTo.slice(from, from + 500));
        if (result.kind !== "applied") return [`the replay of partition ${partition} found its batch at ${upTo[from]!.offset} misplaced (stored ${result.storedOffset})`];
      }
    }
    const problems: string[] = [];
    for (const { table, columns, orderBy } of FIGURE_COLUMNS) {
      const read = async (name: string) => (await pool.query(`SELECT ${columns} FROM ${name} ORDER BY ${orderBy}`)).rows.map(figureRow);
      const [live, fresh] = [await read(LIVE_TABLES[table]), await read(replay[table])];
      const firstDifference = live.findIndex((row, i) => row !== fresh[i]);
      if (live.length !== fresh.length || firstDifference >= 0) {
        const at = firstDifference >= 0 ? firstDifference : Math.min(live.length, fresh.length);
        problems.push(`analytics ${LIVE_TABLES[table]}: ${live.length} rows live, ${fresh.length} replayed; row ${at} is ${live[at] ?? "missing"} live, ${fresh[at] ?? "missing"} replayed`);
      }
    }
    return problems;
  } finally {
    for (const fresh of tableList(replay)) await pool.query(`DROP TABLE IF EXISTS ${fresh}`);
  }
}
