import { execFileSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "./config.js";
import { clientTlsOf, serverTlsOf, tlsClientConfig, tlsModeOf, tlsServerConfig, tlsServerOptions } from "./tls.js";

const certsScript = fileURLToPath(new URL("../../scripts/certs.sh", import.meta.url));
const shape = { ...tlsServerConfig, ...tlsClientConfig };

let dir: string;
/** A file of the development CA made by scripts/certs.sh, e.g. `cert("engine.crt")`. */
const cert = (name: string) => join(dir, "certs", name);
/** A file of a second, unrelated CA. */
const other = (name: string) => join(dir, "other", name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tls-config-"));
  execFileSync("bash", [certsScript, join(dir, "certs")], { stdio: "pipe" });
  execFileSync("bash", [certsScript, join(dir, "other")], { stdio: "pipe" });
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

function problemsOf(envVars: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(shape, envVars);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("TLS configuration", () => {
  it("is plaintext when no file is named", () => {
    const config = loadConfig(shape, {});
    expect(serverTlsOf(config)).toBeUndefined();
    expect(clientTlsOf(config)).toBeUndefined();
    expect(tlsModeOf(serverTlsOf(config))).toBe("plaintext");
  });

  it("reads a listener's certificate and key, and the CA that makes it mutual TLS", () => {
    const config = loadConfig(shape, { TLS_CERT_FILE: cert("engine.crt"), TLS_KEY_FILE: cert("engine.key"), TLS_CLIENT_CA_FILE: cert("ca.crt") });
    const tls = serverTlsOf(config)!;
    expect(tls.cert.toString()).toContain("BEGIN CERTIFICATE");
    expect(createPrivateKey(tls.key).asymmetricKeyType).toBe("ec");
    expect(tls.clientCa?.toString()).toContain("BEGIN CERTIFICATE");
    expect(config.TLS_CERT_FILE?.certificate.subject).toContain("CN=engine");
    expect(tlsModeOf(tls)).toBe("mutual-tls");
    expect(tlsServerOptions(tls)).toMatchObject({ minVersion: "TLSv1.2", requestCert: true, rejectUnauthorized: true, ca: tls.clientCa });
  });

  it("asks for no client certificate without a client CA", () => {
    const tls = serverTlsOf(loadConfig(shape, { TLS_CERT_FILE: cert("gateway.crt"), TLS_KEY_FILE: cert("gateway.key") }))!;
    expect(tls.clientCa).toBeUndefined();
    expect(tlsModeOf(tls)).toBe("tls");
    expect(tlsServerOptions(tls)).toMatchObject({ minVersion: "TLSv1.2", requestCert: false });
  });

  it("reads the outgoing calls' CA and client certificate", () => {
    const config = loadConfig(shape, { TLS_CA_FILE: cert("ca.crt"), TLS_CLIENT_CERT_FILE: cert("gateway-client.crt"), TLS_CLIENT_KEY_FILE: cert("gateway-client.key") });
    const tls = clientTlsOf(config)!;
    expect(tls.ca.toString()).toContain("BEGIN CERTIFICATE");
    expect(tls.cert?.toString()).toContain("BEGIN CERTIFICATE");
    expect(createPrivateKey(tls.key!).asymmetricKeyType).toBe("ec");
    expect(clientTlsOf(loadConfig(shape, { TLS_CA_FILE: cert("ca.crt") }))).toEqual({ ca: tls.ca });
  });

  it("names a certificate without its key, and a key without its certificate", () => {
    expect(problemsOf({ TLS_CERT_FILE: cert("engine.crt") })).toEqual(["TLS_KEY_FILE: expected with TLS_CERT_FILE (the certificate's private key)"]);
    expect(problemsOf({ TLS_KEY_FILE: cert("engine.key") })).toEqual(["TLS_CERT_FILE: expected with TLS_KEY_FILE (the key's certificate)"]);
    expect(problemsOf({ TLS_CA_FILE: cert("ca.crt"), TLS_CLIENT_CERT_FILE: cert("gateway-client.crt") })).toEqual([
      "TLS_CLIENT_KEY_FILE: expected with TLS_CLIENT_CERT_FILE (the certificate's private key)",
    ]);
  });

  it("names a key that is not the certificate's", () => {
    expect(problemsOf({ TLS_CERT_FILE: cert("engine.crt"), TLS_KEY_FILE: cert("gateway.key") })).toEqual([
      `TLS_KEY_FILE: the key in "${cert("gateway.key")}" is not the private key of the certificate in TLS_CERT_FILE "${cert("engine.crt")}"`,
    ]);
    expect(problemsOf({ TLS_CA_FILE: cert("ca.crt"), TLS_CLIENT_CERT_FILE: cert("gateway-client.crt"), TLS_CLIENT_KEY_FILE: other("gateway-client.key") })).toEqual([
      `TLS_CLIENT_KEY_FILE: the key in "${other("gateway-client.key")}" is not the private key of the certificate in TLS_CLIENT_CERT_FILE "${cert("gateway-client.crt")}"`,
    ]);
  });

  it("names an unreadable file and a file that is not PEM of the expected kind", async () => {
    expect(problemsOf({ TLS_CERT_FILE: "/nonexistent/engine.crt", TLS_KEY_FILE: cert("engine.key") })).toEqual([
      'TLS_CERT_FILE: cannot read the file (ENOENT); got "/nonexistent/engine.crt"',
    ]);
    const garbage = join(dir, "garbage.pem");
    await writeFile(garbage, "not a PEM file\n");
    const problems = problemsOf({ TLS_CERT_FILE: cert("engine.key"), TLS_KEY_FILE: garbage });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(new RegExp(`^TLS_CERT_FILE: expected a PEM certificate \\(.+\\); got "${cert("engine.key")}"$`));
    expect(problems[1]).toMatch(new RegExp(`^TLS_KEY_FILE: expected a PEM private key \\(.+\\); got "${garbage}"$`));
  });

  it("refuses a certificate that has expired", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 400 * 86_400_000); // after the 365 days scripts/certs.sh gives a leaf
    const [problem] = problemsOf({ TLS_CERT_FILE: cert("engine.crt"), TLS_KEY_FILE: cert("engine.key") });
    expect(problem).toMatch(/^TLS_CERT_FILE: the certificate O=hft-platform, CN=engine expired on .+ GMT; got ".+engine\.crt"$/);
  });

  it("names a client CA without a TLS listener, and a client certificate without the servers' CA", () => {
    expect(problemsOf({ TLS_CLIENT_CA_FILE: cert("ca.crt") })).toEqual([
      "TLS_CLIENT_CA_FILE: client certificates are checked only by a TLS listener; set TLS_CERT_FILE and TLS_KEY_FILE too",
    ]);
    expect(problemsOf({ TLS_CLIENT_CERT_FILE: cert("gateway-client.crt"), TLS_CLIENT_KEY_FILE: cert("gateway-client.key") })).toEqual([
      "TLS_CLIENT_CERT_FILE: expected with TLS_CA_FILE (internal calls use TLS only when the servers' CA is set)",
    ]);
  });
});
