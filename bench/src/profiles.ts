/**
 * Profiles (bench/profiles.json): per scenario, the rates, durations and concurrency of one run.
 * `smoke` is the integration test's (about a second per phase), `quick` is `make bench`'s, the
 * others are for `make load PROFILE=...`. Each scenario checks its own entry against its bounds.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { root } from "./processes.js";

const profilesSchema = z.record(z.string(), z.strictObject({ description: z.string(), scenarios: z.record(z.string(), z.unknown()) }));
export type Profile = z.infer<typeof profilesSchema>[string];

export async function loadProfile(name: string, file = `${root}bench/profiles.json`): Promise<Profile> {
  const profiles = profilesSchema.parse(JSON.parse(await readFile(file, "utf8")));
  const profile = profiles[name];
  if (!profile) throw new Error(`no profile "${name}" in ${file}; there are: ${Object.keys(profiles).join(", ")}`);
  return profile;
}
