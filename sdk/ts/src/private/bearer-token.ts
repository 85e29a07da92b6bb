import type { Interceptor } from "@connectrpc/connect";

/** A token, or a function that returns the current one (called for every request, so it may refresh). */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * An interceptor that sends `authorization: Bearer <token>` on every call, unary and streaming.
 * The gateway verifies the JWT and answers `unauthenticated` when it is missing, expired or forged.
 */
export function createBearerTokenInterceptor(token: TokenSource): Interceptor {
  if (typeof token === "string" && token.trim() === "") throw new Error("token is empty: expected a JWT for the gateway");
  return (next) =>
    async function withBearerToken(request) {
      const current = typeof token === "string" ? token : await token();
      request.header.set("authorization", `Bearer ${current}`);
      return next(request);
    };
}
