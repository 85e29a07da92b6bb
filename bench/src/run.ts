/**
 * The scenario runner (`make bench`, `make load PROFILE=...`): runs the scenarios of a profile of
 * bench/profiles.json one after another and writes one result file per scenario under
 * `.run/bench/<timestamp>/` (or --out). Every load is bounded by the profile and goes to loopback
 * servers the harness starts itself; they are stopped when their scenario ends, on failure too.
 *
 *   node --conditions=@hft/source --import tsx bench/src/run.ts [--profile=quick] [--only=a,b] [--out=DIR]
 *
 * Exit status: 0 when every scenario wrote its result, 1 when one failed (the others still run), 2
 * on bad arguments.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { currentCommit, describeMachine, finishMachine } from "./machine.js";
import { type Platform, startPlatform } from "./platform.js";
import { loadProfile } from "./profiles.js";
import { root } from "./processes.js";
import { type ScenarioResult, pairWithCeilings, scenarioResultSchema } from "./result.js";
import { type Scenario, type ScenarioContext } from "./scenario.js";
import { scenarios } from "./scenarios/index.js";

// kafkajs warns on stdout about a default that changed in 2.0; the summary lines stay readable.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function usage(problem: string): never {
  console.error(`${problem}\nusage: run.ts [--profile=NAME] [--only=SCENARIO,...] [--out=DIR]; scenarios: ${scenarios.map((s) => s.name).join(", ")}`);
  process.exit(2);
}

const { values: args } = parseArgs({ options: { profile: { type: "string", default: "quick" }, only: { type: "string" }, out: { type: "string" } }, strict: false });
const only = typeof args.only === "string" ? args.only.split(",").filter(Boolean) : undefined;
for (const name of only ?? []) if (!scenarios.some((s) => s.name === name)) usage(`unknown scenario "${name}"`);
const profileName = String(args.profile);
let profile;
try {
  profile = await loadProfile(profileName);
} catch (error) {
  usage((error as Error).message);
}
const selected = scenarios.filter((s) => (only ? only.includes(s.name) : true));
const missing = selected.filter((s) => !(s.name in profile.scenarios));
if (missing.length > 0) usage(`profile "${profileName}" has no settings for ${missing.map((s) => s.name).join(", ")}`);
const settingsOf = new Map<string, unknown>();
for (const scenario of selected) {
  const parsed = scenario.settings.safeParse(profile.scenarios[scenario.name]);
  if (!parsed.success) usage(`profile "${profileName}", ${scenario.name}: ${parsed.error.message}`);
  settingsOf.set(scenario.name, parsed.data);
}

const out = typeof args.out === "string" ? args.out : join(root, ".run", "bench", new Date().toISOString().replace(/[:.]/g, "-"));
await mkdir(out, { recursive: true });
const commit = currentCommit(root);

// The one-shard platform is shared by the scenarios that use it and stopped after the last.
let platform: Promise<Platform> | undefined;
const stopPlatform = async () => {
  const started = platform;
  platform = undefined;
  if (started) await (await started.catch(() => undefined))?.stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void stopPlatform().finally(() => process.exit(1));
  });
}

async function runScenario(scenario: Scenario): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const scratch = await mkdtemp(join(tmpdir(), `hft-bench-${scenario.name}-`));
  const deferred: (() => Promise<unknown>)[] = [];
  const context: ScenarioContext = {
    log: (line) => log(`${scenario.name}: ${line}`),
    defer: (step) => void deferred.push(step),
    platform: () => (platform ??= startPlatform(1)),
    scratch,
  };
  try {
    const measured = await scenario.run(settingsOf.get(scenario.name), context);
    return scenarioResultSchema.parse({
      schema: 1,
      scenario: scenario.name,
      description: scenario.description,
      profile: profileName,
      startedAt,
      commit,
      machine: finishMachine(machine),
      results: pairWithCeilings(measured),
    });
  } finally {
    for (const step of deferred.reverse()) await step().catch((error: unknown) => log(`${scenario.name}: cleanup: ${(error as Error).message}`));
    await rm(scratch, { recursive: true, force: true });
  }
}

const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString("en") : v.toFixed(1));
let failed = 0;
log(`profile ${profileName}, ${selected.length} scenario(s), results in ${out}`);
for (const scenario of selected) {
  const began = Date.now();
  try {
    const result = await runScenario(scenario);
    await writeFile(join(out, `${scenario.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    for (const m of result.results) {
      const rate = m.offeredRate === null ? "closed" : `open ${fmt(m.offeredRate)}/s`;
      const ratio = m.ratio ? `  ratio rate ${m.ratio.rate.toFixed(2)} p99 ${m.ratio.p99.toFixed(1)}x` : "";
      process.stdout.write(`${scenario.name.padEnd(18)} ${m.target.padEnd(36)} ${rate.padEnd(16)} ${fmt(m.achievedRate).padStart(11)} ${m.unit}/s  p50 ${fmt(m.latencyUs.p50)} µs  p99 ${fmt(m.latencyUs.p99)} µs  errors ${m.errors}${ratio}\n`);
    }
    log(`${scenario.name}: done in ${((Date.now() - began) / 1000).toFixed(0)} s`);
  } catch (error) {
    failed++;
    log(`${scenario.name}: FAILED: ${(error as Error).stack ?? error}`);
  }
}
await stopPlatform();
log(`${selected.length - failed} of ${selected.length} scenarios written to ${out}`);
process.exit(failed === 0 ? 0 : 1);
