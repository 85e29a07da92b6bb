import { afterEach, describe, expect, it } from "vitest";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";
import { defineBtc, limit } from "../../tests/support/engine-commands.js";
import { until } from "../../tests/support/until.js";
import { type EngineProcess, freePort, startEngine } from "../../tests/support/engine-process.js";
import { type EngineCommandBody, EngineLink, EngineUnavailableError, type LinkState } from "./engine-link.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function engine(options?: Parameters<typeof startEngine>[0]): Promise<EngineProcess> {
  const e = await startEngine(options);
  cleanups.push(() => e.stop("SIGKILL"));
  return e;
}

function link(address: string, states: LinkState[] = []): EngineLink {
  const l = new EngineLink({ shard: "test", address, reconnectMinMs: 50, reconnectMaxMs: 200, onStateChange: (s) => states.push(s) });
  cleanups.push(() => l.close());
  return l;
}

const body = (command: ReturnType<typeof defineBtc>): EngineCommandBody => command.command!;
const order = (n: number): EngineCommandBody =>
  body(limit(0n, { account: BigInt(1 + (n % 2)), side: n % 2 ? Side.SIDE_SELL : Side.SIDE_BUY, price: BigInt(10_000 + (n % 5)), quantity: 1n, clientOrderId: `o-${n}` }));

describe("EngineLink", () => {
  it("sends what arrives together as one batch and resolves each command with its own durable ack", async () => {
    const e = await engine();
    const l = link(e.address);
    await l.ready();
    await l.submit(body(defineBtc(0n)));
    const acks = await Promise.all(Array.from({ length: 2_500 }, (_, n) => l.submit(order(n))));
    expect(acks.map((a) => a.sequence)).toEqual(Array.from({ length: 2_500 }, (_, n) => BigInt(n + 2)));
    expect(acks.every((a) => a.orderId > 0n)).toBe(true);
    // One batch for the definition, then 2,500 commands in batches of at most 1,000.
    expect(l.sent).toEqual({ batches: 4, commands: 2_501 });
  });

  it("refuses what is in flight with UNAVAILABLE when the engine dies, then reconnects to the restarted engine", async () => {
    const port = await freePort();
    const first = await startEngine({ port });
    const states: LinkState[] = [];
    const l = link(first.address, states);
    await l.ready();
    await l.submit(body(defineBtc(0n)));
    const before = await l.head();

    const inFlight = Array.from({ length: 200 }, (_, n) => l.submit(order(n)).then((ack) => ack.sequence, (error: unknown) => error));
    await first.stop("SIGKILL");
    const outcomes = await Promise.all(inFlight);
    const refused = outcomes.filter((o) => o instanceof EngineUnavailableError);
    for (const error of refused) {
      expect(error).toMatchObject({ code: 14, message: expect.stringMatching(/may or may not have been applied|was not sent/) });
      // One that may have been applied names the process it went to, so a retry can tell it is gone.
      expect((error as EngineUnavailableError).engineInstance).toBe((error as EngineUnavailableError).notSent ? undefined : before.instance);
    }
    await expect(l.submit(order(1_000))).rejects.toMatchObject({ code: 14, message: expect.stringContaining("nothing was sent") });

    const second = await engine({ port, dataDir: first.dataDir });
    await l.ready(15_000);
    const ack = await l.submit(order(2_000));
    // Whatever was acknowledged before the kill survived; the new command follows it.
    const acknowledged = outcomes.filter((o): o is bigint => typeof o === "bigint");
    expect(ack.sequence).toBeGreaterThan(acknowledged.length > 0 ? acknowledged[acknowledged.length - 1]! : 1n);
    expect(states).toEqual(expect.arrayContaining(["ready", "down", "connecting"]));
    expect(second.address).toBe(first.address);
    expect((await l.head()).instance).not.toBe(before.instance);
  });

  it("says why it is not ready when nothing listens", async () => {
    const l = link(`127.0.0.1:${await freePort()}`);
    await expect(l.ready(300)).rejects.toThrow(/engine shard test at 127\.0\.0\.1:\d+ not ready after 300 ms/);
    await expect(l.submit(order(1))).rejects.toBeInstanceOf(EngineUnavailableError);
  });

  it("takes orders only once prepare has defined the instruments, and prepares again after a failure", async () => {
    const e = await engine();
    const states: LinkState[] = [];
    let attempts = 0;
    let release: (() => void) | undefined;
    const l = new EngineLink({
      shard: "test",
      address: e.address,
      reconnectMinMs: 50,
      onStateChange: (s) => states.push(s),
      prepare: async (send) => {
        attempts += 1;
        if (attempts === 1) throw new Error("catalog unreachable");
        await send(body(defineBtc(0n)));
        await new Promise<void>((resolve) => (release = resolve));
      },
    });
    cleanups.push(() => l.close());
    // Wait for the second prepare to have its definition acknowledged and to be holding the link
    // in "preparing": releasing any earlier would release nothing.
    await until(() => release !== undefined, "a second prepare, after the first one failed, to define its instrument");
    expect(attempts).toBe(2);
    const early = await l.submit(order(1)).catch((error: unknown) => error);
    expect(early).toBeInstanceOf(EngineUnavailableError);
    expect(early).toMatchObject({ notSent: true, message: expect.stringContaining("preparing") });
    release!();
    await l.ready();
    expect((await l.submit(order(2))).rejectReason).toBe(0);
    expect(states).toEqual(["down", "connecting", "ready"]);
  });
});
