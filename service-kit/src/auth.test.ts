import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from "jose";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { AuthError, KeysUnavailableError, bearerToken, createTokenVerifier, signDevToken, whenTokenExpires } from "./auth.js";

const secret = "a-development-secret-of-at-least-32-bytes";
const base = { hs256Secret: secret, issuer: "hft-test", audience: "hft-api" };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return (await refusalOf(promise)).code;
}

/** The refusal's code and message, or `accepted`. */
async function refusalOf(promise: Promise<unknown>): Promise<{ code: string; message?: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AuthError) return { code: err.code, message: err.message };
    throw err;
  }
  return { code: "accepted" };
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** Claims the test verifier accepts; each case spreads them and changes one. */
const claims = () => ({ sub: "alice", role: "trader", iss: base.issuer, aud: base.audience, iat: nowSeconds(), exp: nowSeconds() + 3_600 });

/**
 * A compact JWS made by hand, so a case can carry any header (alg none, crit) or key an HMAC with
 * any bytes (a public key), which a JWT library refuses to sign.
 */
function handMadeToken(header: object, payload: object, hmacKey?: string | Buffer): string {
  const signingInput = `${b64(header)}.${b64(payload)}`;
  const signature = hmacKey === undefined ? "" : createHmac("sha256", hmacKey).update(signingInput).digest("base64url");
  return `${signingInput}.${signature}`;
}

/** A JWKS file holding `publicKey` under kid k1. */
async function jwksFileOf(publicKey: Parameters<typeof exportJWK>[0], alg: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "jwks-"));
  const file = join(dir, "jwks.json");
  await writeFile(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg, kid: "k1" }] }));
  return file;
}

describe("createTokenVerifier", () => {
  it("accepts a dev token and returns its account and role", async () => {
    const verify = await createTokenVerifier(base);
    const token = await signDevToken({ ...base, account: "alice", role: "trader" });
    expect(await verify(token)).toMatchObject({ account: "alice", role: "trader" });
  });

  it("tells when the token expires: its exp claim", async () => {
    const verify = await createTokenVerifier(base);
    const exp = nowSeconds() + 600;
    expect(await verify(handMadeToken({ alg: "HS256", typ: "JWT" }, { ...claims(), exp }, secret))).toEqual({ account: "alice", role: "trader", expiresAtMs: exp * 1_000 });
  });

  it("accepts the hand-made token of the refusal cases as it is, so each case fails for its one change", async () => {
    const verify = await createTokenVerifier(base);
    expect(await verify(handMadeToken({ alg: "HS256", typ: "JWT" }, claims(), secret))).toMatchObject({ account: "alice", role: "trader" });
  });

  describe("refuses, each with its own code", () => {
    it.each<[string, () => string, string, string]>([
      ["an unsigned token (alg none)", () => handMadeToken({ alg: "none", typ: "JWT" }, claims()), "TOKEN_ALGORITHM_NOT_ALLOWED", 'alg "none" is not accepted; expected HS256'],
      ["alg none with the signature of the secret", () => handMadeToken({ alg: "none" }, claims(), secret), "TOKEN_ALGORITHM_NOT_ALLOWED", 'alg "none"'],
      ["no alg at all", () => handMadeToken({ typ: "JWT" }, claims(), secret), "TOKEN_ALGORITHM_NOT_ALLOWED", "alg null is not accepted"],
      ["a token signed with another key", () => handMadeToken({ alg: "HS256" }, claims(), "another-secret-that-is-32-bytes-long!"), "TOKEN_INVALID", "signature does not verify"],
      ["a token whose payload was changed after signing", () => {
        const [header, , signature] = handMadeToken({ alg: "HS256" }, claims(), secret).split(".");
        return `${header}.${b64({ ...claims(), role: "admin" })}.${signature}`;
      }, "TOKEN_INVALID", "signature does not verify"],
      ["a token that is not a compact JWS", () => "not.a.token", "TOKEN_INVALID", "not a compact JWS"],
      ["an expired token, beyond the clock tolerance", () => handMadeToken({ alg: "HS256" }, { ...claims(), exp: nowSeconds() - 10 }, secret), "TOKEN_EXPIRED", "expired"],
      ["a token not valid yet (nbf), beyond the clock tolerance", () => handMadeToken({ alg: "HS256" }, { ...claims(), nbf: nowSeconds() + 60 }, secret), "TOKEN_NOT_YET_VALID", "nbf"],
      ["a token issued in the future (iat), beyond the clock tolerance", () => handMadeToken({ alg: "HS256" }, { ...claims(), iat: nowSeconds() + 60 }, secret), "TOKEN_NOT_YET_VALID", "iat claim is in the future"],
      ["another audience", () => handMadeToken({ alg: "HS256" }, { ...claims(), aud: "elsewhere" }, secret), "TOKEN_AUDIENCE_INVALID", "aud claim"],
      ["no audience", () => handMadeToken({ alg: "HS256" }, { ...claims(), aud: undefined }, secret), "TOKEN_AUDIENCE_INVALID", "aud claim"],
      ["another issuer", () => handMadeToken({ alg: "HS256" }, { ...claims(), iss: "someone-else" }, secret), "TOKEN_ISSUER_INVALID", "iss claim"],
      ["no subject", () => handMadeToken({ alg: "HS256" }, { ...claims(), sub: undefined }, secret), "TOKEN_CLAIMS_INVALID", "sub claim"],
      ["no expiry", () => handMadeToken({ alg: "HS256" }, { ...claims(), exp: undefined }, secret), "TOKEN_CLAIMS_INVALID", "exp claim"],
      ["a crit header naming an unknown extension", () => handMadeToken({ alg: "HS256", crit: ["hft-ext"], "hft-ext": true }, claims(), secret), "TOKEN_CRIT_UNSUPPORTED", "crit header"],
      ["a crit header naming b64, which jose itself understands", () => handMadeToken({ alg: "HS256", crit: ["b64"], b64: true }, claims(), secret), "TOKEN_CRIT_UNSUPPORTED", "crit header"],
      ["a huge token, validly signed", () => handMadeToken({ alg: "HS256" }, { ...claims(), padding: "x".repeat(9_000) }, secret), "TOKEN_TOO_LARGE", "longer than 8192 bytes"],
    ])("%s", async (_case, token, code, message) => {
      const verify = await createTokenVerifier(base);
      const refusal = await refusalOf(verify(token()));
      expect(refusal.code).toBe(code);
      expect(refusal.message).toContain(message);
    });

    it("an ES256 token where an HS256 secret is configured (key confusion)", async () => {
      const verify = await createTokenVerifier(base);
      const { privateKey } = await generateKeyPair("ES256");
      const token = await new SignJWT({ role: "admin" }).setProtectedHeader({ alg: "ES256" }).setSubject("mallory").setIssuer(base.issuer).setAudience(base.audience).setExpirationTime("1h").sign(privateKey);
      expect(await refusalOf(verify(token))).toEqual({ code: "TOKEN_ALGORITHM_NOT_ALLOWED", message: 'the token\'s alg "ES256" is not accepted; expected HS256' });
    });

    it.each(["ES256", "RS256"])("an HS256 token keyed with the public key's bytes where %s public keys are configured (key confusion)", async (alg) => {
      const { publicKey } = await generateKeyPair(alg, { extractable: true });
      const verify = await createTokenVerifier({ jwksFile: await jwksFileOf(publicKey, alg), issuer: base.issuer, audience: base.audience });
      const publicBytes = [await exportSPKI(publicKey), JSON.stringify(await exportJWK(publicKey))];
      for (const bytes of publicBytes) {
        const token = handMadeToken({ alg: "HS256", kid: "k1" }, { ...claims(), role: "admin" }, bytes);
        expect(await refusalOf(verify(token))).toEqual({ code: "TOKEN_ALGORITHM_NOT_ALLOWED", message: 'the token\'s alg "HS256" is not accepted; expected RS256 or ES256' });
      }
    });

    it("an ES256 token carrying its own key in the header (jwk), signed by a key the JWKS does not hold", async () => {
      const trusted = await generateKeyPair("ES256");
      const attacker = await generateKeyPair("ES256", { extractable: true });
      const verify = await createTokenVerifier({ jwksFile: await jwksFileOf(trusted.publicKey, "ES256"), issuer: base.issuer, audience: base.audience });
      const token = await new SignJWT({ role: "admin" })
        .setProtectedHeader({ alg: "ES256", kid: "k1", jwk: await exportJWK(attacker.publicKey) })
        .setSubject("mallory")
        .setIssuer(base.issuer)
        .setAudience(base.audience)
        .setExpirationTime("1h")
        .sign(attacker.privateKey);
      expect(await refusalOf(verify(token))).toEqual({ code: "TOKEN_INVALID", message: "the token's signature does not verify" });
    });
  });

  it("tolerates a clock difference up to the configured seconds, and no more", async () => {
    const clock = Date.now();
    const verify = await createTokenVerifier({ ...base, now: () => clock, clockToleranceSeconds: 5, cacheSize: 0 });
    const at = Math.floor(clock / 1000);
    const token = (change: object) => handMadeToken({ alg: "HS256" }, { ...claims(), ...change }, secret);
    expect(await codeOf(verify(token({ exp: at - 4 })))).toBe("accepted");
    expect(await codeOf(verify(token({ exp: at - 6 })))).toBe("TOKEN_EXPIRED");
    expect(await codeOf(verify(token({ nbf: at + 4 })))).toBe("accepted");
    expect(await codeOf(verify(token({ nbf: at + 6 })))).toBe("TOKEN_NOT_YET_VALID");
    expect(await codeOf(verify(token({ iat: at + 4 })))).toBe("accepted");
    expect(await codeOf(verify(token({ iat: at + 6 })))).toBe("TOKEN_NOT_YET_VALID");
  });

  it("refuses an expired dev token and one of another secret", async () => {
    const verify = await createTokenVerifier(base);
    expect(await codeOf(verify(undefined))).toBe("TOKEN_MISSING");
    expect(await codeOf(verify(await signDevToken({ ...base, account: "alice", role: "trader", ttlSeconds: -60 })))).toBe("TOKEN_EXPIRED");
    expect(await codeOf(verify(await signDevToken({ ...base, hs256Secret: "another-secret-that-is-32-bytes-long!", account: "alice", role: "trader" })))).toBe("TOKEN_INVALID");
  });

  it("refuses an unknown role", async () => {
    const verify = await createTokenVerifier(base);
    const token = await new SignJWT({ role: "root" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("alice")
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(secret));
    expect(await codeOf(verify(token))).toBe("TOKEN_CLAIMS_INVALID");
  });

  it("verifies ES256 tokens against a JWKS file and refuses HS256 ones there", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const verify = await createTokenVerifier({ jwksFile: await jwksFileOf(publicKey, "ES256"), issuer: base.issuer, audience: base.audience });
    const token = await new SignJWT({ role: "viewer" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setSubject("bob")
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .setExpirationTime("1h")
      .sign(privateKey);
    expect(await verify(token)).toMatchObject({ account: "bob", role: "viewer" });
    expect(await codeOf(verify(await signDevToken({ ...base, account: "bob", role: "admin" })))).toBe("TOKEN_ALGORITHM_NOT_ALLOWED");
  });

  it("fetches a JWKS URL's keys, refuses a token of a key it lacks, and tells an unreachable key source from a bad token", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const keys = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg: "ES256", kid: "k1" }] });
    let up = true;
    const server = createServer((_req, res) => (up ? res.writeHead(200, { "content-type": "application/json" }).end(keys) : res.writeHead(503).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const sign = (kid: string) => new SignJWT({ role: "trader" }).setProtectedHeader({ alg: "ES256", kid }).setSubject("alice").setIssuer(base.issuer).setAudience(base.audience).setExpirationTime("1h").sign(privateKey);
    try {
      const verify = await createTokenVerifier({ jwksUrl: url, issuer: base.issuer, audience: base.audience });
      expect(await verify(await sign("k1"))).toMatchObject({ account: "alice", role: "trader" });
      expect(await codeOf(verify(await sign("k2")))).toBe("TOKEN_INVALID");

      up = false;
      const fresh = await createTokenVerifier({ jwksUrl: url, issuer: base.issuer, audience: base.audience });
      await expect(fresh(await sign("k1"))).rejects.toBeInstanceOf(KeysUnavailableError);
      await expect(fresh(await sign("k1"))).rejects.toThrow(`the signing keys could not be fetched from ${url}`);
    } finally {
      server.close();
    }
  });

  it("accepts a remembered token from memory only until its expiry, then refuses it as expired", async () => {
    let clock = Date.now();
    const verify = await createTokenVerifier({ ...base, now: () => clock, clockToleranceSeconds: 0 });
    const token = await signDevToken({ ...base, account: "alice", role: "trader", ttlSeconds: 60 });
    expect(await verify(token)).toMatchObject({ account: "alice", role: "trader" });
    clock += 30_000;
    expect(await verify(token)).toMatchObject({ account: "alice", role: "trader" });
    clock += 31_000;
    expect(await codeOf(verify(token))).toBe("TOKEN_EXPIRED");
  });

  it("refuses a short secret and ambiguous key sources at creation", async () => {
    await expect(createTokenVerifier({ ...base, hs256Secret: "short" })).rejects.toThrow("at least 32 bytes");
    await expect(createTokenVerifier({ ...base, jwksUrl: "https://127.0.0.1/jwks" })).rejects.toThrow("exactly one");
    await expect(createTokenVerifier({ ...base, clockToleranceSeconds: 301 })).rejects.toThrow("from 0 to 300; got 301");
  });
});

describe("whenTokenExpires", () => {
  it("calls back once at the token's expiry, and not at all once cancelled", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const expired = vi.fn();
      whenTokenExpires({ account: "alice", role: "trader", expiresAtMs: 1_060_000 }, expired);
      const cancelled = vi.fn();
      whenTokenExpires({ account: "bob", role: "trader", expiresAtMs: 1_060_000 }, cancelled)();
      vi.advanceTimersByTime(59_999);
      expect(expired).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      vi.advanceTimersByTime(600_000);
      expect([expired.mock.calls.length, cancelled.mock.calls.length]).toEqual([1, 0]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("calls back at once for an expired token, and waits out an expiry beyond setTimeout's reach", () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const already = vi.fn();
      whenTokenExpires({ account: "alice", role: "trader", expiresAtMs: 0 }, already);
      expect(already).toHaveBeenCalledTimes(1);
      const distant = vi.fn();
      const days40 = 40 * 86_400_000;
      whenTokenExpires({ account: "alice", role: "trader", expiresAtMs: days40 }, distant);
      vi.advanceTimersByTime(days40 - 1);
      expect(distant).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(distant).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("bearerToken", () => {
  it("takes the token from a Bearer header only", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer x")).toBe("x");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
