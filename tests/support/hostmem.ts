/**
 * Saving and restoring the host's hugetlb pools and THP policy around tests
 * that change them. It reads and writes sysfs directly, not through
 * kernelkit, so a kernelkit bug can't stop the restore.
 *
 * The host's pools are one shared thing: two test runs on one machine (both
 * runtimes, or two checkouts) would change them under each other. So tests
 * that change or compare them hold a lock, a directory in the temp dir, for
 * the duration.
 *
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const POOLS = "/sys/kernel/mm/hugepages";
const THP = "/sys/kernel/mm/transparent_hugepage";

/** The settings saved by {@link saveHostMemory}. */
export interface HostMemory {
  /** nr_hugepages file to its value. */
  readonly files: ReadonlyMap<string, string>;
}

const selected = (text: string): string => /\[([^\]]+)\]/.exec(text)?.[1] ?? text.trim();

/** Reads every pool's nr_hugepages and THP's enabled and defrag. */
export function saveHostMemory(): HostMemory {
  const files = new Map<string, string>();
  for (const d of readdirSync(POOLS)) {
    const f = `${POOLS}/${d}/nr_hugepages`;
    files.set(f, readFileSync(f, "utf8").trim());
  }
  for (const s of ["enabled", "defrag"]) {
    const f = `${THP}/${s}`;
    try {
      files.set(f, selected(readFileSync(f, "utf8")));
    } catch {
      // No THP on this kernel.
    }
  }
  return { files };
}

/** Writes back what {@link saveHostMemory} read; returns the files that still differ. */
export function restoreHostMemory(saved: HostMemory): string[] {
  const differ: string[] = [];
  for (const [f, v] of saved.files) {
    const now = f.startsWith(THP) ? selected(readFileSync(f, "utf8")) : readFileSync(f, "utf8").trim();
    if (now === v) continue;
    try {
      writeFileSync(f, `${v}\n`);
    } catch {
      // Reported below.
    }
    const after = f.startsWith(THP) ? selected(readFileSync(f, "utf8")) : readFileSync(f, "utf8").trim();
    if (after !== v) differ.push(`${f}: ${after}, was ${v}`);
  }
  return differ;
}

const LOCK = join(tmpdir(), "kernelkit-host-memory.lock");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** Takes the host-memory lock, waiting for another test run to finish with it; returns the release. */
async function lock(): Promise<() => void> {
  const deadline = Date.now() + 25_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(LOCK, "pid"), "utf8"));
    } catch {
      // Taken a moment ago and the pid not written yet, or its holder died in between.
    }
    const stale = Number.isNaN(holder) ? Date.now() - statSync(LOCK).mtimeMs > 5_000 : !alive(holder);
    if (stale) rmSync(LOCK, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new Error(`another test run (pid ${holder}) holds ${LOCK}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs `fn` holding the host-memory lock, with the host's pools and THP policy
 * saved, and restores them afterwards, whether `fn` passed or failed.
 */
export async function withHostMemory(fn: () => void | Promise<void>): Promise<void> {
  const unlock = await lock();
  let differ: string[] = [];
  try {
    const saved = saveHostMemory();
    try {
      await fn();
    } finally {
      differ = restoreHostMemory(saved);
    }
  } finally {
    unlock();
  }
  // Reached only when fn passed: a failure of fn wins over a failed restore.
  if (differ.length) throw new Error(`could not restore the host's memory settings: ${differ.join("; ")}`);
}
