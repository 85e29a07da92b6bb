/**
 * Property-based fuzzing of every REST route from the gateway's own OpenAPI document, with
 * schemathesis (installed by scripts/install-tools.sh) against a gateway with real backends: valid
 * and invalid values at the schema's boundaries, then random ones, then sequences that use what
 * earlier answers returned. No answer may be a 5xx, and every answer, refusals included, must
 * match the document (a refusal is the Error object: code, message, details). A fixed seed and a
 * bounded number of examples per operation make the run repeatable; HFT_REST_FUZZ_EXAMPLES and
 * HFT_REST_FUZZ_SEED make another. The JUnit report lands in .run/test-results/schemathesis/.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, startPlatform } from "./platform.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const schemathesis = `${root}.deps/bin/schemathesis`;
const reportDir = `${root}.run/test-results/schemathesis`;
const examples = process.env.HFT_REST_FUZZ_EXAMPLES ?? "10";
const seed = process.env.HFT_REST_FUZZ_SEED ?? "20240611";
// The whole run's bound: past it schemathesis is killed and the test fails.
const runTimeoutMs = 150_000;

let platform: Platform;
let url: string;
let token: string;

beforeAll(async () => {
  platform = await startPlatform();
  // The run sends hundreds of requests from one identity: no rate limit in the way.
  url = (await platform.startGateway({ GATEWAY_RATE_LIMIT: "1000000" })).url;
  token = await platform.token(platform.accounts.alice, "trader");
});
afterAll(async () => platform?.stop());

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

function runSchemathesis(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    // In the report folder, so anything it writes besides the reports stays with them.
    const child = spawn(schemathesis, args, { cwd: reportDir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), runTimeoutMs);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describe("REST API under schemathesis", () => {
  it(
    "answers every generated request without a 5xx and as the OpenAPI document says",
    async () => {
      expect(existsSync(schemathesis), `${schemathesis} is missing: run scripts/install-tools.sh`).toBe(true);
      await mkdir(reportDir, { recursive: true });
      const run = await runSchemathesis([
        "run",
        `${url}/openapi.json`,
        "--url",
        url,
        "--header",
        `Authorization: Bearer ${token}`,
        "--checks",
        "not_a_server_error,response_schema_conformance",
        // The streams are live: an answer never ends, so a request can only time out.
        "--exclude-path-regex",
        "^/api/v1/streams/",
        "--phases",
        "coverage,fuzzing,stateful",
        "--max-examples",
        examples,
        "--seed",
        seed,
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        `${reportDir}/junit.xml`,
      ]);
      // "Test cases: 650 generated, 650 passed" (or "..., 1 found 1 unique failure").
      const summary = /Test cases:\s*\n\s*(.+)/.exec(run.output)?.[1] ?? "no summary";
      console.log(`schemathesis: ${summary} (seed ${seed}, ${examples} examples per operation)`);
      expect({ code: run.code, signal: run.signal }, run.output).toEqual({ code: 0, signal: null });
      expect(Number(/^(\d+) generated/.exec(summary)?.[1] ?? 0), run.output).toBeGreaterThan(0);
      // The platform still answers once the run is over.
      const after = await fetch(`${url}/api/v1/instruments`, { headers: { authorization: `Bearer ${token}` } });
      expect(after.status).toBe(200);
    },
    runTimeoutMs + 30_000,
  );
});
