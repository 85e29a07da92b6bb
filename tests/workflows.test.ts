/**
 * The GitHub workflows do what the README promises people who host the project there: CI runs
 * exactly the README's test command (as .ci/run does), and the scheduled health check brings the
 * system up with the README's run command and checks it with the monitor.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

const root = fileURLToPath(new URL("..", import.meta.url));

interface Workflow {
  readonly on: Record<string, unknown>;
  readonly jobs: Record<string, { readonly "runs-on": string; readonly container?: string; readonly "timeout-minutes"?: number; readonly steps: readonly { readonly run?: string; readonly uses?: string }[] }>;
}
const workflow = async (name: string) => parseYaml(await readFile(join(root, ".github/workflows", name), "utf8")) as Workflow;

/** The README's two commands: the first line of its first code block runs the system, the second every test. */
async function readmeCommands(): Promise<{ run: string; test: string }> {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
  const [run, test] = block.split("\n").map((line) => line.replace(/#.*/, "").trim());
  return { run: run!, test: test! };
}

const runSteps = (w: Workflow, job: string) => w.jobs[job]!.steps.flatMap((s) => (s.run ? [s.run.trim()] : []));

describe("GitHub workflows", () => {
  it("CI runs the README's test command on Debian, on every push and pull request, as .ci/run does", async () => {
    const { test } = await readmeCommands();
    const ci = await workflow("ci.yml");
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push"]);
    expect(ci.jobs.test!.container).toMatch(/^debian:/);
    expect(runSteps(ci, "test").filter((r) => r.startsWith("bash scripts/"))).toEqual([test]);
    expect(await readFile(join(root, ".ci/run"), "utf8")).toContain(`\n${test}\n`);
    expect(ci.jobs.test!["timeout-minutes"]).toBeLessThanOrEqual(90);
  });

  it("the health check brings the system up with the README's run command on a schedule and fails on a critical monitor result", async () => {
    const { run } = await readmeCommands();
    const health = await workflow("health-check.yml");
    expect((health.on.schedule as { cron: string }[])[0]!.cron).toMatch(/^(\S+ ){4}\S+$/);
    const steps = runSteps(health, "health");
    expect(steps[1]).toBe(run);
    expect(steps[2]).toContain("bash scripts/monitor.sh");
    expect(runSteps(health, "audit")).toContain("bash scripts/audit.sh");
  });

  it("names every action by a released major version", async () => {
    for (const name of ["ci.yml", "health-check.yml"]) {
      const uses = Object.values((await workflow(name)).jobs).flatMap((job) => job.steps.flatMap((s) => (s.uses ? [s.uses] : [])));
      expect(uses.length).toBeGreaterThan(0);
      for (const action of uses) expect(action, `${name}: ${action}`).toMatch(/^actions\/[a-z-]+@v\d+$/);
    }
  });
});
