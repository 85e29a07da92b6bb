/**
 * autocannon driving one HTTP/1.1 request: closed loop (`connections` keep-alive connections,
 * each sending its next request when the last is answered) or open loop (`rate` requests per
 * second over the connections). Latencies are autocannon's per-response times kept whole (its
 * own histogram rounds to milliseconds); at a rate, a response later than its connection's
 * interval also counts the requests it held back (see LatencySamples.addCorrected).
 */
import autocannon from "autocannon";
import { LatencySamples } from "./latency.js";

export interface HttpLoadOptions {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly connections: number;
  readonly seconds: number;
  /** Open loop at this many requests per second; closed loop without. */
  readonly rate?: number;
}

export interface HttpLoadResult {
  readonly latencies: LatencySamples;
  readonly ok: number;
  readonly errors: number;
  readonly seconds: number;
}

export async function runAutocannon(options: HttpLoadOptions): Promise<HttpLoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(options.url)) throw new Error(`autocannon targets loopback only, got ${options.url}`);
  const connections = options.rate === undefined ? options.connections : Math.min(options.connections, options.rate);
  const intervalUs = options.rate === undefined ? 0 : 1e6 / (options.rate / connections);
  const latencies = new LatencySamples();
  let ok = 0;
  let failed = 0;
  // autocannon 9 emits (client, statusCode, bytes, milliseconds); its typings predate the client argument.
  const onResponse = (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
    if (statusCode < 200 || statusCode >= 300) return void failed++;
    ok++;
    latencies.addCorrected(ms * 1000, intervalUs);
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: options.method,
        headers: { ...options.headers },
        ...(options.body ? { body: options.body } : {}),
        connections,
        duration: options.seconds,
        timeout: 20,
        ...(options.rate === undefined ? {} : { overallRate: options.rate }),
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on("response", onResponse as never);
  });
  return { latencies, ok, errors: failed + result.errors, seconds: (result.finish.getTime() - result.start.getTime()) / 1000 };
}
