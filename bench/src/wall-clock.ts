/**
 * Wall-clock time in microseconds, for latencies measured between processes on this machine
 * (a trade's time written by the engine or a server, read by a client): the epoch time at this
 * process's start plus the monotonic clock since, finer than Date.now().
 */
export const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;

/** An RFC 3339 UTC time with up to nanoseconds ("2026-12-02T01:06:16.123456789Z") in microseconds since the epoch. */
export function rfc3339Us(text: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(text);
  if (!m) throw new Error(`not an RFC 3339 UTC time: ${text}`);
  return Date.parse(`${m[1]}Z`) * 1000 + Number(((m[2] ?? "") + "000000").slice(0, 6));
}

/** Now as RFC 3339 with microseconds, as protobuf JSON writes a Timestamp. */
export function rfc3339Now(): string {
  const us = nowUs();
  return `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(Math.floor(us % 1_000_000)).padStart(6, "0")}Z`;
}
