import type { HttpResponse } from "./http-io.js";

/** Headers on every answer: no sniffing, no framing, no referrer, and a CSP that allows nothing to run. */
const apiHeaders: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
};

/** The API viewer's page runs the locally served swagger-ui scripts and styles, nothing from elsewhere. */
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export function setSecurityHeaders(res: HttpResponse, docs: boolean): void {
  for (const [name, value] of Object.entries(apiHeaders)) res.setHeader(name, value);
  if (docs) res.setHeader("content-security-policy", docsPolicy);
}
