import { EventEmitter } from "node:events";
import type { Consumer } from "kafkajs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { superviseConsumer } from "./kafka-consumer-supervisor.js";
import { createLogger } from "./logger.js";

const EVENTS = { GROUP_JOIN: "consumer.group_join", CRASH: "consumer.crash" };

/** What of a kafkajs consumer the supervisor uses: its events and disconnect. */
class ScriptedConsumer extends EventEmitter {
  readonly events = EVENTS;
  disconnected = false;
  async disconnect() {
    this.disconnected = true;
  }
  crash(restart: boolean, message = "Failed to find group coordinator") {
    this.emit(EVENTS.CRASH, { payload: { error: new Error(message), groupId: "g", restart } });
  }
  join() {
    this.emit(EVENTS.GROUP_JOIN, { payload: {} });
  }
}

const logger = createLogger({ service: "supervisor-test", level: "silent" });

function supervised(options: { runFails?: (attempt: number) => boolean; maxCrashesInARow?: number } = {}) {
  const consumers: ScriptedConsumer[] = [];
  const gaveUp: Error[] = [];
  let replaced = 0;
  const started = superviseConsumer({
    logger,
    create: () => {
      const consumer = new ScriptedConsumer();
      consumers.push(consumer);
      return consumer as unknown as Consumer;
    },
    run: async () => {
      if (options.runFails?.(consumers.length)) throw new Error("Connection error: connect ECONNREFUSED");
    },
    onGaveUp: (error) => gaveUp.push(error),
    onReplaced: () => replaced++,
    maxCrashesInARow: options.maxCrashesInARow ?? 3,
    firstDelayMs: 100,
    maxDelayMs: 250,
  });
  return { started, consumers, gaveUp, replacements: () => replaced };
}

describe("superviseConsumer", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("starts a new consumer after a crash kafkajs will not restart from, and leaves the others to kafkajs", async () => {
    const { started, consumers, replacements } = supervised();
    const supervisor = await started;
    expect(supervisor.running).toBe(true);

    consumers[0]!.crash(true, "The coordinator is loading");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(consumers).toHaveLength(1);

    consumers[0]!.crash(false);
    expect(supervisor.running).toBe(false);
    await vi.advanceTimersByTimeAsync(99);
    expect(consumers).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(consumers).toHaveLength(2);
    expect(supervisor.consumer).toBe(consumers[1]);
    expect(supervisor.running).toBe(true);
    expect(replacements()).toBe(1);
  });

  it("doubles the delay up to its bound, counts again from a join, and gives up after that many crashes in a row", async () => {
    const { started, consumers, gaveUp } = supervised({ maxCrashesInARow: 3 });
    await started;
    const crashAndWait = async (ms: number) => {
      consumers.at(-1)!.crash(false);
      await vi.advanceTimersByTimeAsync(ms);
    };
    await crashAndWait(100); // 1st: 100 ms
    await crashAndWait(199);
    expect(consumers).toHaveLength(2); // 2nd: 200 ms
    await vi.advanceTimersByTimeAsync(1);
    expect(consumers).toHaveLength(3);

    consumers.at(-1)!.join();
    await crashAndWait(100); // counted from 1 again
    expect(consumers).toHaveLength(4);
    await crashAndWait(200);
    await crashAndWait(250); // 3rd in a row: 400 ms, bounded at 250
    expect(consumers).toHaveLength(6);
    expect(gaveUp).toEqual([]);

    consumers.at(-1)!.crash(false, "still no coordinator");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(consumers).toHaveLength(6);
    expect(gaveUp.map((e) => e.message)).toEqual(["still no coordinator"]);
  });

  it("counts a replacement that fails to start as a crash, disconnects it and tries again", async () => {
    const { started, consumers } = supervised({ runFails: (attempt) => attempt === 2 });
    const supervisor = await started;
    consumers[0]!.crash(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(consumers).toHaveLength(2);
    expect(consumers[1]!.disconnected).toBe(true);
    expect(supervisor.running).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    expect(consumers).toHaveLength(3);
    expect(supervisor.running).toBe(true);
  });

  it("replaces nothing once stopped, and ignores the crash of a consumer already replaced", async () => {
    const { started, consumers } = supervised();
    const supervisor = await started;
    consumers[0]!.crash(false);
    await vi.advanceTimersByTimeAsync(100);
    consumers[0]!.crash(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(consumers).toHaveLength(2);

    consumers[1]!.crash(false);
    await supervisor.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(consumers).toHaveLength(2);
    expect(consumers[1]!.disconnected).toBe(true);
  });

  it("rejects when the first consumer cannot start", async () => {
    const { started } = supervised({ runFails: () => true });
    await expect(started).rejects.toThrow("ECONNREFUSED");
  });
});
