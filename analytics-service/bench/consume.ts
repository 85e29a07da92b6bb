/**
 * The analytics consumer's throughput and fill-to-figure delay (see bench/consumption.ts for the
 * phases), printed.
 *
 *   node --conditions=@hft/source --import tsx analytics-service/bench/consume.ts --fills=100000 --rate=2000 --paced-seconds=10
 */
import { parseArgs } from "node:util";
import { measureConsumption } from "./consumption.js";

const { values: args } = parseArgs({
  options: {
    fills: { type: "string", default: "100000" },
    rate: { type: "string", default: "2000" },
    "paced-seconds": { type: "string", default: "10" },
    accounts: { type: "string", default: "64" },
  },
});
const options = { fills: Number(args.fills), rate: Number(args.rate), pacedSeconds: Number(args["paced-seconds"]), accounts: Number(args.accounts) };
for (const [name, value, max] of [["fills", options.fills, 2_000_000], ["rate", options.rate, 100_000], ["paced-seconds", options.pacedSeconds, 120], ["accounts", options.accounts, 10_000]] as const) {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    console.error(`--${name} must be a whole number from 1 to ${max}, got ${value}`);
    process.exit(2);
  }
}

/** A line of the report on stdout. */
const print = (line: string) => process.stdout.write(`${line}\n`);
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const ms = (value: number) => `${value.toFixed(1)} ms`;

const { paced } = await measureConsumption({ ...options, log: print }, async () => undefined);
const delays = [...paced.delaysMs].sort((a, b) => a - b);
const lags = [...paced.lags].sort((a, b) => a - b);
print(`paced: ${paced.fills} fills at ${Math.round(paced.fills / paced.producedSeconds)} fills/s for ${paced.producedSeconds.toFixed(1)} s`);
print(`fill -> figure delay: p50 ${ms(quantile(delays, 0.5))}, p90 ${ms(quantile(delays, 0.9))}, p99 ${ms(quantile(delays, 0.99))}, max ${ms(delays[delays.length - 1] ?? Number.NaN)} over ${delays.length} fills`);
print(`lag while paced: p50 ${quantile(lags, 0.5)}, max ${lags[lags.length - 1]} messages over ${lags.length} samples`);
process.exit(0);
