/**
 * The results page from several runs: the median per measurement (scenario, target, mode,
 * offered rate) over the runs, written between marker comments of docs/BENCHMARKS.md so the
 * hand-written analysis around them stays, with a table of the issue's goals and SVG charts of
 * latency percentiles against offered load (vega-lite, rendered to SVG in Node).
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import type { LatencyUs, Measurement, ScenarioResult } from "./result.js";
import { HALF_OF_PEAK } from "./scenarios/order-stream.js";

export const BEGIN = "<!-- bench:results:begin -->";
export const END = "<!-- bench:results:end -->";

export interface Aggregate {
  readonly scenario: string;
  readonly target: string;
  readonly role: Measurement["role"];
  readonly mode: Measurement["mode"];
  readonly unit: string;
  readonly offeredRate: number | null;
  readonly runs: number;
  readonly achievedRate: number;
  readonly latencyUs: LatencyUs;
  readonly errors: number;
  readonly ratio: { readonly rate: number; readonly p99: number } | null;
  readonly settings: Measurement["settings"];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// A phase named in the settings (one whose offered rate is derived in the run, such as half of the
// closed-loop rate) is matched across runs by its name, not by its rate.
const keyOf = (scenario: string, m: Measurement) => `${scenario}\u0000${m.target}\u0000${m.mode}\u0000${typeof m.settings.phase === "string" ? m.settings.phase : (m.offeredRate ?? "")}`;

/** The median of each measurement over the runs it appears in (errors: the median too), in the order first seen. */
export function aggregate(results: readonly ScenarioResult[]): Aggregate[] {
  const groups = new Map<string, { scenario: string; list: Measurement[] }>();
  for (const result of results) {
    for (const m of result.results) {
      const key = keyOf(result.scenario, m);
      const group = groups.get(key) ?? { scenario: result.scenario, list: [] };
      group.list.push(m);
      groups.set(key, group);
    }
  }
  return [...groups.values()].map(({ scenario, list }) => {
    const first = list[0]!;
    const of = (pick: (m: Measurement) => number) => median(list.map(pick));
    const ratios = list.flatMap((m) => (m.ratio ? [m.ratio] : []));
    return {
      scenario,
      target: first.target,
      role: first.role,
      mode: first.mode,
      unit: first.unit,
      offeredRate: first.offeredRate === null ? null : of((m) => m.offeredRate!),
      runs: list.length,
      achievedRate: of((m) => m.achievedRate),
      latencyUs: { p50: of((m) => m.latencyUs.p50), p90: of((m) => m.latencyUs.p90), p99: of((m) => m.latencyUs.p99), p999: of((m) => m.latencyUs.p999), max: of((m) => m.latencyUs.max) },
      errors: of((m) => m.errors),
      ratio: ratios.length === 0 ? null : { rate: median(ratios.map((r) => r.rate)), p99: median(ratios.map((r) => r.p99)) },
      settings: first.settings,
    };
  });
}

/** "0.4 µs", "812 µs", "3.41 ms", "1.2 s". */
export function formatUs(us: number): string {
  if (us < 10) return `${us.toFixed(1)} µs`;
  if (us < 1_000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

export function formatRate(rate: number): string {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M`;
  if (rate >= 10_000) return `${(rate / 1000).toFixed(1)} k`;
  return Math.round(rate).toLocaleString("en");
}

interface Goal {
  readonly goal: string;
  readonly measured: string;
  /** measured ÷ bound for "at least" goals, bound ÷ measured for "under" goals: >= 1 is met. */
  readonly factor: number | undefined;
}

function find(all: readonly Aggregate[], scenario: string, target: string, mode: "open" | "closed", offeredRate: number | null = null) {
  return all.find((a) => a.scenario === scenario && a.target === target && a.mode === mode && (mode === "closed" || a.offeredRate === offeredRate));
}

/** Issue 10's goals against the medians; a goal whose scenario was not run says so. */
export function goals(all: readonly Aggregate[]): Goal[] {
  const out: Goal[] = [];
  const atLeast = (goal: string, value: number | undefined, bound: number, measured: (v: number) => string) =>
    out.push({ goal, measured: value === undefined ? "not run" : measured(value), factor: value === undefined ? undefined : value / bound });
  const under = (goal: string, value: number | undefined, bound: number, measured: (v: number) => string) =>
    out.push({ goal, measured: value === undefined ? "not run" : measured(value), factor: value === undefined ? undefined : bound / value });

  const memory = find(all, "engine-in-process", "engine, in memory", "closed");
  atLeast("engine in process >= 5 M commands/s", memory?.achievedRate, 5e6, (v) => `${formatRate(v)} commands/s`);
  under("engine in process, median < 200 ns", memory?.latencyUs.p50, 0.2, (v) => `p50 ${Math.round(v * 1000)} ns`);
  const journaled = find(all, "engine-in-process", "engine, journaled (durable)", "closed");
  atLeast("engine journaled >= 1 M commands/s", journaled?.achievedRate, 1e6, (v) => `${formatRate(v)} commands/s`);

  const streaming = find(all, "order-stream", "order service", "closed");
  atLeast("order service streaming >= 50,000 orders/s (durable, end to end)", streaming?.achievedRate, 50_000, (v) => `${formatRate(v)} orders/s`);
  // p99 at half the streaming rate: the phase run at half of each run's closed-loop rate.
  const half = all.find((a) => a.scenario === "order-stream" && a.target === "order service" && a.settings.phase === HALF_OF_PEAK);
  under("order service streaming, p99 < 1 ms at half that rate", half?.latencyUs.p99, 1_000, (v) => `p99 ${formatUs(v)} at ${formatRate(half!.offeredRate!)}/s (max ${formatRate(streaming!.achievedRate)}/s)`);
  const unary = find(all, "order-unary", "order service", "closed");
  atLeast("order service unary >= 70% of bare grpc-js", unary?.ratio?.rate, 0.7, (v) => `${Math.round(v * 100)}% (${formatRate(unary!.achievedRate)} of ${formatRate(unary!.achievedRate / v)} orders/s)`);

  const rest = find(all, "gateway", "gateway → bare backend, REST", "closed");
  const connectNode = find(all, "gateway", "bare connect-node, Connect", "closed");
  atLeast("gateway REST >= 70% of bare connect-node", rest && connectNode ? rest.achievedRate / connectNode.achievedRate : undefined, 0.7, (v) => `${Math.round(v * 100)}% (${formatRate(rest!.achievedRate)} of ${formatRate(connectNode!.achievedRate)} req/s; ${Math.round(rest!.ratio!.rate * 100)}% of bare Node HTTP)`);

  const fanout = all.filter((a) => a.scenario === "ws-fanout" && a.target === "gateway /ws").sort((a, b) => b.offeredRate! - a.offeredRate!);
  const worst = fanout.length === 0 ? undefined : fanout.reduce((w, a) => (a.latencyUs.p99 > w.latencyUs.p99 ? a : w));
  under(
    `WebSocket fan-out to ${fanout[0]?.settings.clients ?? 1000} clients, p99 delivery < 5 ms`,
    worst?.latencyUs.p99,
    5_000,
    () => fanout.map((a) => `p99 ${formatUs(a.latencyUs.p99)} at ${a.settings.tradesPerSecond} trades/s`).join("; "),
  );
  return out;
}

const verdict = (factor: number | undefined) => (factor === undefined ? "—" : factor >= 1 ? `met (${factor.toFixed(2)}×)` : `**not met** (${factor.toFixed(2)}× the goal)`);

export interface PageInput {
  readonly results: readonly ScenarioResult[];
  /** How many runs (result directories) were given. */
  readonly runs: number;
  /** Scenario name → chart file, relative to the page. */
  readonly charts: ReadonlyMap<string, string>;
}

/** The generated section, markers included. */
export function renderSection({ results, runs, charts }: PageInput): string {
  const all = aggregate(results);
  const first = results[0]!;
  const commits = [...new Set(results.map((r) => r.commit))];
  const profiles = [...new Set(results.map((r) => r.profile))];
  const days = [...new Set(results.map((r) => r.startedAt.slice(0, 10)))].sort();
  const loads = results.map((r) => r.machine.loadAverageStart[0]);
  const m = first.machine;
  const lines = [
    BEGIN,
    `<!-- generated by \`bash scripts/bench.sh report\` from ${runs} run(s) in .run/bench; edit the text outside the markers -->`,
    "",
    `## Results: ${days.join(", ")}, commit${commits.length > 1 ? "s" : ""} ${commits.map((c) => `\`${c}\``).join(", ")}`,
    "",
    `Median of ${runs} run${runs > 1 ? "s" : ""} of profile ${profiles.map((p) => `\`${p}\``).join(", ")}, each scenario beside its ceiling in the same run. Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}; load average (1 min) ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} when the scenarios started (the machine was shared). Rates per second; latency percentiles nearest-rank; "× ceiling": rate as a share of the ceiling's in the same run, p99 as a multiple of the ceiling's.`,
    "",
    "### Against the goals",
    "",
    "| goal | measured (median) | verdict |",
    "| --- | --- | --- |",
    ...goals(all).map((g) => `| ${g.goal} | ${g.measured} | ${verdict(g.factor)} |`),
  ];
  for (const scenario of [...new Set(all.map((a) => a.scenario))]) {
    const description = results.find((r) => r.scenario === scenario)!.description;
    lines.push("", `### ${scenario}`, "", `${description}.`, "");
    lines.push("| target | load | achieved | p50 | p90 | p99 | p99.9 | max | errors | × ceiling rate | × ceiling p99 |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const a of all.filter((x) => x.scenario === scenario)) {
      const load = a.offeredRate === null ? "closed loop" : `${formatRate(a.offeredRate)} ${a.unit}/s`;
      const l = a.latencyUs;
      const ratio = a.ratio ? [`${a.ratio.rate.toFixed(2)}`, `${a.ratio.p99.toFixed(1)}×`] : ["—", "—"];
      lines.push(`| ${a.role === "ceiling" ? `*${a.target}*` : a.target} | ${load} | ${formatRate(a.achievedRate)} ${a.unit}/s | ${formatUs(l.p50)} | ${formatUs(l.p90)} | ${formatUs(l.p99)} | ${formatUs(l.p999)} | ${formatUs(l.max)} | ${a.errors} | ${ratio[0]} | ${ratio[1]} |`);
    }
    const chart = charts.get(scenario);
    if (chart) lines.push("", `![${scenario}: latency percentiles against offered load](${chart})`);
  }
  lines.push("", END);
  return lines.join("\n");
}

/** The page with its generated section replaced (or added after the first heading when it has none yet). */
export function replaceSection(page: string, section: string): string {
  const begin = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  if (begin >= 0 && end > begin) return page.slice(0, begin) + section + page.slice(end + END.length);
  if (begin >= 0 || end >= 0) throw new Error(`the page has one of the markers ${BEGIN} / ${END} without the other`);
  throw new Error(`the page has no ${BEGIN} ... ${END} markers to write between`);
}

/** The main scenarios' charts: which targets of each are drawn. */
export const chartTargets: Readonly<Record<string, readonly string[]>> = {
  "order-stream": ["order service", "bare grpc-js echo"],
  "order-unary": ["order service", "bare grpc-js echo"],
  gateway: ["gateway → bare backend, REST", "bare Node HTTP, REST JSON"],
  "engine-grpc": ["hft-engine", "bare C++ gRPC echo"],
};

/** Latency percentiles (log scale) against offered load for the open-loop medians of `targets`, as SVG. */
export async function renderChart(scenario: string, all: readonly Aggregate[], targets: readonly string[]): Promise<string | undefined> {
  const points = all
    .filter((a) => a.scenario === scenario && a.mode === "open" && targets.includes(a.target))
    .flatMap((a) =>
      (["p50", "p90", "p99", "p999"] as const).map((p) => ({ target: a.target, percentile: p === "p999" ? "p99.9" : p, offered: a.offeredRate!, latencyMs: Math.max(a.latencyUs[p], 1) / 1000 })),
    );
  if (points.length === 0) return undefined;
  const unit = all.find((a) => a.scenario === scenario)!.unit;
  const spec = vl.compile({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: `${scenario}: latency against offered load`, subtitle: `open loop, median of runs; solid: ${targets[0]}, dashed: ${targets[1]} (ceiling)` },
    width: 560,
    height: 300,
    data: { values: points },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "offered", type: "quantitative", scale: { type: "log" }, title: `offered load (${unit}/s)` },
      y: { field: "latencyMs", type: "quantitative", scale: { type: "log" }, title: "latency (ms, log scale)" },
      color: { field: "percentile", type: "nominal", sort: ["p50", "p90", "p99", "p99.9"], title: "percentile" },
      strokeDash: { field: "target", type: "nominal", sort: [...targets], legend: null },
      detail: { field: "target" },
    },
  }).spec;
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return `${svg}\n`;
}
