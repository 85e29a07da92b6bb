import { describe, expect, it } from "vitest";
import { parseGrpcLoad, parseReplay } from "./engine-output.js";

describe("parseReplay", () => {
  it("reads the in-memory run and the journaled durable latency", () => {
    const output = `workload: 100000 commands over 8 instruments, seed 1, generated in 0.1 s
1. in memory, throughput
  run 1: 100000 commands in 0.010 s = 10.00 M commands/s (100 ns per command); 20000 open orders at the end

2. in memory, latency
  per command, in memory             p50       100 ns  p90       180  p99       300  p99.9       451  p99.99       761  max      166000

3. journal on: group commit of 4096 records or 1000 us, fdatasync, in x
  100000 commands in 0.031 s = 3.28 M commands/s; 25 fdatasyncs (4000 commands per group), 6.3 MB written, 63.0 bytes per record
  per command (append + apply)       p50       140 ns  p90       280  p99       441  p99.9       691  p99.99    385000  max     3000000
  durable (start -> group synced)    p50    779000 ns  p90   1120000  p99   1380000  p99.9   2440000  p99.99   3000000  max     3800000
`;
    expect(parseReplay(output)).toEqual({
      memory: { commands: 100000, seconds: 0.01, latencyUs: { p50: 0.1, p90: 0.18, p99: 0.3, p999: 0.451, max: 166 } },
      journaled: { commands: 100000, seconds: 0.031, latencyUs: { p50: 779, p90: 1120, p99: 1380, p999: 2440, max: 3800 } },
    });
  });

  it("names the line it did not find", () => {
    expect(() => parseReplay("nothing")).toThrow("no in-memory run line");
  });

  it("reads section 5, the journal committed by a thread of its own, apart from section 3", () => {
    const output = `1. in memory, throughput
  run 1: 1000 commands in 0.001 s = 1.00 M commands/s (1000 ns per command); 10 open orders at the end
2. in memory, latency
  per command, in memory             p50       100 ns  p90       180  p99       300  p99.9       451  p99.99       761  max      1000
3. journal on: group commit
  1000 commands in 0.002 s = 0.50 M commands/s; 1 fdatasyncs (1000 commands per group), 0.1 MB written, 63.0 bytes per record
  durable (start -> group synced)    p50      2000 ns  p90      2000  p99      2000  p99.9      2000  p99.99      2000  max      2000
4. this disk's fdatasync, same directory
5. journal on, committed by a thread of its own (as hft-engine does): groups sealed at 4096 records or 1000 us, in x
  1000 commands in 0.004 s = 0.25 M commands/s; 2 fdatasyncs (500 commands, 1.0 groups each), 0.1 MB written
  durable (start -> group synced)    p50      5000 ns  p90      5000  p99      5000  p99.9      5000  p99.99      5000  max      5000
`;
    const parsed = parseReplay(output);
    expect(parsed.journaled).toEqual({ commands: 1000, seconds: 0.002, latencyUs: { p50: 2, p90: 2, p99: 2, p999: 2, max: 2 } });
    expect(parsed.committer).toEqual({ commands: 1000, seconds: 0.004, latencyUs: { p50: 5, p90: 5, p99: 5, p999: 5, max: 5 } });
  });
});

describe("parseGrpcLoad", () => {
  const output = (rejections: string) => `grpc_load: 127.0.0.1:1, 1 stream(s), batch 1, open loop at 500 commands/s, 500 commands, 8 instruments (ids 1000..1007), seed 1
  500 commands acknowledged in 1.000 s = 0.5 k commands/s
  ack latency (scheduled send -> ack read) p50     163.6 us  p90     600.7  p99   10444.4  p99.9   13911.4  p99.99   14271.3  max     14271.3
  expected rejections (cancel of an order filled meanwhile): none
  UNEXPECTED rejections:${rejections}
`;
  it("reads the acknowledged commands, their latency and no unexpected outcome", () => {
    expect(parseGrpcLoad(output(" none"))).toEqual({ commands: 500, seconds: 1, latencyUs: { p50: 163.6, p90: 600.7, p99: 10444.4, p999: 13911.4, max: 14271.3 }, unexpected: 0 });
  });
  it("counts unexpected rejections and outcomes as errors", () => {
    expect(parseGrpcLoad(`${output(" REJECT_REASON_UNKNOWN_ORDER 3 REJECT_REASON_PRICE_BAND 2")}  UNEXPECTED outcomes (a passive order that did not rest, or a cancel of a filled order that succeeded): 4\n`).unexpected).toBe(9);
  });
});
