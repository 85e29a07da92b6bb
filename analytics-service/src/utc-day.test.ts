import { describe, expect, it } from "vitest";
import { utcDay, windowDays } from "./utc-day.js";

describe("utcDay", () => {
  it("puts the last millisecond before midnight UTC and midnight itself on different days", () => {
    expect(utcDay(new Date("2026-03-31T23:59:59.999Z"))).toBe("2026-03-31");
    expect(utcDay(new Date("2026-04-01T00:00:00.000Z"))).toBe("2026-04-01");
  });

  it("uses UTC, not the offset the time was written in", () => {
    expect(utcDay(new Date("2026-04-01T01:30:00+02:00"))).toBe("2026-03-31");
  });

  it("refuses an invalid date", () => {
    expect(() => utcDay(new Date("nope"))).toThrow("invalid Date");
  });
});

describe("windowDays", () => {
  const today = new Date("2026-03-01T10:00:00Z");

  it("ends with today, oldest first, across a month end in a non-leap year", () => {
    expect(windowDays(today, 3)).toEqual(["2026-02-27", "2026-02-28", "2026-03-01"]);
  });

  it("takes 0 as the default 30 days", () => {
    const days = windowDays(today, 0);
    expect(days).toHaveLength(30);
    expect(days[0]).toBe("2026-01-31");
    expect(days[29]).toBe("2026-03-01");
  });

  it("includes the 29th of February of a leap year", () => {
    expect(windowDays(new Date("2028-03-01T00:00:00Z"), 2)).toEqual(["2028-02-29", "2028-03-01"]);
  });

  it.each([367, -1, 1.5])("refuses %s days", (days) => {
    expect(() => windowDays(today, days)).toThrow(`days must be an integer from 0 to 366, got ${days}`);
  });
});
