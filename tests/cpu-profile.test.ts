import { describe, expect, it } from "vitest";
import { type CpuProfile, busyTimeline, callTreeOf, profileWindow, shortUrl } from "../scripts/cpu-profile.js";

const frame = (functionName: string, url = "", lineNumber = 0) => ({ functionName, url, lineNumber });

describe("callTreeOf", () => {
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 1_000_000,
    nodes: [
      { id: 1, callFrame: frame("(root)"), hitCount: 0, children: [2, 3, 5] },
      { id: 2, callFrame: frame("(idle)"), hitCount: 40 },
      { id: 3, callFrame: frame("place", "file:///repo/order-service/src/order-desk.ts", 9), hitCount: 5, children: [4] },
      { id: 4, callFrame: frame("", "file:///repo/node_modules/pg/lib/client.js", 99), hitCount: 10 },
      { id: 5, callFrame: frame("(garbage collector)"), hitCount: 3 },
    ],
  };

  it("nests the nodes from the root, idle time left out and counted apart", () => {
    const tree = callTreeOf(profile, "/repo");
    expect(tree.samples).toBe(18);
    expect(tree.idleSamples).toBe(40);
    expect(tree.head.children.map((c) => c.functionName)).toEqual(["place", "(garbage collector)"]);
    expect(tree.head.children[0]).toEqual({
      functionName: "place",
      url: "order-service/src/order-desk.ts",
      lineNumber: 10,
      hitCount: 5,
      children: [{ functionName: "(anonymous)", url: "pg/lib/client.js", lineNumber: 100, hitCount: 10, children: [] }],
    });
  });

  it("refuses a child id that is not in the profile", () => {
    expect(() => callTreeOf({ ...profile, nodes: [{ id: 1, callFrame: frame("(root)"), children: [7] }] }, "/repo")).toThrow("child 7");
  });
});

describe("shortUrl", () => {
  it("keeps node's own modules and other URLs as they are", () => {
    expect(shortUrl("node:internal/streams/writable", "/repo")).toBe("node:internal/streams/writable");
    expect(shortUrl("file:///elsewhere/x.js", "/repo/")).toBe("file:///elsewhere/x.js");
  });
});

describe("profileWindow", () => {
  // Samples at 0.5 s (idle), 1.5 s and 2.5 s (work), 3.5 s (idle).
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 4_000_000,
    nodes: [
      { id: 1, callFrame: frame("(root)"), children: [2, 3] },
      { id: 2, callFrame: frame("(idle)"), hitCount: 2 },
      { id: 3, callFrame: frame("work", "file:///repo/a.ts"), hitCount: 2 },
    ],
    samples: [2, 3, 3, 2],
    timeDeltas: [500_000, 1_000_000, 1_000_000, 1_000_000],
  };

  it("recounts the hits of the samples in the window", () => {
    const window = profileWindow(profile, 1, 3);
    expect(window.nodes.map((n) => n.hitCount)).toEqual([0, 0, 2]);
    expect([window.startTime, window.endTime]).toEqual([1_000_000, 3_000_000]);
  });

  it("tells the busy share of each step", () => {
    expect(busyTimeline(profile, 2)).toEqual([0.5, 0.5]);
  });
});
