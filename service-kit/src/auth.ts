import { readFile } from "node:fs/promises";
import { SignJWT, createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey, type JSONWebKeySet, type ProtectedHeaderParameters } from "jose";

/** What a caller may do: viewers read, traders also trade their own account, admins act for any. */
export type Role = "viewer" | "trader" | "admin";
const roles: readonly Role[] = ["viewer", "trader", "admin"];

/** A verified caller: the account named by the token's `sub`, its role, and when the token expires. */
export interface Identity {
  readonly account: string;
  readonly role: Role;
  /** The token's `exp`, in ms since the epoch: a stream or connection it opened ends then. */
  readonly expiresAtMs: number;
}

/** The longest a timer may be set for (setTimeout's limit); a later expiry is waited for in steps. */
const longestTimerMs = 2 ** 31 - 1;

/**
 * Calls `expired` once, when the identity's token expires (at once if it has), so that what the
 * token opened does not outlive it. Returns a function that cancels the wait.
 */
export function whenTokenExpires(identity: Identity, expired: () => void, now: () => number = Date.now): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    const left = identity.expiresAtMs - now();
    if (left <= 0) return expired();
    timer = setTimeout(arm, Math.min(left, longestTimerMs));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * Why a credential is refused, one code per reason: `TOKEN_INVALID` is a token that is not a
 * compact JWS or whose signature does not verify; `TOKEN_ALGORITHM_NOT_ALLOWED` one whose `alg` is
 * not the key source's (`none`, or HS256 where public keys are configured and the reverse);
 * `TOKEN_CLAIMS_INVALID` a missing `sub` or `exp`, or an unknown role.
 */
export type AuthErrorCode =
  | "TOKEN_MISSING"
  | "TOKEN_TOO_LARGE"
  | "TOKEN_INVALID"
  | "TOKEN_ALGORITHM_NOT_ALLOWED"
  | "TOKEN_CRIT_UNSUPPORTED"
  | "TOKEN_EXPIRED"
  | "TOKEN_NOT_YET_VALID"
  | "TOKEN_ISSUER_INVALID"
  | "TOKEN_AUDIENCE_INVALID"
  | "TOKEN_CLAIMS_INVALID";

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

/**
 * The keys to verify a token with could not be fetched (a JWKS URL that does not answer): an
 * outage of the key source, not a fault of the caller's token, so answered UNAVAILABLE.
 */
export class KeysUnavailableError extends Error {
  override readonly name = "KeysUnavailableError";
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
  /** Tolerated clock difference, in seconds, for `exp`, `nbf` and `iat`: 0 to 300. Default 5. */
  readonly clockToleranceSeconds?: number;
  /** Longest token accepted, in bytes, refused before anything is parsed. Default 8 KiB. */
  readonly maxTokenBytes?: number;
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
 * server expects, nor have its HMAC keyed with a public key. A token with a `crit` header is
 * refused: no extension is implemented here, and RFC 7515 says one not understood must be refused.
 * Besides `exp` and `nbf`, an `iat` in the future (beyond the clock tolerance) is refused too.
 */
export async function createTokenVerifier(options: TokenVerifierOptions): Promise<TokenVerifier> {
  const sources = [options.hs256Secret, options.jwksFile, options.jwksUrl].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new Error("configure exactly one of an HS256 secret, a JWKS file or a JWKS URL");
  const clockToleranceSeconds = options.clockToleranceSeconds ?? 5;
  if (!Number.isInteger(clockToleranceSeconds) || clockToleranceSeconds < 0 || clockToleranceSeconds > 300) {
    throw new Error(`the clock tolerance must be a whole number of seconds from 0 to 300; got ${clockToleranceSeconds}`);
  }
  const maxTokenBytes = options.maxTokenBytes ?? 8_192;

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
    const url = new URL(options.jwksUrl as string);
    const remote = createRemoteJWKSet(url);
    key = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        // A key set fetched but without the token's key is the token's fault; anything else is the fetch's.
        if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
        throw new KeysUnavailableError(`the signing keys could not be fetched from ${url.origin}${url.pathname}: ${(err as Error).message}`);
      }
    };
    algorithms = ["RS256", "ES256"];
  }
  const verifyOptions = {
    algorithms,
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: clockToleranceSeconds,
    requiredClaims: ["sub", "exp"],
  };

  const cacheSize = options.cacheSize ?? 10_000;
  const now = options.now ?? Date.now;
  // Insertion-ordered: when full, the oldest entry goes first.
  const verified = new Map<string, Identity>();

  return async function verifyToken(token) {
    if (!token) throw new AuthError("TOKEN_MISSING", "a bearer token is required");
    if (Buffer.byteLength(token) > maxTokenBytes) throw new AuthError("TOKEN_TOO_LARGE", `the token is longer than ${maxTokenBytes} bytes`);
    const remembered = verified.get(token);
    if (remembered && now() < remembered.expiresAtMs) return remembered;
    verified.delete(token); // expired: verified again below, which refuses it with TOKEN_EXPIRED
    checkHeader(token, algorithms);
    const at = now();
    let payload;
    try {
      // jose takes either a key or a key-resolving function; both overloads return the same payload.
      const verifyAt = { ...verifyOptions, currentDate: new Date(at) };
      payload = (typeof key === "function" ? await jwtVerify(token, key, verifyAt) : await jwtVerify(token, key, verifyAt)).payload;
    } catch (err) {
      throw err instanceof KeysUnavailableError ? err : refusalOf(err);
    }
    if (typeof payload.iat === "number" && payload.iat > at / 1_000 + clockToleranceSeconds) {
      throw new AuthError("TOKEN_NOT_YET_VALID", "the token's iat claim is in the future");
    }
    const role = payload["role"];
    if (typeof role !== "string" || !roles.includes(role as Role)) {
      throw new AuthError("TOKEN_CLAIMS_INVALID", `the token's role claim must be one of ${roles.join(", ")}`);
    }
    const identity: Identity = { account: payload.sub as string, role: role as Role, expiresAtMs: (payload.exp as number) * 1_000 };
    if (cacheSize > 0) {
      if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
      verified.set(token, identity);
    }
    return identity;
  };
}

/** Refuses, before any key is looked at, a token whose header is unreadable, names another algorithm, or is `crit`. */
function checkHeader(token: string, algorithms: readonly string[]): void {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new AuthError("TOKEN_INVALID", "the token is not a compact JWS (header.payload.signature)");
  }
  if (typeof header.alg !== "string" || !algorithms.includes(header.alg)) {
    throw new AuthError("TOKEN_ALGORITHM_NOT_ALLOWED", `the token's alg ${JSON.stringify(header.alg ?? null)} is not accepted; expected ${algorithms.join(" or ")}`);
  }
  if (header.crit !== undefined) throw new AuthError("TOKEN_CRIT_UNSUPPORTED", "the token's crit header names extensions that are not supported");
}

/** The refusal of a token jose did not verify; the claim named by jose decides the code. */
function refusalOf(err: unknown): AuthError {
  if (err instanceof errors.JWTExpired) return new AuthError("TOKEN_EXPIRED", "the token has expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf") return new AuthError("TOKEN_NOT_YET_VALID", "the token is not valid yet (nbf)");
    if (err.claim === "iss") return new AuthError("TOKEN_ISSUER_INVALID", "the token's iss claim is not the expected issuer");
    if (err.claim === "aud") return new AuthError("TOKEN_AUDIENCE_INVALID", "the token's aud claim does not name this audience");
    return new AuthError("TOKEN_CLAIMS_INVALID", `the token's ${err.claim} claim is not accepted`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError("TOKEN_ALGORITHM_NOT_ALLOWED", "the token's alg is not accepted");
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) {
    return new AuthError("TOKEN_INVALID", "the token's signature does not verify");
  }
  return new AuthError("TOKEN_INVALID", "the token is not valid");
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
