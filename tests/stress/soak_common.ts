/**
 * What the soak children (tests/stress/soak_*.ts) share: forced GC, RSS and
 * open fds of this process, a seeded random source, and argv options.
 *
 * Run the children with GC exposed: Bun has Bun.gc; Deno needs
 * DENO_V8_FLAGS=--expose-gc (soak.test.ts sets it).
 *
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import process from "node:process";

const g = globalThis as {
  Bun?: { gc(sync: boolean): void };
  gc?: (options?: Record<string, string>) => void;
};

/**
 * Forces a full GC twice, with a macrotask between (finalizers run, then what
 * they freed goes). In V8 it asks for the "last-resort" flavour, which also
 * gives the heap's free pages back: a plain gc() leaves the young generation
 * at whatever size the busiest moment grew it to, tens of MB that are free
 * but still resident, and not a leak.
 */
export async function fullGc(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    if (g.Bun) g.Bun.gc(true);
    else if (g.gc) g.gc({ type: "major", execution: "sync", flavor: "last-resort" });
    else throw new Error("no gc(): run Deno with DENO_V8_FLAGS=--expose-gc");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The resident set once the process has been idle a moment: full GC, a pause
 * of `settleMs`, full GC again. The pause lets the allocators give back what
 * GC freed (Bun's returns free pages from a background scavenger: measured
 * right after a busy stretch, the same heap reads up to 20 MB higher than
 * half a second later).
 */
export async function settledRss(settleMs = 600): Promise<number> {
  await fullGc();
  await new Promise((r) => setTimeout(r, settleMs));
  await fullGc();
  return rss();
}

/** This process's resident set, in bytes (VmRSS of /proc/self/status). */
export function rss(): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;
}

/** This process's open fds: fd number → what it points at (/proc/self/fd). */
export function openFds(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync("/proc/self/fd")) {
    try {
      out.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // The listing's own fd, closed by now.
    }
  }
  return out;
}

/** What `after` holds that `before` didn't, as "fd → target" lines. */
export function newFds(before: Map<number, string>, after: Map<number, string>): string[] {
  const out: string[] = [];
  for (const [fd, target] of after) if (before.get(fd) !== target) out.push(`${fd} → ${target}`);
  return out;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same soak. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The numeric value of `--name N` in argv, or `fallback`. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number, got ${process.argv[i + 1]}`);
  return v;
}

/** The string value of `--name S` in argv, or `fallback`. */
export function stringArg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1] !== undefined) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

/** How many of `fds` are pipe ends. */
export function pipeCount(fds: Map<number, string>): number {
  let n = 0;
  for (const target of fds.values()) if (target.startsWith("pipe:")) n++;
  return n;
}

/** The memory and fd figures every soak reports. */
export interface Footprint {
  /** VmRSS after warm-up and GC, bytes. */
  readonly rssBaseline: number;
  /** VmRSS after the soak and GC, bytes. */
  readonly rssAfter: number;
  /** The highest VmRSS sampled during the soak, bytes. */
  readonly rssPeak: number;
  /** Open fds at the baseline. */
  readonly fdsBaseline: number;
  /** Open fds after the soak, with the same objects open as at the baseline. */
  readonly fdsAfter: number;
  /** fds open after the soak that weren't at the baseline. */
  readonly fdsNew: string[];
  /** fds open at the baseline that aren't any more. */
  readonly fdsGone: string[];
}

/**
 * The Footprint of a soak from its baseline and what is open now. fds whose
 * target matches `apart` (a pool the soak counts on its own, such as pipes)
 * are left out of the new and gone lists.
 */
export function footprint(
  baseline: { readonly rss: number; readonly fds: Map<number, string> },
  now: { readonly rss: number; readonly fds: Map<number, string>; readonly rssPeak: number },
  apart?: RegExp,
): Footprint {
  const keep = (l: string) => !apart || !apart.test(l);
  return {
    rssBaseline: baseline.rss,
    rssAfter: now.rss,
    rssPeak: Math.max(now.rssPeak, now.rss),
    fdsBaseline: baseline.fds.size,
    fdsAfter: now.fds.size,
    fdsNew: newFds(baseline.fds, now.fds).filter(keep),
    fdsGone: newFds(now.fds, baseline.fds).filter(keep),
  };
}
