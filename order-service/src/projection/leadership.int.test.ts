import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { Leadership } from "./leadership.js";

const logger = createLogger({ service: "leadership-test", level: "error" });
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("leadership");
});
afterAll(async () => {
  await db.drop();
});

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function replica(name: string, events: string[]): Leadership {
  return new Leadership({
    databaseUrl: db.url,
    lockKey: 4242n,
    logger,
    retryMs: 50,
    heartbeatMs: 50,
    onAcquired: async () => void events.push(`${name} leads`),
    onLost: async () => void events.push(`${name} lost`),
  });
}

describe("projection leadership", () => {
  it("lets one replica lead, and another take over when the leader stops or its connection dies", async () => {
    const events: string[] = [];
    const a = replica("a", events);
    a.start();
    await until(() => a.isLeader, "a to lead");
    const b = replica("b", events);
    b.start();
    await new Promise((r) => setTimeout(r, 300)); // b retries several times meanwhile
    expect(b.isLeader).toBe(false);

    await a.stop();
    await until(() => b.isLeader, "b to take over after a stopped");

    // The leader's session is killed (a network cut, a DBA): it notices and steps down, and one of
    // the replicas (b again, or the new c) takes over.
    const c = replica("c", events);
    c.start();
    await db.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hft-order-service-leader' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')",
    );
    await until(() => !b.isLeader, "b to notice it lost its session");
    await until(() => c.isLeader || b.isLeader, "a replica to lead again");
    await b.stop();
    await c.stop();
    expect(events.slice(0, 3)).toEqual(["a leads", "a lost", "b leads"]);
    expect(events).toContain("b lost");
    expect(events.filter((e) => e.endsWith("leads")).length).toBe(events.filter((e) => e.endsWith("lost")).length);
  });
});
