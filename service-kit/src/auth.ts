import { readFile } from "node:fs/promises";
import { SignJWT, createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type JSONWebKeySet } from "jose";

/** What a caller may do: viewers read, traders also trade their own account, admins act for any. */
export type Role = "viewer" | "trader" | "admin";
const roles: readonly Role[] = ["viewer", "trader", "admin"];

/** A verified caller: the account named by the token's `sub` and its role. */
export interface Identity {
  readonly account: string;
  readonly role: Role;
}

export type AuthErrorCode = "TOKEN_MISSING" | "TOKEN_EXPIRED" | "TOKEN_INVALID" | "TOKEN_CLAIMS_INVALID";

/** A refused credential; the message is safe to return to the caller. */
export class AuthError extends Error {
  override readonly name = "AuthError";
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface TokenVerifierOptions {
  /** HS256 shared secret (development); at least 32 bytes. */
  readonly hs256Secret?: string;
  /** RS256/ES256 public keys: a JWKS JSON file. */
  readonly jwksFile?: string;
  /** RS256/ES256 public keys: a JWKS URL, fetched and cached by jose. */
  readonly jwksUrl?: string;
  /** Required `iss` claim. */
  readonly issuer: string;
  /** Required `aud` claim. */
  readonly audience: string;
  /** Tolerated clock difference, in seconds. Default 5. */
  readonly clockToleranceSeconds?: number;
  /**
   * Tokens remembered once verified, so a caller that sends the same token on every call pays for
   * the signature once; each is accepted from memory only until its `exp`. 0 turns it off. Default 10,000.
   */
  readonly cacheSize?: number;
  /** The clock, in ms since the epoch; for tests. */
  readonly now?: () => number;
}

/** Verifies a compact JWT and returns the caller's identity; throws {@link AuthError} otherwise. */
export type TokenVerifier = (token: string | undefined) => Promise<Identity>;

/**
 * Creates a verifier for exactly one key source. Algorithms are pinned to the key source (HS256 for
 * a secret, RS256/ES256 for public keys) so a token cannot choose a weaker algorithm than the
 * server expects.
 */
export async function createTokenVerifier(options: TokenVerifierOptions): Promise<TokenVerifier> {
  const sources = [options.hs256Secret, options.jwksFile, options.jwksUrl].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new Error("configure exactly one of an HS256 secret, a JWKS file or a JWKS URL");

  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (options.hs256Secret !== undefined) {
    if (Buffer.byteLength(options.hs256Secret) < 32) throw new Error("the HS256 secret must be at least 32 bytes");
    key = new TextEncoder().encode(options.hs256Secret);
    algorithms = ["HS256"];
  } else if (options.jwksFile !== undefined) {
    key = createLocalJWKSet(JSON.parse(await readFile(options.jwksFile, "utf8")) as JSONWebKeySet);
    algorithms = ["RS256", "ES256"];
  } else {
    key = createRemoteJWKSet(new URL(options.jwksUrl as string));
    algorithms = ["RS256", "ES256"];
  }
  const verifyOptions = {
    algorithms,
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSeconds ?? 5,
    requiredClaims: ["sub", "exp"],
  };

  const cacheSize = options.cacheSize ?? 10_000;
  const now = options.now ?? Date.now;
  // Insertion-ordered: when full, the oldest entry goes first.
  const verified = new Map<string, { identity: Identity; expiresAtMs: number }>();

  return async function verifyToken(token) {
    if (!token) throw new AuthError("TOKEN_MISSING", "a bearer token is required");
    const remembered = verified.get(token);
    if (remembered && now() < remembered.expiresAtMs) return remembered.identity;
    verified.delete(token); // expired: verified again below, which refuses it with TOKEN_EXPIRED
    let payload;
    try {
      // jose takes either a key or a key-resolving function; both overloads return the same payload.
      const at = { ...verifyOptions, currentDate: new Date(now()) };
      payload = (typeof key === "function" ? await jwtVerify(token, key, at) : await jwtVerify(token, key, at)).payload;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new AuthError("TOKEN_EXPIRED", "the token has expired");
      if (err instanceof errors.JWTClaimValidationFailed) throw new AuthError("TOKEN_CLAIMS_INVALID", `the token's ${err.claim} claim is not accepted`);
      throw new AuthError("TOKEN_INVALID", "the token is not valid");
    }
    const role = payload["role"];
    if (typeof role !== "string" || !roles.includes(role as Role)) {
      throw new AuthError("TOKEN_CLAIMS_INVALID", `the token's role claim must be one of ${roles.join(", ")}`);
    }
    const identity: Identity = { account: payload.sub as string, role: role as Role };
    if (cacheSize > 0) {
      if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
      verified.set(token, { identity, expiresAtMs: (payload.exp as number) * 1_000 });
    }
    return identity;
  };
}

/** Extracts the token from an `Authorization: Bearer <token>` header value. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match?.[1];
}

export interface DevTokenOptions {
  readonly account: string;
  readonly role: Role;
  readonly hs256Secret: string;
  readonly issuer: string;
  readonly audience: string;
  /** Lifetime, in seconds. Default one day. */
  readonly ttlSeconds?: number;
}

/** Signs an HS256 token for local development and tests. */
export async function signDevToken(options: DevTokenOptions): Promise<string> {
  return new SignJWT({ role: options.role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(options.account)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 86_400))
    .sign(new TextEncoder().encode(options.hs256Secret));
}
