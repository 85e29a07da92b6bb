import type { Redis } from "ioredis";

/** The outcome of one request against its identity's window. */
export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the window ends and the count starts again. */
  readonly resetMs: number;
  /** Redis could not be asked: the request was let through uncounted. */
  readonly degraded: boolean;
}

export interface RateLimiterOptions {
  readonly redis: Redis;
  readonly keyPrefix: string;
  /** Requests per identity per window. */
  readonly limit: number;
  readonly windowMs: number;
  /** Longest wait for Redis before the request is let through uncounted, in ms. Default 250. */
  readonly redisTimeoutMs?: number;
  /** ms since the epoch; for tests. */
  readonly now?: () => number;
}

export type RateLimiter = (identity: string) => Promise<RateDecision>;

// One round trip: count the request and start the window's expiry with its first request.
const takeScript = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

/**
 * A fixed-window limit per identity kept in Redis, so every gateway replica counts against the
 * same window (`<prefix>rate:<identity>:<window number>`). A request refused still counts, so a
 * client hammering through a refusal does not shorten it. When Redis is unreachable the gateway
 * keeps serving (the request is let through, `degraded`): a rate-limit store outage must not
 * become an outage of the platform; /health reports Redis down meanwhile.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  // EVALSHA with the script loaded once (ioredis falls back to EVAL after a Redis restart).
  const redis = options.redis as Redis & { hftTakeRate?: (key: string, windowMs: string) => Promise<number> };
  if (!redis.hftTakeRate) redis.defineCommand("hftTakeRate", { numberOfKeys: 1, lua: takeScript });
  const timeoutMs = options.redisTimeoutMs ?? 250;
  return async function takeRequest(identity) {
    const at = now();
    const window = Math.floor(at / options.windowMs);
    const resetMs = (window + 1) * options.windowMs - at;
    let timer: NodeJS.Timeout | undefined;
    try {
      const count = Number(
        await Promise.race([
          redis.hftTakeRate!(`${options.keyPrefix}rate:${identity}:${window}`, String(options.windowMs)),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("Redis did not answer in time")), timeoutMs))),
        ]),
      );
      return { allowed: count <= options.limit, limit: options.limit, remaining: Math.max(0, options.limit - count), resetMs, degraded: false };
    } catch {
      return { allowed: true, limit: options.limit, remaining: options.limit, resetMs, degraded: true };
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers) and, when refused, Retry-After. */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const resetSeconds = String(Math.max(1, Math.ceil(decision.resetMs / 1000)));
  const headers: Record<string, string> = {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": resetSeconds,
  };
  if (!decision.allowed) headers["retry-after"] = resetSeconds;
  return headers;
}
