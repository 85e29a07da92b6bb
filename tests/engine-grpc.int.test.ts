import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { SubscribeResponse } from "@hft/contract/grpc/hft/v1/engine_service.js";
import { RejectReason, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { OrderFlowSession, defineBtc, limit } from "./support/engine-commands.js";
import { type EngineProcess, engineBinary, startEngine } from "./support/engine-process.js";

const run = promisify(execFile);
const engines: EngineProcess[] = [];
async function engine(options?: Parameters<typeof startEngine>[0]): Promise<EngineProcess> {
  const started = await startEngine(options);
  engines.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop("SIGKILL")));
});

/** Reads Subscribe(from) until `count` messages arrived, then cancels. */
async function subscribe(e: EngineProcess, from: bigint, count: number): Promise<SubscribeResponse[]> {
  const stream = e.client.subscribe({ fromSequence: from });
  const received: SubscribeResponse[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Subscribe gave ${received.length} of ${count} messages`)), 15_000);
    stream.on("data", (message: SubscribeResponse) => {
      received.push(message);
      if (received.length === count) {
        clearTimeout(timer);
        stream.cancel();
        resolve(received);
      }
    });
    stream.on("error", (err: { code?: number }) => {
      if (err.code !== 1) reject(err); // 1 = CANCELLED, ours
    });
  });
}

function bookOf(e: EngineProcess) {
  return new Promise<unknown>((resolve, reject) =>
    e.client.getBookSnapshot({ instrumentId: 1, depth: 0 }, (err, response) => (err ? reject(err) : resolve(response.book))),
  );
}

/** A deterministic stream of crossing and resting orders between two accounts. */
function orderBatch(first: number, size: number) {
  return Array.from({ length: size }, (_, i) => {
    const n = first + i;
    return limit(BigInt(n), {
      account: BigInt(1 + (n % 2)),
      side: n % 3 === 0 ? Side.SIDE_BUY : Side.SIDE_SELL,
      price: BigInt(10_000 + (n % 7) - 3),
      quantity: BigInt(1 + (n % 5)),
      clientOrderId: `o-${n}`,
    });
  });
}

/**
 * An engine taking a batch of 50 orders every 2 ms on one OrderFlow stream, stopped with `signal`
 * once 2,000 commands are acknowledged: the acknowledged commands, and how many orders were sent.
 */
async function stoppedUnderFlow(signal: NodeJS.Signals) {
  const first = await engine();
  const session = new OrderFlowSession(first.client.orderFlow());
  session.stream.on("error", () => undefined);
  session.send([defineBtc(1n)]);
  let next = 2;
  const sender = setInterval(() => {
    session.send(orderBatch(next, 50));
    next += 50;
  }, 2);
  await session.waitForAcks(2000, 30_000);
  const exitCode = await first.stop(signal);
  clearInterval(sender);
  // The last acks may still sit in this process's socket buffer when the engine has exited.
  await session.done.catch(() => undefined);
  return { first, exitCode, acked: session.acks.filter((a) => a.sequence > 0n), sent: next };
}

describe("engine over gRPC", () => {
  it("acknowledges an OrderFlow batch in order with sequences, order ids and events", async () => {
    const e = await engine();
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([
      defineBtc(10n),
      limit(11n, { account: 7n, side: Side.SIDE_SELL, price: 10_000n, quantity: 5n, clientOrderId: "ask-1" }),
      limit(12n, { account: 8n, side: Side.SIDE_BUY, price: 10_000n, quantity: 2n, clientOrderId: "bid-1" }),
      { correlationId: 13n, command: undefined },
      limit(14n, { account: 8n, side: Side.SIDE_BUY, price: 0n, quantity: 2n, clientOrderId: "bad-price" }),
    ]);
    const acks = await session.waitForAcks(5);
    expect(acks.map((a) => [a.correlationId, a.sequence])).toEqual([
      [10n, 1n],
      [11n, 2n],
      [12n, 3n],
      [13n, 0n],
      [14n, 4n],
    ]);
    expect(acks[1]?.orderId).toBe(1n);
    expect(acks[2]?.events.map((ev) => ev.event?.$case)).toEqual(["orderAccepted", "trade", "bookLevelChanged"]);
    const trade = acks[2]?.events[1]?.event;
    expect(trade?.$case === "trade" && trade.value).toMatchObject({ priceTicks: 10_000n, quantityLots: 2n, makerOrderId: 1n, takerOrderId: 2n, makerRemainingLots: 3n });
    expect(acks[3]).toMatchObject({ rejectReason: RejectReason.REJECT_REASON_MALFORMED_COMMAND, rejectMessage: "command has no body" });
    expect(acks[4]).toMatchObject({ rejectReason: RejectReason.REJECT_REASON_INVALID_PRICE, orderId: 3n });
    session.stream.end();
    await session.done;
    expect(await bookOf(e)).toMatchObject({ sequence: 4n, asks: [{ priceTicks: 10_000n, quantityLots: 3n, orderCount: 1 }], bids: [] });
  });

  it("Subscribe resumes from a sequence, then goes live with no gap and no duplicate", async () => {
    const e = await engine();
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([defineBtc(1n), ...orderBatch(2, 49)]);
    const acks = await session.waitForAcks(50);

    const stream = e.client.subscribe({ fromSequence: 31n });
    const received: SubscribeResponse[] = [];
    const all = new Promise<void>((resolve) =>
      stream.on("data", (m: SubscribeResponse) => {
        received.push(m);
        if (received.length === 40) resolve();
      }),
    );
    stream.on("error", () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    session.send(orderBatch(51, 20)); // sequences 51..70 arrive live
    await all;
    stream.cancel();
    expect(received.map((m) => m.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(31 + i)));
    for (const m of received.slice(0, 20)) {
      const ack = acks.find((a) => a.sequence === m.sequence);
      expect(m.events).toEqual(ack?.events);
    }
  });

  it("serves sequences evicted from memory by replaying the journal, identical to the acks", async () => {
    const e = await engine({ args: ["--event-log-capacity=5"] });
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([defineBtc(1n), ...orderBatch(2, 99)]);
    const acks = await session.waitForAcks(100);
    const replayed = await subscribe(e, 1n, 100);
    expect(replayed.map((m) => m.sequence)).toEqual(acks.map((a) => a.sequence));
    replayed.forEach((m, i) => {
      expect(m.events).toEqual(acks[i]?.events);
      expect(m.timestamp).toEqual(acks[i]?.timestamp);
    });
  });

  it("survives SIGKILL mid-stream: every acknowledged command is recovered, nothing unsent appears", async () => {
    const { first, acked, sent: next } = await stoppedUnderFlow("SIGKILL");

    const second = await engine({ dataDir: first.dataDir });
    const stats = await new Promise<{ lastSequence: bigint }>((resolve, reject) =>
      second.client.getStats({}, (err, s) => (err ? reject(err) : resolve(s))),
    );
    const lastAcked = acked[acked.length - 1]?.sequence ?? 0n;
    expect(stats.lastSequence).toBeGreaterThanOrEqual(lastAcked);
    const recovered = await subscribe(second, 1n, Number(stats.lastSequence));
    acked.forEach((ack) => expect(recovered[Number(ack.sequence) - 1]?.events).toEqual(ack.events));
    // Durable but unacknowledged commands may exist; each must be one this client sent.
    for (const m of recovered.slice(acked.length)) {
      const accepted = m.events[0]?.event;
      const clientOrderId = accepted?.$case === "orderAccepted" ? accepted.value.order?.clientOrderId : accepted?.$case === "orderRejected" ? accepted.value.clientOrderId : "";
      expect(Number(clientOrderId?.slice(2))).toBeLessThan(next);
    }
  });

  it("drains on SIGTERM under load: exit 0, and exactly the acknowledged commands are recovered", async () => {
    const { first, exitCode, acked } = await stoppedUnderFlow("SIGTERM");
    expect(exitCode).toBe(0);

    // Unlike a SIGKILL, a drain answers every command it applied before the streams close: the
    // journal holds the acknowledged commands and nothing else.
    const second = await engine({ dataDir: first.dataDir });
    const stats = await new Promise<{ lastSequence: bigint }>((resolve, reject) => second.client.getStats({}, (err, s) => (err ? reject(err) : resolve(s))));
    expect(stats.lastSequence).toBe(acked.at(-1)!.sequence);
    const recovered = await subscribe(second, 1n, Number(stats.lastSequence));
    expect(recovered.map((m) => m.sequence)).toEqual(acked.map((a) => a.sequence));
    acked.forEach((ack, i) => expect(recovered[i]?.events).toEqual(ack.events));
  });

  it("drains on SIGTERM: exits 0 with a snapshot, and restarts to the same book", async () => {
    const first = await engine();
    const session = new OrderFlowSession(first.client.orderFlow());
    session.send([defineBtc(1n), ...orderBatch(2, 199)]);
    await session.waitForAcks(200);
    const before = await bookOf(first);
    expect(await first.stop("SIGTERM")).toBe(0);
    expect(readdirSync(first.dataDir).some((f) => /^snapshot-200\.bin$/.test(f))).toBe(true);
    const second = await engine({ dataDir: first.dataDir });
    expect(await bookOf(second)).toEqual(before);
    expect(second.output()).toContain("snapshot 200, 0 commands replayed");
  });

  it("answers the standard health service and server reflection", async () => {
    const e = await engine();
    // grpc.health.v1.HealthCheckRequest { string service = 1 } and HealthCheckResponse { enum status = 1 },
    // encoded by hand: the engine's built-in health service is not described by reflection.
    const status = await new Promise<number>((resolve, reject) => {
      const service = Buffer.from("hft.v1.EngineService");
      const raw = new grpc.Client(e.address, grpc.credentials.createInsecure());
      raw.makeUnaryRequest(
        "/grpc.health.v1.Health/Check",
        () => Buffer.concat([Buffer.from([0x0a, service.length]), service]),
        (bytes: Buffer) => (bytes.length === 2 && bytes[0] === 0x08 ? (bytes[1] as number) : -1),
        {},
        (err, value) => (raw.close(), err ? reject(err) : resolve(value as number)),
      );
    });
    expect(status).toBe(1); // SERVING

    const grpcurl = new URL("../.deps/bin/grpcurl", import.meta.url).pathname;
    if (!existsSync(grpcurl)) throw new Error("grpcurl missing: scripts/install-tools.sh installs it");
    const book = await run(grpcurl, ["-plaintext", "-d", '{"instrument_id": 9}', e.address, "hft.v1.EngineService/GetBookSnapshot"]).catch(
      (err: { stderr: string }) => err,
    );
    expect((book as { stderr: string }).stderr).toContain("instrument 9 is not defined in this engine");
    const services = await run(grpcurl, ["-plaintext", e.address, "list"]);
    expect(services.stdout.split("\n")).toEqual(expect.arrayContaining(["hft.v1.EngineService", "grpc.health.v1.Health"]));
  });

  it("refuses a bad flag, naming it", async () => {
    const failure = await run(engineBinary, ["--snapshot-every=soon"]).catch((err: { code: number; stderr: string }) => err);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('--snapshot-every: expected a whole number of at least 0, got "soon"');
  });

  it("refuses to pin the matching thread to a CPU the process may not run on", async () => {
    const failure = await run(engineBinary, ["--matching-cpu=1023"]).catch((err: { code: number; stderr: string }) => err);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toMatch(/--matching-cpu: expected -1 or a CPU this process may run on \([0-9,]+\), got "1023"/);
  });
});
