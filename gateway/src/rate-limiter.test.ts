import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createRateLimiter, rateLimitHeaders } from "./rate-limiter.js";

/** Just enough of ioredis for the limiter: the script's effect kept in a map, or a Redis that never answers. */
function redisStandIn(options: { down?: boolean } = {}) {
  const counts = new Map<string, number>();
  const keys: string[] = [];
  const client = {
    defineCommand(name: string) {
      (client as Record<string, unknown>)[name] = (key: string) => {
        if (options.down) return new Promise(() => undefined);
        keys.push(key);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return Promise.resolve(counts.get(key));
      };
    },
  };
  return { redis: client as unknown as Redis, keys };
}

describe("createRateLimiter", () => {
  it("counts an identity's requests in its window and refuses past the limit", async () => {
    let now = 120_250; // 250 ms into window number 2 of one-minute windows
    const { redis, keys } = redisStandIn();
    const take = createRateLimiter({ redis, keyPrefix: "p:", limit: 2, windowMs: 60_000, now: () => now });
    const decisions = [await take("sub:alice"), await take("sub:alice"), await take("sub:alice"), await take("sub:bob")];
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 1],
      [true, 0],
      [false, 0],
      [true, 1],
    ]);
    expect(decisions[2]!.resetMs).toBe(59_750);
    expect(keys[0]).toBe("p:rate:sub:alice:2");
    now = 180_000; // the next window
    expect((await take("sub:alice")).allowed).toBe(true);
    expect(keys.at(-1)).toBe("p:rate:sub:alice:3");
  });

  it("lets a request through uncounted when Redis does not answer in time", async () => {
    const { redis } = redisStandIn({ down: true });
    const take = createRateLimiter({ redis, keyPrefix: "p:", limit: 1, windowMs: 1_000, redisTimeoutMs: 10 });
    expect(await take("sub:alice")).toMatchObject({ allowed: true, degraded: true });
  });
});

describe("rateLimitHeaders", () => {
  it("sends the RateLimit fields, and Retry-After in whole seconds (at least 1) when refused", () => {
    expect(rateLimitHeaders({ allowed: true, limit: 10, remaining: 3, resetMs: 1_500, degraded: false })).toEqual({
      "ratelimit-limit": "10",
      "ratelimit-remaining": "3",
      "ratelimit-reset": "2",
    });
    expect(rateLimitHeaders({ allowed: false, limit: 10, remaining: 0, resetMs: 20, degraded: false })).toMatchObject({ "retry-after": "1", "ratelimit-reset": "1" });
  });
});
