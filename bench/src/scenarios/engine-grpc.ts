/**
 * The engine over gRPC: grpc_load (the engine's own C++ OrderFlow client) against a fresh
 * hft-engine (journal with fdatasync, default flags) and against grpc_echo_server, the bare C++
 * gRPC EngineService that acknowledges every command at once: closed loop with batches and a
 * window for the most each does, then open loop at fixed rates (one command per message), each
 * command timed from its scheduled send.
 */
import { z } from "zod";
import { startEngine } from "../../../tests/support/engine-process.js";
import { parseGrpcLoad } from "../engine-output.js";
import { engineBuild, runCommand, startEngineBinary, stopChild } from "../processes.js";
import { type Measured, roleOf } from "../result.js";
import { defineScenario } from "../scenario.js";

const ENGINE = "hft-engine";
const ECHO = "bare C++ gRPC echo";

export const engineGrpc = defineScenario({
  name: "engine-grpc",
  description: "grpc_load over OrderFlow on loopback: the engine (every ack after its fdatasync) beside a bare C++ gRPC echo",
  settings: z.strictObject({
    closed: z.strictObject({ commands: z.number().int().min(1_000).max(10_000_000), batch: z.number().int().min(1).max(10_000), window: z.number().int().min(1).max(64), streams: z.number().int().min(1).max(8) }),
    seconds: z.number().min(0.5).max(120),
    rates: z.array(z.number().int().min(10).max(500_000)).max(10),
  }),
  async run(settings, { log, defer, scratch }) {
    const engine = await startEngine({ dataDir: `${scratch}/engine` });
    defer(() => engine.stop("SIGTERM"));
    const echo = await startEngineBinary("grpc_echo_server");
    defer(() => stopChild(echo.child));

    const measured: Measured[] = [];
    const drive = async (target: string, address: string, args: string[], offeredRate: number | null, flags: Record<string, number>) => {
      log(`grpc_load ${target} ${args.join(" ")}`);
      const out = await runCommand(`${engineBuild}/grpc_load`, [`--target=${address}`, "--timeout-s=300", ...args], { cwd: scratch, timeoutMs: 310_000 });
      if (out.code !== 0 && out.code !== 3) throw new Error(`grpc_load against ${target} exited with ${out.code}:\n${out.stdout}\n${out.stderr}`);
      const figure = parseGrpcLoad(out.stdout);
      measured.push({
        target,
        ...roleOf(target, ECHO),
        mode: offeredRate === null ? "closed" : "open",
        unit: "commands",
        offeredRate,
        achievedRate: figure.commands / figure.seconds,
        latencyUs: figure.latencyUs,
        samples: figure.commands,
        errors: figure.unexpected,
        durationS: figure.seconds,
        settings: flags,
      });
    };
    const { commands, batch, window, streams } = settings.closed;
    for (const [target, address] of [[ENGINE, engine.address], [ECHO, echo.address]] as const) {
      await drive(target, address, [`--commands=${commands}`, `--batch=${batch}`, `--window=${window}`, `--streams=${streams}`], null, settings.closed);
    }
    for (const rate of settings.rates) {
      const count = Math.max(100, Math.round(rate * settings.seconds));
      for (const [target, address] of [[ENGINE, engine.address], [ECHO, echo.address]] as const) {
        await drive(target, address, [`--commands=${count}`, "--batch=1", `--rate=${rate}`], rate, { commands: count, batch: 1 });
      }
    }
    return measured;
  },
});
