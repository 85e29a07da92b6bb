import { describe, expect, it } from "vitest";
import { nowUs, rfc3339Now, rfc3339Us } from "./wall-clock.js";

describe("rfc3339Us", () => {
  it("keeps the fraction down to the microsecond", () => {
    expect(rfc3339Us("2026-12-02T01:06:16.123456789Z")).toBe(Date.parse("2026-12-02T01:06:16Z") * 1000 + 123_456);
    expect(rfc3339Us("2026-12-02T01:06:16.5Z")).toBe(Date.parse("2026-12-02T01:06:16Z") * 1000 + 500_000);
    expect(rfc3339Us("2026-12-02T01:06:16Z")).toBe(Date.parse("2026-12-02T01:06:16Z") * 1000);
  });
  it("reads back what rfc3339Now writes", () => {
    const before = nowUs();
    const read = rfc3339Us(rfc3339Now());
    expect(read).toBeGreaterThanOrEqual(Math.floor(before));
    expect(read - before).toBeLessThan(1_000_000);
  });
  it("refuses a time with an offset", () => {
    expect(() => rfc3339Us("2026-12-02T01:06:16+01:00")).toThrow("not an RFC 3339 UTC time");
  });
});
