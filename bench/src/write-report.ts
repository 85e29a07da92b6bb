/**
 * The report step: reads the result files of several runs and rewrites the generated section of
 * docs/BENCHMARKS.md (between its markers; the rest of the page is kept) and the SVG charts under
 * docs/bench/.
 *
 *   node --conditions=@hft/source --import tsx bench/src/write-report.ts [--last=3 | RUN_DIR...] [--page=docs/BENCHMARKS.md] [--charts=docs/bench]
 *
 * Without directories it takes the `--last` most recent runs under .run/bench.
 */
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { root } from "./processes.js";
import { aggregate, chartTargets, renderChart, renderSection, replaceSection } from "./report.js";
import { type ScenarioResult, scenarioResultSchema } from "./result.js";

const { values: args, positionals } = parseArgs({
  options: { last: { type: "string", default: "3" }, page: { type: "string", default: join(root, "docs", "BENCHMARKS.md") }, charts: { type: "string", default: join(root, "docs", "bench") } },
  allowPositionals: true,
});

async function latestRuns(count: number): Promise<string[]> {
  const base = join(root, ".run", "bench");
  const names = (await readdir(base, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const withResults: string[] = [];
  for (const name of names.reverse()) {
    if ((await readdir(join(base, name))).some((f) => f.endsWith(".json"))) withResults.push(join(base, name));
    if (withResults.length === count) break;
  }
  return withResults.reverse();
}

const last = Number(args.last);
if (!Number.isInteger(last) || last < 1) {
  console.error(`--last must be a whole number >= 1, got ${args.last}`);
  process.exit(2);
}
const dirs = positionals.length > 0 ? positionals.map((d) => resolve(d)) : await latestRuns(last);
if (dirs.length === 0) {
  console.error("no runs with results under .run/bench: run `make bench` first");
  process.exit(1);
}
const results: ScenarioResult[] = [];
for (const dir of dirs) {
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".json")).sort()) {
    const parsed = scenarioResultSchema.safeParse(JSON.parse(await readFile(join(dir, file), "utf8")));
    if (!parsed.success) throw new Error(`${join(dir, file)} is not a result file: ${parsed.error.message}`);
    results.push(parsed.data);
  }
}

// Scenarios in the order a run takes them.
results.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
const page = String(args.page);
const chartDir = String(args.charts);
await mkdir(chartDir, { recursive: true });
const all = aggregate(results);
const charts = new Map<string, string>();
for (const [scenario, targets] of Object.entries(chartTargets)) {
  const svg = await renderChart(scenario, all, targets);
  if (!svg) continue;
  const file = join(chartDir, `${scenario}.svg`);
  await writeFile(file, svg);
  charts.set(scenario, relative(dirname(page), file));
}
await writeFile(page, replaceSection(await readFile(page, "utf8"), renderSection({ results, runs: dirs.length, charts })));
process.stdout.write(`${page}: results of ${dirs.length} run(s) (${results.length} scenario files); charts: ${[...charts.values()].join(", ") || "none"}\n`);
