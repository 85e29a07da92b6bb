/**
 * TLS for the platform's listeners and internal calls, from PEM files named in the environment.
 * Plaintext unless files are configured. One scheme in every service:
 *
 * - `TLS_CERT_FILE` + `TLS_KEY_FILE`: every listener of the process (gRPC, HTTP, /metrics)
 *   serves TLS with this certificate;
 * - `TLS_CLIENT_CA_FILE`: those listeners also require a client certificate signed by this CA
 *   (mutual TLS; not on the gateway's public listener);
 * - `TLS_CA_FILE`: outgoing internal gRPC calls use TLS and verify the server against this CA,
 *   under the host name of the address dialed;
 * - `TLS_CLIENT_CERT_FILE` + `TLS_CLIENT_KEY_FILE`: the certificate those calls present.
 *
 * Each file is read and parsed once at start; `loadConfig` adds the checks across variables
 * (pairs, a key that is not the certificate's) through {@link tlsProblems}.
 */
import { type KeyObject, X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { type SecureContextOptions, createSecureContext } from "node:tls";
import { z } from "zod";
import type { ConfigShape } from "./config.js";

/** TLS 1.0 and 1.1 are refused by every listener and client of the platform. */
export const minTlsVersion = "TLSv1.2";

/** A PEM file holding a certificate (the first one, for a bundle) as read at start. */
export interface CertificateFile {
  readonly path: string;
  readonly pem: Buffer;
  readonly certificate: X509Certificate;
}

/** A PEM file holding a private key as read at start. */
export interface KeyFile {
  readonly path: string;
  readonly pem: Buffer;
  readonly key: KeyObject;
}

/** A listener's certificate and key; with `clientCa`, clients must present a certificate that CA signed. */
export interface ServerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa?: Buffer;
}

/** Outgoing calls: servers verified against `ca`; `cert` and `key` presented to servers that ask (mutual TLS). */
export interface ClientTls {
  readonly ca: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

const reasonOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));

function readPem(path: string, ctx: z.RefinementCtx): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `cannot read the file (${reasonOf(error)})` });
    return undefined;
  }
}

/** The path of a PEM certificate file, read and parsed; an expired certificate is refused. */
const certificateFile = () =>
  z
    .string({ error: "expected the path of a PEM certificate file" })
    .transform((path, ctx): CertificateFile => {
      const pem = readPem(path, ctx);
      if (pem === undefined) return z.NEVER;
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(pem);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `expected a PEM certificate (${reasonOf(error)})` });
        return z.NEVER;
      }
      if (Date.parse(certificate.validTo) <= Date.now()) {
        ctx.addIssue({ code: "custom", message: `the certificate ${certificate.subject.replace(/\n/g, ", ")} expired on ${certificate.validTo}` });
        return z.NEVER;
      }
      return { path, pem, certificate };
    })
    .optional();

/** The path of a PEM private key file, read and parsed. */
const keyFile = () =>
  z
    .string({ error: "expected the path of a PEM private key file" })
    .transform((path, ctx): KeyFile => {
      const pem = readPem(path, ctx);
      if (pem === undefined) return z.NEVER;
      try {
        return { path, pem, key: createPrivateKey(pem) };
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `expected a PEM private key (${reasonOf(error)})` });
        return z.NEVER;
      }
    })
    .optional();

/** The listeners' TLS variables: certificate, key, and the CA of required client certificates. */
export const tlsServerConfig = {
  TLS_CERT_FILE: certificateFile(),
  TLS_KEY_FILE: keyFile(),
  TLS_CLIENT_CA_FILE: certificateFile(),
} satisfies ConfigShape;

/** The TLS variables of outgoing internal gRPC calls: the servers' CA and the client certificate. */
export const tlsClientConfig = {
  TLS_CA_FILE: certificateFile(),
  TLS_CLIENT_CERT_FILE: certificateFile(),
  TLS_CLIENT_KEY_FILE: keyFile(),
} satisfies ConfigShape;

interface TlsVariables {
  readonly TLS_CERT_FILE?: CertificateFile;
  readonly TLS_KEY_FILE?: KeyFile;
  readonly TLS_CLIENT_CA_FILE?: CertificateFile;
  readonly TLS_CA_FILE?: CertificateFile;
  readonly TLS_CLIENT_CERT_FILE?: CertificateFile;
  readonly TLS_CLIENT_KEY_FILE?: KeyFile;
}

/**
 * What is wrong across the TLS variables of a parsed configuration, one line each, naming the
 * variables: a certificate without its key (or the reverse), a key that is not the certificate's,
 * a client CA without a TLS listener, a client certificate without a CA to verify servers with.
 */
export function tlsProblems(config: Readonly<Record<string, unknown>>): string[] {
  const c = config as TlsVariables;
  const problems: string[] = [];
  const pair = (certName: keyof TlsVariables, keyName: keyof TlsVariables, cert?: CertificateFile, key?: KeyFile) => {
    if (cert && !key) problems.push(`${keyName}: expected with ${certName} (the certificate's private key)`);
    else if (key && !cert) problems.push(`${certName}: expected with ${keyName} (the key's certificate)`);
    else if (cert && key) {
      if (!cert.certificate.checkPrivateKey(key.key)) {
        problems.push(`${keyName}: the key in "${key.path}" is not the private key of the certificate in ${certName} "${cert.path}"`);
        return;
      }
      try {
        createSecureContext({ cert: cert.pem, key: key.pem });
      } catch (error) {
        problems.push(`${certName}, ${keyName}: not usable for TLS (${reasonOf(error)})`);
      }
    }
  };
  pair("TLS_CERT_FILE", "TLS_KEY_FILE", c.TLS_CERT_FILE, c.TLS_KEY_FILE);
  if (c.TLS_CLIENT_CA_FILE && !c.TLS_CERT_FILE) problems.push("TLS_CLIENT_CA_FILE: client certificates are checked only by a TLS listener; set TLS_CERT_FILE and TLS_KEY_FILE too");
  pair("TLS_CLIENT_CERT_FILE", "TLS_CLIENT_KEY_FILE", c.TLS_CLIENT_CERT_FILE, c.TLS_CLIENT_KEY_FILE);
  if (c.TLS_CLIENT_CERT_FILE && !c.TLS_CA_FILE) problems.push("TLS_CLIENT_CERT_FILE: expected with TLS_CA_FILE (internal calls use TLS only when the servers' CA is set)");
  return problems;
}

/** The listeners' TLS of a configuration validated by `loadConfig`, or undefined for plaintext. */
export function serverTlsOf(config: Pick<TlsVariables, "TLS_CERT_FILE" | "TLS_KEY_FILE" | "TLS_CLIENT_CA_FILE">): ServerTls | undefined {
  if (!config.TLS_CERT_FILE || !config.TLS_KEY_FILE) return undefined;
  return { cert: config.TLS_CERT_FILE.pem, key: config.TLS_KEY_FILE.pem, ...(config.TLS_CLIENT_CA_FILE && { clientCa: config.TLS_CLIENT_CA_FILE.pem }) };
}

/** The outgoing calls' TLS of a configuration validated by `loadConfig`, or undefined for plaintext. */
export function clientTlsOf(config: Pick<TlsVariables, "TLS_CA_FILE" | "TLS_CLIENT_CERT_FILE" | "TLS_CLIENT_KEY_FILE">): ClientTls | undefined {
  if (!config.TLS_CA_FILE) return undefined;
  return {
    ca: config.TLS_CA_FILE.pem,
    ...(config.TLS_CLIENT_CERT_FILE && config.TLS_CLIENT_KEY_FILE && { cert: config.TLS_CLIENT_CERT_FILE.pem, key: config.TLS_CLIENT_KEY_FILE.pem }),
  };
}

/** How a listener with `tls` serves, for its start log line: `plaintext`, `tls`, or `mutual-tls`. */
export function tlsModeOf(tls?: ServerTls): "plaintext" | "tls" | "mutual-tls" {
  return !tls ? "plaintext" : tls.clientCa ? "mutual-tls" : "tls";
}

/** Options of a Node TLS server (`https`, `tls`) for `tls`: TLS 1.2 at least, client certificates required with a client CA. */
export function tlsServerOptions(tls: ServerTls): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  return {
    cert: tls.cert,
    key: tls.key,
    minVersion: minTlsVersion,
    ...(tls.clientCa && { ca: tls.clientCa }),
    requestCert: tls.clientCa !== undefined,
    rejectUnauthorized: true,
  };
}
