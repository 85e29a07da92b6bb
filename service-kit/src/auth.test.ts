import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuthError, bearerToken, createTokenVerifier, signDevToken } from "./auth.js";

const secret = "a-development-secret-of-at-least-32-bytes";
const base = { hs256Secret: secret, issuer: "hft-test", audience: "hft-api" };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
  return "accepted";
}

describe("createTokenVerifier", () => {
  it("accepts a dev token and returns its account and role", async () => {
    const verify = await createTokenVerifier(base);
    const token = await signDevToken({ ...base, account: "alice", role: "trader" });
    expect(await verify(token)).toEqual({ account: "alice", role: "trader" });
  });

  it("refuses a missing, expired, foreign or tampered token with its own code", async () => {
    const verify = await createTokenVerifier(base);
    expect(await codeOf(verify(undefined))).toBe("TOKEN_MISSING");
    const expired = await signDevToken({ ...base, account: "alice", role: "trader", ttlSeconds: -60 });
    expect(await codeOf(verify(expired))).toBe("TOKEN_EXPIRED");
    const wrongKey = await signDevToken({ ...base, hs256Secret: "another-secret-that-is-32-bytes-long!", account: "alice", role: "trader" });
    expect(await codeOf(verify(wrongKey))).toBe("TOKEN_INVALID");
    const otherAudience = await signDevToken({ ...base, audience: "elsewhere", account: "alice", role: "trader" });
    expect(await codeOf(verify(otherAudience))).toBe("TOKEN_CLAIMS_INVALID");
    const good = await signDevToken({ ...base, account: "alice", role: "trader" });
    const [header, , signature] = good.split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ sub: "alice", role: "admin", exp: 9_999_999_999 })).toString("base64url");
    expect(await codeOf(verify(`${header}.${forgedPayload}.${signature}`))).toBe("TOKEN_INVALID");
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
    const dir = await mkdtemp(join(tmpdir(), "jwks-"));
    const jwksFile = join(dir, "jwks.json");
    await writeFile(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg: "ES256", kid: "k1" }] }));
    const verify = await createTokenVerifier({ jwksFile, issuer: base.issuer, audience: base.audience });
    const token = await new SignJWT({ role: "viewer" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setSubject("bob")
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .setExpirationTime("1h")
      .sign(privateKey);
    expect(await verify(token)).toEqual({ account: "bob", role: "viewer" });
    expect(await codeOf(verify(await signDevToken({ ...base, account: "bob", role: "admin" })))).toBe("TOKEN_INVALID");
  });

  it("accepts a remembered token from memory only until its expiry, then refuses it as expired", async () => {
    let clock = Date.now();
    const verify = await createTokenVerifier({ ...base, now: () => clock, clockToleranceSeconds: 0 });
    const token = await signDevToken({ ...base, account: "alice", role: "trader", ttlSeconds: 60 });
    expect(await verify(token)).toEqual({ account: "alice", role: "trader" });
    clock += 30_000;
    expect(await verify(token)).toEqual({ account: "alice", role: "trader" });
    clock += 31_000;
    expect(await codeOf(verify(token))).toBe("TOKEN_EXPIRED");
  });

  it("refuses a short secret and ambiguous key sources at creation", async () => {
    await expect(createTokenVerifier({ ...base, hs256Secret: "short" })).rejects.toThrow("at least 32 bytes");
    await expect(createTokenVerifier({ ...base, jwksUrl: "https://127.0.0.1/jwks" })).rejects.toThrow("exactly one");
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
