import type { Interceptor } from "@connectrpc/connect";
import { type TokenSource, createBearerTokenInterceptor } from "./bearer-token.js";

/** What every transport factory takes. */
export interface PlatformClientOptions {
  /** The gateway's URL, for example `http://127.0.0.1:8080` (`https://` when it serves TLS). */
  baseUrl: string;
  /** The caller's JWT, sent as a bearer token; without one only the public probes answer. */
  token?: TokenSource;
  /** More interceptors, run after the token's. */
  interceptors?: Interceptor[];
}

/** The interceptors of `options`, the bearer token's first; rejects a base URL that is not http(s). */
export function interceptorsOf(options: PlatformClientOptions): Interceptor[] {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new Error(`baseUrl "${options.baseUrl}" is not a URL: expected http://host:port or https://host:port`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`baseUrl "${options.baseUrl}" must start with http:// or https://`);
  return [...(options.token === undefined ? [] : [createBearerTokenInterceptor(options.token)]), ...(options.interceptors ?? [])];
}
