import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { loadProfile } from "./profiles.js";
import { root } from "./processes.js";
import { scenarios } from "./scenarios/index.js";

describe("bench/profiles.json", () => {
  it("gives every profile settings for every scenario, within the scenarios' bounds", async () => {
    const names = Object.keys(JSON.parse(await readFile(`${root}bench/profiles.json`, "utf8")) as object);
    expect(names).toEqual(expect.arrayContaining(["smoke", "quick", "standard"]));
    for (const name of names) {
      const profile = await loadProfile(name);
      for (const scenario of scenarios) {
        const parsed = scenario.settings.safeParse(profile.scenarios[scenario.name]);
        expect({ profile: name, scenario: scenario.name, error: parsed.error?.message }).toEqual({ profile: name, scenario: scenario.name, error: undefined });
      }
      expect(Object.keys(profile.scenarios).sort()).toEqual(scenarios.map((s) => s.name).sort());
    }
  });

  it("names the profiles there are when asked for another", async () => {
    await expect(loadProfile("forever")).rejects.toThrow('no profile "forever"');
  });
});
