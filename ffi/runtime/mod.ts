/**
 * Picks the runtime adapter for the JS runtime kernelkit runs in.
 *
 * @module
 */
import { createBunRuntime } from "./bun.ts";
import { createDenoRuntime } from "./deno.ts";
import type { Runtime, RuntimeName } from "./types.ts";

export type * from "./types.ts";

/** The runtime kernelkit runs in, or null when it is neither Bun nor Deno. */
export function detectRuntime(): RuntimeName | null {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Bun === "object" && g.Bun !== null) return "bun";
  if (typeof g.Deno === "object" && g.Deno !== null) return "deno";
  return null;
}

/** The host's operating system as the runtime reports it ("linux", "darwin", ...). */
export function platform(): string {
  const g = globalThis as { process?: { platform?: string }; Deno?: { build: { os: string } } };
  return g.Deno?.build.os ?? g.process?.platform ?? "unknown";
}

let cached: Runtime | undefined;

/**
 * The adapter for this runtime, created on first use.
 * Throws a plain Error outside Bun and Deno.
 */
export function runtime(): Runtime {
  if (cached) return cached;
  const name = detectRuntime();
  if (name === "bun") cached = createBunRuntime();
  else if (name === "deno") cached = createDenoRuntime();
  else throw new Error("kernelkit runs on Bun or Deno; this runtime has neither bun:ffi nor Deno.dlopen");
  return cached;
}
