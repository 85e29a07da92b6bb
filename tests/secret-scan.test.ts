/**
 * The secret scan (scripts/secret-scan.sh with .gitleaks.toml) finds a credential committed to a
 * repository, also one removed again in a later commit, and lets through only the exceptions the
 * configuration names: the tests' own signing keys.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);
// Assembled at run time, so this file holds no credential of its own for the scan to find.
const accessKeyId = ["AKIA", "Q3V7ZK2M5TXW4RJP"].join("");

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A git repository whose commits write each of `files` in turn, the last one left as it is. */
async function repository(commits: readonly Record<string, string>[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "hft-secret-scan-"));
  dirs.push(dir);
  const git = (...args: string[]) => run("git", ["-C", dir, "-c", "user.name=test", "-c", "user.email=test@example.invalid", ...args]);
  await git("init", "-q");
  for (const [i, files] of commits.entries()) {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await git("add", "-A");
    await git("commit", "-q", "-m", `commit ${i}`);
  }
  return dir;
}

async function scan(dir: string): Promise<{ code: number; findings: { File: string; RuleID: string; Commit: string }[] }> {
  const report = join(dir, "..", `${dir.split("/").pop()}-report.json`);
  dirs.push(report);
  const code = await run("bash", [join(root, "scripts/secret-scan.sh"), dir], { env: { ...process.env, SECRET_SCAN_REPORT: report } }).then(
    () => 0,
    (error: { code?: number }) => error.code ?? -1,
  );
  return { code, findings: JSON.parse(await readFile(report, "utf8")) as { File: string; RuleID: string; Commit: string }[] };
}

describe("secret scan", () => {
  it("finds a credential in the history even after a later commit removed it", async () => {
    const dir = await repository([{ "deploy.env": `AWS_ACCESS_KEY_ID=${accessKeyId}\n` }, { "deploy.env": "AWS_ACCESS_KEY_ID=\n" }]);
    const { code, findings } = await scan(dir);
    expect(code).toBe(1);
    expect(findings.map((f) => [f.File, f.RuleID])).toEqual([["deploy.env", "aws-access-token"]]);
  });

  it("lets the tests' own signing keys through, and nothing else beside them", async () => {
    const testKey = 'const secret = "tracing-test-secret-at-least-32-bytes-long";\n';
    expect((await scan(await repository([{ "a.test.ts": testKey }]))).code).toBe(0);
    const { code, findings } = await scan(await repository([{ "a.test.ts": testKey, "b.ts": `const id = "${accessKeyId}";\n` }]));
    expect([code, findings.map((f) => f.File)]).toEqual([1, ["b.ts"]]);
  });
});
