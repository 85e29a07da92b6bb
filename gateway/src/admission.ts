import { type DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { AuthError, type Identity, KeysUnavailableError, type TokenVerifier, bearerToken } from "@hft/service-kit";
import { GatewayError } from "./gateway-error.js";
import type { GatewayMetrics } from "./metrics.js";
import { type RateDecision, type RateLimiter, rateLimitHeaders } from "./rate-limiter.js";

/** A caller let in: who it is and what its window says (for the RateLimit headers). */
export interface Admitted {
  readonly identity: Identity;
  readonly token: string;
  readonly rate: RateDecision;
  readonly rateHeaders: Readonly<Record<string, string>>;
}

export interface AdmissionOptions {
  readonly verify: TokenVerifier;
  readonly rateLimit: RateLimiter;
  readonly metrics: GatewayMetrics;
}

/** Whether `method` may only read: unary RPCs marked NO_SIDE_EFFECTS and server streams. */
export function isReadOnly(method: DescMethod): boolean {
  if (method.methodKind === "server_streaming") return true;
  return method.methodKind === "unary" && method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
}

export type Admission = (request: { authorization: string | undefined; peer: string; method?: DescMethod }) => Promise<Admitted>;

/**
 * Lets a request in or refuses it with a {@link GatewayError}, before anything reaches a backend:
 * the bearer token verified (UNAUTHENTICATED), the caller's window counted (RESOURCE_EXHAUSTED with
 * Retry-After), and a viewer refused anything that changes state (PERMISSION_DENIED). Whose data a
 * call touches is the backends' decision: they verify the same token and know the accounts.
 *
 * The window belongs to the token's subject; a request without a valid token counts against its
 * client address, so a flood of bad tokens is limited too.
 */
export function createAdmission(options: AdmissionOptions): Admission {
  return async function admit({ authorization, peer, method }) {
    const token = bearerToken(authorization);
    let identity: Identity | undefined;
    let refusal: AuthError | undefined;
    try {
      identity = await options.verify(token);
    } catch (error) {
      if (error instanceof KeysUnavailableError) throw new GatewayError(Code.Unavailable, "AUTH_KEYS_UNAVAILABLE", `the token could not be checked: ${error.message}; retry`);
      if (!(error instanceof AuthError)) throw error;
      refusal = error;
    }
    const rate = await options.rateLimit(identity ? `sub:${identity.account}` : `addr:${peer}`);
    const rateHeaders = rateLimitHeaders(rate);
    if (rate.degraded) options.metrics.rateLimitDegraded.inc();
    if (!rate.allowed) {
      options.metrics.rateLimited.inc();
      throw new GatewayError(Code.ResourceExhausted, "RATE_LIMITED", `rate limit of ${rate.limit} requests per window reached; retry after ${rateHeaders["retry-after"]} s`, rateHeaders);
    }
    if (!identity) {
      const error = refusal as AuthError;
      throw new GatewayError(Code.Unauthenticated, error.code, error.message, { ...rateHeaders, "www-authenticate": 'Bearer realm="hft"' });
    }
    if (method && identity.role === "viewer" && !isReadOnly(method)) {
      throw new GatewayError(Code.PermissionDenied, "ROLE_VIEWER_READ_ONLY", `a viewer may only read; ${method.parent.typeName}/${method.name} changes state`, rateHeaders);
    }
    return { identity, token: token as string, rate, rateHeaders };
  };
}
