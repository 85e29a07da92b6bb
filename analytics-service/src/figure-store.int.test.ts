/**
 * FigureStore against a real PostgreSQL: the fence around the stored offset, in-batch and
 * cross-batch duplicates, and the offsets recorded with the figures.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigrator } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { type TestFill, executionValue } from "../tests/execution-topic.js";
import { FigureStore, type OffsetMessage } from "./figure-store.js";
import { Names } from "./names.js";
import { LIVE_TABLES } from "./tables.js";

let db: TestDatabase;
let store: FigureStore;
let aliceId: string;

beforeAll(async () => {
  db = await createTestDatabase("analytics_store");
  await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../../migrations", import.meta.url)) }).up();
  aliceId = (await db.pool.query<{ account_id: string }>("INSERT INTO accounts (name) VALUES ('alice') RETURNING account_id")).rows[0]!.account_id;
  store = new FigureStore({ pool: db.pool, tables: LIVE_TABLES, groupId: "g", topic: "t", names: new Names({ pool: db.pool }), startOffset: async () => 0n });
});
afterAll(async () => db?.drop());

/** Message `offset` of partition 0: `account` buys 1 AAPL at 100 in trade `trade` (sequence = trade). */
function message(offset: number, trade = offset + 1, account = "alice", accountId = aliceId): OffsetMessage {
  const fill: TestFill = {
    shard: "s1",
    sequence: BigInt(trade),
    tradeId: BigInt(trade),
    liquidity: "taker",
    account,
    accountId,
    symbol: "AAPL",
    side: "buy",
    price: "100",
    quantity: "1",
    executedAt: new Date("2026-11-30T10:00:00Z"),
  };
  return { offset: String(offset), value: executionValue(fill), headers: { shard: "s1", "engine-sequence": String(trade) } };
}
const range = (from: number, to: number, trade?: (offset: number) => number) => Array.from({ length: to - from + 1 }, (_, i) => message(from + i, trade?.(from + i)));

async function state() {
  const offsets = await db.pool.query<{ next_offset: string; shard_sequences: Record<string, string> }>("SELECT next_offset, shard_sequences FROM analytics_consumer_offsets WHERE group_id = 'g' AND partition = 0");
  const stats = await db.pool.query<{ trade_count: string }>("SELECT trade_count FROM analytics_symbol_stats");
  return { next: offsets.rows[0]?.next_offset, shards: offsets.rows[0]?.shard_sequences, trades: stats.rows[0]?.trade_count ?? "0" };
}

describe("FigureStore.applyBatch", () => {
  it("applies a first batch from the partition's start offset and stores the next offset with the shard's sequence", async () => {
    const result = await store.applyBatch(0, range(0, 9));
    expect(result).toMatchObject({ kind: "applied", nextOffset: 10n, duplicates: 0, rejected: [] });
    expect(await state()).toEqual({ next: "10", shards: { s1: "10" }, trades: "10" });
  });

  it("writes nothing for a batch that starts after the stored offset, and says where to continue", async () => {
    expect(await store.applyBatch(0, range(20, 29))).toEqual({ kind: "misplaced", storedOffset: 10n });
    expect(await state()).toEqual({ next: "10", shards: { s1: "10" }, trades: "10" });
  });

  it("writes nothing for a batch that ends before the stored offset", async () => {
    expect(await store.applyBatch(0, range(3, 9))).toEqual({ kind: "misplaced", storedOffset: 10n });
  });

  it("applies only the messages at or after the stored offset of an overlapping batch", async () => {
    const result = await store.applyBatch(0, range(5, 14));
    expect(result).toMatchObject({ kind: "applied", nextOffset: 15n, duplicates: 0 });
    expect(result.kind === "applied" && result.applied.map((f) => f.tradeId)).toEqual(["11", "12", "13", "14", "15"]);
    expect(await state()).toEqual({ next: "15", shards: { s1: "15" }, trades: "15" });
  });

  it("skips a producer duplicate at a new offset, in the same batch or a later one", async () => {
    // Offsets 15..18 carry trades 14, 15 (already counted), 16 and 16 again.
    const result = await store.applyBatch(0, range(15, 18, (offset) => [14, 15, 16, 16][offset - 15]!));
    expect(result).toMatchObject({ kind: "applied", nextOffset: 19n, duplicates: 3 });
    expect(await state()).toEqual({ next: "19", shards: { s1: "16" }, trades: "16" });
  });

  it("refuses the fill of an unknown account, naming it, and finds an account created just after", async () => {
    const refused = await store.applyBatch(0, [message(19, 100, "late", "999")]);
    expect(refused).toMatchObject({ kind: "applied", applied: [], rejected: [{ offset: "19", code: "FILL_MALFORMED", reason: 'account "late" does not exist' }] });
    const lateId = (await db.pool.query<{ account_id: string }>("INSERT INTO accounts (name) VALUES ('late') RETURNING account_id")).rows[0]!.account_id;
    const counted = await store.applyBatch(0, [message(20, 101, "late", lateId)]);
    expect(counted).toMatchObject({ kind: "applied", rejected: [] });
    expect(counted.kind === "applied" && counted.applied.map((f) => f.account)).toEqual(["late"]);
  });
});
