/**
 * What every technique of the tour measures with: CPU time, alternating
 * rounds, child processes of the same runtime, and the row's context.
 *
 * @module
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Cleanups } from "./cleanup.ts";
import type { Progress } from "./progress.ts";

/** What a technique gets from the tour. */
export interface TourContext {
  /** `--quick`: a few seconds per technique. */
  readonly quick: boolean;
  /** Where progress goes. */
  readonly progress: Progress;
  /** Where to register what must be undone. */
  readonly cleanups: Cleanups;
}

/** CPU time this process has used so far (every thread, user and system), in microseconds. */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** One run of one path: wall time, this process's CPU time, and how much work it did. */
export interface Sample {
  /** Wall-clock milliseconds. */
  readonly wallMs: number;
  /** This process's CPU microseconds (all threads). */
  readonly cpuUs: number;
  /** Units of work done: bytes, ops, accesses. */
  readonly work: number;
  /** Path-specific extras (syscalls counted, packets dropped). */
  readonly extra: Readonly<Record<string, number>>;
}

/** Runs `fn` and samples wall and CPU time around it. */
export function timed(fn: () => { work: number; extra?: Record<string, number> }): Sample {
  const c0 = cpuMicros();
  const t0 = performance.now();
  const r = fn();
  const wallMs = performance.now() - t0;
  return { wallMs, cpuUs: cpuMicros() - c0, work: r.work, extra: r.extra ?? {} };
}

/** One path of a comparison. */
export interface Side {
  /** Its name in the tables. */
  readonly name: string;
  /** One measured run. */
  run(): Sample | Promise<Sample>;
  /** Its headline for the progress line ("1.9 GB/s"). */
  headline(s: Sample): string;
}

/** Lets the event loop turn, so that a pending SIGINT handler runs between rounds. */
export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Runs every side once per round, rotating which goes first, one progress
 * step per round. Returns each side's samples, in the order of `sides`.
 */
export async function alternate(
  ctx: TourContext,
  label: string,
  sides: readonly Side[],
  rounds: number,
): Promise<Sample[][]> {
  const samples: Sample[][] = sides.map(() => []);
  for (let r = 0; r < rounds; r++) {
    ctx.progress.step(`${label}: round ${r + 1}/${rounds}`);
    const parts: string[] = [];
    for (let k = 0; k < sides.length; k++) {
      const i = (k + r) % sides.length;
      const s = await sides[i].run();
      samples[i].push(s);
      parts[i] = `${sides[i].name} ${sides[i].headline(s)}`;
      await yieldTurn();
    }
    ctx.progress.done(parts.join(", "));
  }
  return samples;
}

/** True under Deno (from node:process, so that src/ never names the runtime's global). */
export const underDeno: boolean = typeof process.versions.deno === "string";

/** "bun 1.4.5" or "deno 2.9.6". */
export function runtimeLabel(): string {
  return underDeno ? `deno ${process.versions.deno}` : `bun ${process.versions.bun ?? process.version}`;
}

/** A module of kernelkit as something the runtime can run: a path, or a URL (a JSR install). */
export function moduleArg(url: URL): string {
  return url.protocol === "file:" ? fileURLToPath(url) : url.href;
}

/** The argv that runs a kernelkit module in a child process of this runtime (all permissions under Deno). */
export function runtimeArgv(module: URL, args: readonly string[]): string[] {
  return [process.execPath, ...(underDeno ? ["run", "-A", "--no-check"] : []), moduleArg(module), ...args];
}

/** True when `name` is a command on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/** Runs a command; throws with its stderr unless it exits 0 (or `allowFail`). */
export function sh(cmd: string, args: readonly string[], allowFail = false, timeoutMs = 30_000): string {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
  if ((r.status !== 0 || r.error) && !allowFail) {
    const why = (r.stderr || r.stdout || String(r.error ?? `exit ${r.status ?? r.signal}`)).trim();
    throw new Error(`${cmd} ${args.join(" ")}: ${why}`);
  }
  return r.stdout ?? "";
}

/** A temp directory, removed by the cleanups. */
export function tempDir(ctx: TourContext, prefix: string): { readonly path: string; readonly remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `kernelkit-tour-${prefix}-`));
  const remove = ctx.cleanups.add(`remove ${path}`, () => rmSync(path, { recursive: true, force: true }));
  return { path, remove };
}

/** Online CPUs, from /proc/cpuinfo (1 when unreadable). */
export function onlineCpus(): number {
  try {
    return Math.max(1, readFileSync("/proc/cpuinfo", "utf8").split("\n").filter((l) => l.startsWith("processor")).length);
  } catch {
    return 1;
  }
}

/** Formats a number with `digits` significant digits, without exponent notation for ordinary sizes. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const abs = Math.abs(x);
  if (abs >= 10 ** digits) return Math.round(x).toLocaleString("en-US");
  return Number(x.toPrecision(digits)).toString();
}
