// Prints every failed vitest test of the JSON reports given, with the start of its error, so the
// end of a long test run names what failed (CI keeps only the tail of the output).
import { readFileSync } from "node:fs";
import { relative } from "node:path";

// Short: CI keeps only so much of the tail, and the first lines of an error say the most.
const MESSAGE_LINES = 6;
const LINE_CHARACTERS = 600;
const firstLines = (text) =>
  text
    .split("\n")
    .slice(0, MESSAGE_LINES)
    .map((line) => `      ${line.length > LINE_CHARACTERS ? `${line.slice(0, LINE_CHARACTERS)}...` : line}`)
    .join("\n");

for (const path of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(path, "utf8"));
  for (const file of report.testResults ?? []) {
    const name = relative(process.cwd(), file.name);
    const failed = (file.assertionResults ?? []).filter((test) => test.status === "failed");
    // A file that failed to load, or whose hooks failed, has a message and maybe no failed test.
    if (failed.length === 0 && file.status === "failed") console.log(`  FAIL ${name}\n${firstLines(file.message ?? "")}`);
    for (const test of failed) console.log(`  FAIL ${name} > ${test.fullName}\n${firstLines((test.failureMessages ?? []).join("\n"))}`);
  }
}
