/**
 * Renders a `.cpuprofile` (`node --cpu-prof`, as the benchmarks write with PROF_DIR) as an SVG
 * flame graph, drawn by the `flamegraph` package: each box a function, its width the share of
 * the samples in it and its callees, idle time left out. The SVG is interactive in a browser
 * (hover for the figures, click to zoom) and readable as a picture.
 *
 *   npx tsx scripts/flamegraph.ts <profile.cpuprofile> <out.svg> [--title="order service, before"] [--from=S] [--to=S]
 *
 * --from and --to keep the samples of that window (seconds since the process started), e.g. the
 * load phase without the start-up; the busy share of each 5 s is printed to help choose it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { type CallTreeNode, type CpuProfile, busyTimeline, callTreeOf, profileWindow } from "./cpu-profile.js";

interface FlameGraphOptions {
  readonly titletext: string;
  readonly countname: string;
  readonly imagewidth: number;
  /** Frames narrower than this (pixels) are dropped, which keeps the file small. */
  readonly minwidth: number;
  readonly removenarrows: boolean;
}

const { fromCpuProfile } = createRequire(import.meta.url)("flamegraph") as {
  fromCpuProfile(profile: { head: CallTreeNode }, options: FlameGraphOptions): string;
};

const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const seconds = (name: string, fallback: number) => {
  const text = option(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name}: expected seconds, got "${text}"`);
  return value;
};
const [input, output] = args.filter((a) => !a.startsWith("--"));
if (!input || !output) {
  console.error('usage: npx tsx scripts/flamegraph.ts <profile.cpuprofile> <out.svg> [--title="..."] [--from=S] [--to=S]');
  process.exit(2);
}

const root = fileURLToPath(new URL("..", import.meta.url));
const whole = JSON.parse(readFileSync(input, "utf8")) as CpuProfile;
console.log(`busy share per 5 s: ${busyTimeline(whole, 5).map((share) => `${Math.round(share * 100)}%`).join(" ")}`);
const from = seconds("from", 0);
const to = Math.min(seconds("to", Infinity), (whole.endTime - whole.startTime) / 1e6);
const tree = callTreeOf(profileWindow(whole, from, to), root);
const span = from > 0 ? `${from}–${to.toFixed(0)} s of ${((whole.endTime - whole.startTime) / 1e6).toFixed(0)} s` : `${to.toFixed(0)} s`;
const busy = tree.samples / (tree.samples + tree.idleSamples);
const heading = `${option("title") ?? input}: ${span} profiled, ${(busy * 100).toFixed(0)}% busy (idle left out)`;
const svg = fromCpuProfile({ head: tree.head }, { titletext: heading, countname: "samples", imagewidth: 1200, minwidth: 3, removenarrows: true });
// Three fixes to the package's template, which is made for embedding in its own web page: the
// title is commented out (it says what the graph is of); the mouse handlers hold a bare "&&",
// which no XML parser accepts in a standalone .svg (each box's <title> shows its figures on
// hover anyway); and the data-* attributes for that page's viewer are 40% of the file.
const standalone = svg
  .replace(/<!--(<text[^>]*>[^<]*<\/text>)-->/, "$1")
  .replace(/ onmouse(?:over|out)="[^"]*"/g, "")
  .replace(/ data-(?:search|funcname|x|width|height)="[^"]*"/g, "");
writeFileSync(output, standalone);
console.log(`${output}: ${tree.samples} samples`);
