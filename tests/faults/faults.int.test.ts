/**
 * The fault suite (issue 11): the whole platform on its own stack (platform.ts) under steady order
 * load (steady-load.ts), through one fault after another, each followed by recovery and the
 * checks of checks.ts: SIGKILL and restart of the engine, the order service, the analytics service
 * and the gateway; a restart of PostgreSQL, Redis and Kafka; and toxiproxy's latency, reset_peer
 * and timeout toxics on the order service's links to PostgreSQL, Redis, Kafka and the engine.
 *
 * Every order refused during a fault is retried once the platform is back, with the same
 * client_order_id, as a client would: the retry must return the order the engine applied, or
 * place it if it never was, and never place a second one. The figures of the run go to
 * .run/test-results/fault-figures.json; docs/RELIABILITY.md reports them.
 */
import { appendFile, mkdir, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CheckResult, checkEverything, projectionCaughtUp } from "./checks.js";
import { faultRunDir } from "./fault-stack.js";
import { type KafkaTap, startKafkaTap } from "./kafka-tap.js";
import { type FaultPlatform, LINKS, type Link, startFaultPlatform } from "./platform.js";
import { type OrderRecord, answerCounts, createOrderClients, finalAnswer, startSteadyLoad } from "./steady-load.js";
import type { Toxic } from "./toxiproxy.js";

/** Orders per second over the three channels. */
const RATE = 100;
/** Acknowledged orders before a fault, and again after it (the sign that the platform is back). */
const ACKNOWLEDGED_AROUND_FAULT = 60;
/** How long a part stays down, or a toxic stays on, under the load. */
const FAULT_MS = 1_000;
/** The most one phase may take (Kafka's restart takes the longest, about 50 s on two busy cores). */
const PHASE_MS = 150_000;

interface Fault {
  /** Short: it prefixes the client order ids (40 characters at most). */
  readonly name: string;
  readonly description: string;
  /** How many faults it injects (a toxic on four links is four). */
  readonly count: number;
  inject(p: FaultPlatform): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const killAndRestart = (part: "engine" | "orders" | "analytics" | "gateway", description: string): Fault => ({
  name: `kill-${part}`,
  description,
  count: 1,
  async inject(p) {
    await p.kill(part);
    await pause(FAULT_MS);
    await p.start(part);
  },
});

const restartServer = (server: "postgres" | "redis" | "kafka"): Fault => ({
  name: `restart-${server}`,
  description: `restart ${server === "postgres" ? "PostgreSQL" : server === "redis" ? "Redis" : "Kafka"} (stack.sh down, then up)`,
  count: 1,
  inject: (p) => p.stack.restart(server),
});

const toxic = (name: string, description: string, links: readonly Link[], poison: Toxic): Fault => ({
  name,
  description,
  count: links.length,
  async inject(p) {
    const added = await Promise.all(links.map(async (link) => ({ link, names: await p.toxiproxy.addToxic(link, poison) })));
    await pause(FAULT_MS);
    for (const { link, names } of added) for (const n of names) await p.toxiproxy.removeToxic(link, n);
  },
});

const FAULTS: readonly Fault[] = [
  killAndRestart("engine", "SIGKILL the engine, start it again on its data directory"),
  killAndRestart("orders", "SIGKILL the order service, start it again"),
  killAndRestart("analytics", "SIGKILL the analytics service, start it again"),
  killAndRestart("gateway", "SIGKILL the gateway, start it again"),
  restartServer("postgres"),
  restartServer("redis"),
  restartServer("kafka"),
  toxic("latency", "200 ms latency each way on the order service's links to PostgreSQL, Redis, Kafka and the engine", LINKS, { type: "latency", attributes: { latency: 200 } }),
  // All four links at once: each dependency's failure handling at the same time, in one phase each.
  toxic("reset", "reset_peer (TCP RST) on the order service's connections to PostgreSQL, Redis, Kafka and the engine", LINKS, { type: "reset_peer", attributes: { timeout: 0 } }),
  toxic("timeout", "timeout: nothing passes on the order service's connections to PostgreSQL, Redis, Kafka and the engine, closed after 1 s", LINKS, { type: "timeout", attributes: { timeout: 1_000 } }),
];

interface PhaseFigures {
  readonly fault: string;
  readonly description: string;
  readonly faultsInjected: number;
  readonly ordersSent: number;
  readonly acknowledged: number;
  readonly acknowledgedOnRetry: number;
  /** Refused with a clear error and not placed, after the retry. */
  readonly refused: number;
  /** What the clients were told on the first attempt (OK or the code). */
  readonly firstAnswers: Record<string, number>;
  /** What the retries of the refused orders were told. */
  readonly retryAnswers: Record<string, number>;
  /** One message the clients got for each code and reason, first attempts and retries. */
  readonly refusals: Record<string, string>;
  /** Over every order placed so far, this phase's and the earlier ones'. */
  readonly lost: number;
  readonly duplicated: number;
  readonly kafkaCopies: number;
  readonly engineSequence: string;
  readonly seconds: number;
}

/**
 * Retries each refused order with the same request, as a client would: again while the answer says
 * to retry (UNAVAILABLE, ABORTED), for a few seconds at most; the last answer stands.
 */
async function retryRefused(p: FaultPlatform, records: readonly OrderRecord[]): Promise<void> {
  const { placeByGrpc } = createOrderClients(p.addresses.gateway, p.client);
  const refused = records.filter((r) => r.first?.kind === "refused");
  const retryOne = async (record: OrderRecord) => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      record.retried = await placeByGrpc(record.account, record.request);
      const again = record.retried.kind === "refused" && ["UNAVAILABLE", "ABORTED"].includes(record.retried.code);
      if (!again || Date.now() > deadline) return;
      await pause(250);
    }
  };
  for (let from = 0; from < refused.length; from += 50) await Promise.all(refused.slice(from, from + 50).map(retryOne));
}

describe("the platform under faults, with steady order load", () => {
  let p: FaultPlatform;
  let tap: KafkaTap;
  const records: OrderRecord[] = [];
  const figures: PhaseFigures[] = [];
  const startedAt = Date.now();

  beforeAll(async () => {
    await rm(`${faultRunDir}/progress.log`, { force: true });
    p = await startFaultPlatform();
    tap = await startKafkaTap(p.stack.kafkaBroker);
  }, 180_000);

  afterAll(async () => {
    await tap?.stop().catch((error: unknown) => console.error("Kafka tap:", error));
    await p?.stop();
    const results = fileURLToPath(new URL("../../.run/test-results", import.meta.url));
    await mkdir(results, { recursive: true });
    const total = (key: "faultsInjected" | "ordersSent" | "acknowledged" | "acknowledgedOnRetry" | "refused") => figures.reduce((sum, f) => sum + f[key], 0);
    // Each phase's check covers every order placed so far: the last one's figures are the run's.
    const last = figures.at(-1);
    const summary = {
      phases: figures.length,
      faultsInjected: total("faultsInjected"),
      ordersSent: total("ordersSent"),
      acknowledged: total("acknowledged"),
      acknowledgedOnRetry: total("acknowledgedOnRetry"),
      refused: total("refused"),
      lost: last?.lost,
      duplicated: last?.duplicated,
      kafkaCopies: last?.kafkaCopies,
      ratePerSecond: RATE,
      seconds: (Date.now() - startedAt) / 1000,
    };
    await writeFile(`${results}/fault-figures.json`, `${JSON.stringify({ summary, phases: figures }, null, 2)}\n`);
    console.log(`fault suite: ${JSON.stringify(summary)}`);
  }, 120_000);

  // A phase that fails on time goes on in the background: the next one starts once it settled, so
  // that its load and checks never overlap another phase's.
  let previousPhase: Promise<unknown> = Promise.resolve();
  for (const fault of FAULTS) {
    it(`${fault.description}: every acknowledged order once everywhere, figures as a clean replay`, { timeout: 2 * PHASE_MS }, async () => {
      await previousPhase;
      let step = "starting the load";
      const phase = runPhase(fault, (next) => (step = next));
      previousPhase = phase.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const overtime = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${fault.name}: still ${step} after ${PHASE_MS / 1000} s`)), PHASE_MS);
      });
      await Promise.race([phase, overtime])
        .catch(async (error: Error) => {
          await appendFile(`${faultRunDir}/progress.log`, `${JSON.stringify({ fault: fault.name, error: error.message.slice(0, 2_000) })}\n`);
          throw error;
        })
        .finally(() => clearTimeout(timer));
    });
  }

  /** One phase: the load, the fault, recovery, the retries and the checks; `at` names each step as it begins. */
  async function runPhase(fault: Fault, at: (step: string) => void): Promise<void> {
    const phaseStarted = Date.now();
    const load = startSteadyLoad({ ...p.addresses, accounts: p.accounts }, p.client, fault.name, RATE, records);
    try {
      at(`waiting for ${ACKNOWLEDGED_AROUND_FAULT} acknowledged orders before the fault`);
      await load.acknowledgedFromNow(ACKNOWLEDGED_AROUND_FAULT, 30_000, () => p.crashed());
      at("injecting the fault");
      await fault.inject(p);
      at(`waiting for ${ACKNOWLEDGED_AROUND_FAULT} acknowledged orders after the fault`);
      await load.acknowledgedFromNow(ACKNOWLEDGED_AROUND_FAULT, 60_000, () => p.crashed());
    } finally {
      at("waiting for the answers of the orders in flight");
      await load.stop();
    }
    const own = load.records;
    // What the engine applied is in PostgreSQL before the retries, so they find it.
    at("waiting for the projection to reach the engine");
    await projectionCaughtUp(p);
    at("retrying the refused orders");
    await retryRefused(p, own);
    at("checking the engine, PostgreSQL, Kafka and analytics");
    const result: CheckResult = await checkEverything(p, tap, records);
    const phase: PhaseFigures = {
      fault: fault.name,
      description: fault.description,
      faultsInjected: fault.count,
      ordersSent: own.length,
      acknowledged: own.filter((r) => r.first?.kind === "acknowledged").length,
      acknowledgedOnRetry: own.filter((r) => r.first?.kind === "refused" && r.retried?.kind === "acknowledged").length,
      refused: own.filter((r) => finalAnswer(r)?.kind === "refused").length,
      firstAnswers: answerCounts(own),
      retryAnswers: answerCounts(own.filter((r) => r.retried), (r) => r.retried),
      refusals: Object.fromEntries(
        own.flatMap((r) => [r.first, r.retried]).flatMap((a) => (a?.kind === "refused" ? [[`${a.code} ${a.reason}`.trim(), a.message] as const] : [])),
      ),
      lost: result.lost,
      duplicated: result.duplicated,
      kafkaCopies: result.kafkaCopies,
      engineSequence: result.engineSequence.toString(),
      seconds: (Date.now() - phaseStarted) / 1000,
    };
    figures.push(phase);
    // As it goes, for whoever watches a long run: vitest prints a test's output when it ends.
    await appendFile(`${faultRunDir}/progress.log`, `${JSON.stringify({ ...phase, problems: result.problems.slice(0, 20) })}\n`);
    expect(p.crashed()).toEqual([]);
    console.log(`fault ${fault.name}: ${JSON.stringify(phase)}`);
    // All on the first line, which is what the end of a long run shows; a fault that goes wrong for
    // every order says so once per order, so the first problems and how many there are.
    if (result.problems.length > 0 || result.lost > 0 || result.duplicated > 0) {
      const first = result.problems.slice(0, 10).join(" | ");
      throw new Error(`${fault.name}: ${result.lost} lost, ${result.duplicated} duplicated, ${result.problems.length} problems; the first: ${first}`);
    }
  }
});
