import { afterEach, describe, expect, it } from "vitest";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";
import { OrderFlowSession, defineBtc, limit } from "./support/engine-commands.js";
import { type EngineProcess, startEngine } from "./support/engine-process.js";

const engines: EngineProcess[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop("SIGKILL")));
});

/** The samples of a Prometheus text exposition, keyed by `name{labels}` as written. */
async function scrape(url: string): Promise<{ contentType: string | null; text: string; samples: Map<string, number> }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const text = await response.text();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return { contentType: response.headers.get("content-type"), text, samples };
}

describe("engine metrics endpoint", () => {
  it("counts commands by type and outcome, events by type, and times every command", async () => {
    const e = await startEngine();
    engines.push(e);
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([
      defineBtc(1n),
      limit(2n, { account: 7n, side: Side.SIDE_SELL, price: 10_000n, quantity: 5n, clientOrderId: "ask" }),
      limit(3n, { account: 8n, side: Side.SIDE_BUY, price: 10_000n, quantity: 2n, clientOrderId: "take" }),
      limit(4n, { account: 8n, side: Side.SIDE_BUY, price: 0n, quantity: 2n, clientOrderId: "bad-price" }),
      { correlationId: 5n, command: undefined },
    ]);
    await session.waitForAcks(5);
    const stream = e.client.subscribe({ fromSequence: 1n });
    stream.on("error", () => undefined);

    const { contentType, samples, text } = await scrape(e.metricsUrl);
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(text).toContain("# TYPE hft_engine_command_latency_microseconds histogram");
    expect(samples.get('hft_engine_commands_total{type="define_instrument",outcome="accepted"}')).toBe(1);
    expect(samples.get('hft_engine_commands_total{type="new_order",outcome="accepted"}')).toBe(2);
    expect(samples.get('hft_engine_commands_total{type="new_order",outcome="rejected"}')).toBe(1);
    expect(samples.get('hft_engine_commands_total{type="unknown",outcome="refused"}')).toBe(1);
    expect(samples.get('hft_engine_events_total{type="trade"}')).toBe(1);
    expect(samples.get('hft_engine_events_total{type="order_rejected"}')).toBe(1);
    // Four sequenced commands, each applied and acknowledged once; the refused one is not timed.
    expect(samples.get('hft_engine_command_latency_microseconds_count{stage="applied"}')).toBe(4);
    expect(samples.get('hft_engine_command_latency_microseconds_count{stage="acknowledged"}')).toBe(4);
    expect(samples.get('hft_engine_command_latency_microseconds_bucket{stage="acknowledged",le="+Inf"}')).toBe(4);
    expect(samples.get("hft_engine_journal_fsync_microseconds_count")).toBeGreaterThanOrEqual(1);
    expect(samples.get("hft_engine_journal_bytes")).toBeGreaterThan(16);
    expect(samples.get("hft_engine_last_sequence")).toBe(4);
    expect(samples.get("hft_engine_durable_sequence")).toBe(4);
    expect(samples.get('hft_engine_resting_orders{instrument="1"}')).toBe(1);
    expect(samples.get('hft_engine_book_levels{instrument="1",side="sell"}')).toBe(1);
    expect(samples.get('hft_engine_book_levels{instrument="1",side="buy"}')).toBe(0);
    expect(samples.get('hft_engine_subscribers{stream="subscribe"}')).toBe(1);
    expect(samples.get('hft_engine_subscribers{stream="market_data"}')).toBe(0);
    stream.cancel();
  });

  it("times the snapshots taken every N commands", async () => {
    const e = await startEngine({ args: ["--snapshot-every=2"] });
    engines.push(e);
    const session = new OrderFlowSession(e.client.orderFlow());
    session.send([defineBtc(1n)]);
    await session.waitForAcks(1);
    expect((await scrape(e.metricsUrl)).samples.get("hft_engine_snapshot_duration_microseconds_count")).toBe(0);
    session.send([limit(2n, { account: 7n, side: Side.SIDE_SELL, price: 10_000n, quantity: 5n, clientOrderId: "ask" })]);
    await session.waitForAcks(2);
    // The snapshot is written after the acknowledgements go out: look until it shows.
    let samples = (await scrape(e.metricsUrl)).samples;
    for (let tries = 0; tries < 50 && samples.get("hft_engine_snapshot_duration_microseconds_count") === 0; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      samples = (await scrape(e.metricsUrl)).samples;
    }
    expect(samples.get("hft_engine_snapshot_duration_microseconds_count")).toBe(1);
    expect(samples.get("hft_engine_snapshot_duration_microseconds_sum")).toBeGreaterThan(0);
  });

  it("refuses to start when its metrics port is taken, naming it", async () => {
    const e = await startEngine();
    engines.push(e);
    const taken = new URL(e.metricsUrl).host;
    await expect(startEngine({ args: [`--metrics-listen=${taken}`] })).rejects.toThrow(`cannot listen for metrics on ${taken}`);
  });
});
