import type { Redis } from "ioredis";
import type { BackendRoutes } from "./backends.js";

/** One dependency's state as /health reports it. */
export interface DependencyState {
  readonly name: string;
  readonly target: string;
  readonly up: boolean;
  readonly latencyMs: number;
  readonly status: string;
}

export interface HealthReport {
  readonly status: "ok" | "unavailable";
  readonly dependencies: readonly DependencyState[];
}

export interface ProbesOptions {
  readonly backends: BackendRoutes;
  readonly redis: Redis;
  readonly redisTarget: string;
  /** Longest wait for one dependency, in ms. */
  readonly timeoutMs: number;
}

async function timed(name: string, target: string, check: () => Promise<{ up: boolean; status: string }>): Promise<DependencyState> {
  const started = performance.now();
  const result = await check();
  return { name, target, ...result, latencyMs: Math.round((performance.now() - started) * 1000) / 1000 };
}

/**
 * Checks every dependency at once: each backend service through the standard gRPC health service
 * (by the service's full name: a backend that does not serve it is down for it), and Redis by
 * PING. Each check has its own timeout, so one hung dependency does not hide the others.
 */
export function createProbes(options: ProbesOptions) {
  const { backends, redis, timeoutMs } = options;
  async function pingRedis(): Promise<{ up: boolean; status: string }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        redis.ping(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
      return { up: answer === "PONG", status: answer === "PONG" ? "SERVING" : `unexpected answer ${answer}` };
    } catch (error) {
      return { up: false, status: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
  return async function checkHealth(): Promise<HealthReport> {
    const dependencies = await Promise.all([
      ...backends.services.map(({ service, backend }) => timed(service.typeName, backend.address, () => backend.check(service.typeName, timeoutMs))),
      timed("redis", options.redisTarget, pingRedis),
    ]);
    return { status: dependencies.every((d) => d.up) ? "ok" : "unavailable", dependencies };
  };
}
