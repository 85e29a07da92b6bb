import type { HttpResponse } from "./http-io.js";

/** Headers on every answer: no sniffing, no framing, no referrer, opener isolation; the CSP goes by path. */
const commonHeaders: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

/** The API's answers are data: nothing in them may run. */
const apiPolicy = "default-src 'none'; frame-ancestors 'none'";

/** The API viewer's page runs the locally served swagger-ui scripts and styles, nothing from elsewhere. */
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** The web console runs the gateway's own scripts and styles and talks to the gateway alone (REST, Connect, /ws). */
const consolePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The Content-Security-Policy of the answer at `path`. The console's top-level files
 * (favicon.svg) are not pages: like the API they get the policy that lets nothing run.
 */
function policyOf(path: string): string {
  if (path === "/docs" || path === "/docs/") return docsPolicy;
  if (path === "/" || path === "/index.html" || path.startsWith("/assets/")) return consolePolicy;
  return apiPolicy;
}

export function setSecurityHeaders(res: HttpResponse, path: string): void {
  for (const [name, value] of Object.entries(commonHeaders)) res.setHeader(name, value);
  res.setHeader("content-security-policy", policyOf(path));
}
