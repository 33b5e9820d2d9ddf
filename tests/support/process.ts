/**
 * Running kernelkit's CLI and scripts in a child process of the runtime that
 * runs the tests.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";

/** Which runtime runs this test file. */
export const runtimeName: "bun" | "deno" = (globalThis as { Bun?: unknown }).Bun ? "bun" : "deno";

/** The runtime binary running the tests. */
export const runtimeBinary: string = process.execPath;

/** The argv that runs a TypeScript file with this runtime (with all permissions under Deno). */
export function scriptArgv(script: string, args: readonly string[] = []): string[] {
  return runtimeName === "bun" ? [script, ...args] : ["run", "-A", "--no-check", script, ...args];
}

/** The result of {@link runScript}. */
export interface ScriptResult {
  /** Exit status (null when killed by a signal). */
  readonly status: number | null;
  /** The signal that killed it, if any. */
  readonly signal: string | null;
  /** Captured stdout. */
  readonly stdout: string;
  /** Captured stderr. */
  readonly stderr: string;
}

/** Runs a TypeScript file with this runtime, bounded by `timeoutMs`. */
export function runScript(
  script: string,
  args: readonly string[] = [],
  options: { env?: Record<string, string>; timeoutMs?: number; prefix?: readonly string[]; binary?: string; cwd?: string } = {},
): ScriptResult {
  const argv = [options.binary ?? runtimeBinary, ...scriptArgv(script, args)];
  const full = [...(options.prefix ?? []), ...argv];
  const r = spawnSync(full[0], full.slice(1), {
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? String(r.error ?? "") };
}

/** True when the named command is on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}
