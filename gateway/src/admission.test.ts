import { Code } from "@connectrpc/connect";
import { KeysUnavailableError, createTokenVerifier, emptyMetricsRegistry, signDevToken } from "@hft/service-kit";
import { describe, expect, it } from "vitest";
import { createAdmission } from "./admission.js";
import { GatewayError } from "./gateway-error.js";
import { GatewayMetrics } from "./metrics.js";
import type { RateLimiter } from "./rate-limiter.js";

const auth = { hs256Secret: "a-development-secret-of-at-least-32-bytes", issuer: "hft-test", audience: "hft-api" };
const limit = 3;

/** One window per identity, counted in memory as Redis counts it: a refused request still counts. */
function createCountingLimiter(): { rateLimit: RateLimiter; identities: string[] } {
  const counts = new Map<string, number>();
  const identities: string[] = [];
  const rateLimit: RateLimiter = async (identity) => {
    identities.push(identity);
    const count = (counts.get(identity) ?? 0) + 1;
    counts.set(identity, count);
    return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetMs: 60_000, degraded: false };
  };
  return { rateLimit, identities };
}

async function createFixture() {
  const limiter = createCountingLimiter();
  const admit = createAdmission({ verify: await createTokenVerifier(auth), rateLimit: limiter.rateLimit, metrics: new GatewayMetrics(emptyMetricsRegistry()) });
  /** The refusal's code and reason, or `admitted`. */
  const outcome = async (authorization: string | undefined, peer: string) => {
    try {
      await admit({ authorization, peer });
      return "admitted";
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return `${Code[error.code]} ${error.reason}`;
    }
  };
  return { ...limiter, outcome };
}

describe("createAdmission: requests without a valid token", () => {
  it("count against their client address: a flood of bad tokens from one address is refused 429, another address is not", async () => {
    const { outcome, identities } = await createFixture();
    const flood = [];
    for (const bad of [undefined, "Bearer not.a.token", "Bearer x", "Bearer still.not.valid"]) flood.push(await outcome(bad, "10.0.0.1"));
    expect(flood).toEqual(["Unauthenticated TOKEN_MISSING", "Unauthenticated TOKEN_INVALID", "Unauthenticated TOKEN_INVALID", "ResourceExhausted RATE_LIMITED"]);
    expect(await outcome("Bearer not.a.token", "10.0.0.2")).toBe("Unauthenticated TOKEN_INVALID");
    expect(identities).toEqual(["addr:10.0.0.1", "addr:10.0.0.1", "addr:10.0.0.1", "addr:10.0.0.1", "addr:10.0.0.2"]);
  });

  it("do not spend a valid caller's window, even from the flooding address", async () => {
    const { outcome, identities } = await createFixture();
    for (let i = 0; i <= limit; i++) await outcome("Bearer forged", "10.0.0.1");
    const token = await signDevToken({ ...auth, account: "alice", role: "trader" });
    expect(await outcome(`Bearer ${token}`, "10.0.0.1")).toBe("admitted");
    expect(identities.at(-1)).toBe("sub:alice");
  });
  it("answers UNAVAILABLE, not UNAUTHENTICATED, when the signing keys cannot be fetched, and counts nothing", async () => {
    const limiter = createCountingLimiter();
    const verify = () => Promise.reject(new KeysUnavailableError("the signing keys could not be fetched from http://127.0.0.1:1/jwks: fetch failed"));
    const admit = createAdmission({ verify, rateLimit: limiter.rateLimit, metrics: new GatewayMetrics(emptyMetricsRegistry()) });
    const refusal = await admit({ authorization: "Bearer a.b.c", peer: "10.0.0.1" }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(GatewayError);
    expect([Code[(refusal as GatewayError).code], (refusal as GatewayError).reason]).toEqual(["Unavailable", "AUTH_KEYS_UNAVAILABLE"]);
    expect(limiter.identities).toEqual([]);
  });
});
