/**
 * `runTour`: measures each technique of the seed's summary table against its
 * classic path on this host, with kernelkit running both sides in the same
 * process, alternating rounds, and returns one row per technique.
 *
 * A technique that this host or user can't run is skipped with the reason
 * and the doctor's findings; the others still run. Whatever a technique
 * creates (namespaces, veth pairs, iptables rules, XDP links, hugepage
 * reservations, child processes, temp files) is undone when its row ends,
 * also when it fails, and on SIGINT or SIGTERM when `handleSignals` is set.
 *
 * It uses only kernelkit's public API (`src/mod.ts`), and the `kernelkit xdp
 * flood` command for the XDP row's generator.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { doctor, type DoctorRow, KernelError } from "../mod.ts";
import { Cleanups, cleanUpOnSignals } from "./cleanup.ts";
import { hugePagesRow } from "./hugepages.ts";
import { onlineCpus, runtimeLabel, type TourContext } from "./measure.ts";
import { SEED, type TechniqueId, type TourHost, type TourReport, type TourRow } from "./model.ts";
import { type Progress, silentProgress } from "./progress.ts";
import { ioUring } from "./uring.ts";
import { xdpMissing, xdpRow } from "./xdp.ts";
import { zeroCopy } from "./zerocopy.ts";

export type { Measure, PathFigures, Saving, TechniqueId, TourHost, TourReport, TourRow, Verdict } from "./model.ts";
export { type Progress, type ProgressSink, createProgress } from "./progress.ts";
export { reportHtml, reportText, summaryTable } from "./report.ts";

/** kernelkit's version, as in package.json and deno.json (a test keeps them in step). */
export const VERSION = "0.1.0";

/** Options of {@link runTour}. */
export interface TourOptions {
  /** A few seconds per technique instead of about fifteen. */
  readonly quick?: boolean;
  /** Only these techniques (default: all four); the others are reported as skipped. */
  readonly only?: readonly TechniqueId[];
  /** Where progress goes (default: nowhere). */
  readonly progress?: Progress;
  /**
   * Undo everything on SIGINT or SIGTERM, then call this (the CLI prints a
   * line and exits 130). Without it, no signal handler is installed.
   */
  readonly onSignal?: (signal: string, cleanupFailures: string[]) => void;
}

type Measured = Pick<TourRow, "workload" | "figures" | "notes" | "saved" | "verdict">;

const RUN: Record<TechniqueId, (ctx: TourContext) => Promise<Measured>> = {
  "zero-copy": zeroCopy,
  xdp: xdpRow,
  io_uring: ioUring,
  hugepages: hugePagesRow,
};

/** Which of the doctor's areas (and items) tell why a technique can't run. */
const DOCTOR_AREAS: Record<TechniqueId, readonly string[]> = {
  "zero-copy": ["io_uring", "liburing"],
  xdp: ["bpf", "libbpf", "privileges"],
  io_uring: ["io_uring", "liburing"],
  hugepages: ["memory"],
};
const XDP_PRIVILEGES = new Set(["user", "CAP_BPF", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"]);

let doctorRows: readonly DoctorRow[] | undefined;

/** The doctor's findings that say why `id` can't run: its failing rows, as "item: value". */
function doctorFixes(id: TechniqueId): string[] {
  try {
    doctorRows ??= doctor().rows;
  } catch (e) {
    return [`the doctor could not run: ${e instanceof Error ? e.message : String(e)}`];
  }
  return doctorRows
    .filter((r) => r.ok === false && DOCTOR_AREAS[id].includes(r.area))
    .filter((r) => r.item !== "tracefs" && (r.area !== "privileges" || XDP_PRIVILEGES.has(r.item)))
    .map((r) => `doctor: ${r.area} ${r.item}: ${r.value}`);
}

function readFirst(path: string, pattern: RegExp): string | undefined {
  try {
    return pattern.exec(readFileSync(path, "utf8"))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/** Where the tour runs. */
export function tourHost(): TourHost {
  return {
    kernel: readFirst("/proc/sys/kernel/osrelease", /(.+)/) ?? "unknown",
    cpu: readFirst("/proc/cpuinfo", /model name\s*:\s*(.+)/) ?? "unknown CPU",
    cpus: onlineCpus(),
    runtime: runtimeLabel(),
    euid: process.geteuid?.() ?? -1,
    load: Number(readFirst("/proc/loadavg", /^(\S+)/) ?? NaN),
  };
}

async function runRow(id: TechniqueId, ctx: TourContext, selected: boolean): Promise<TourRow> {
  const seed = SEED.find((s) => s.id === id)!;
  const base = { id, technique: seed.technique, saving: seed.saving, mechanism: seed.mechanism };
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const skipped = (reason: string, fix: string[], status: "skipped" | "failed" = "skipped"): TourRow => {
    ctx.progress.note(`${seed.technique}: ${status}: ${reason}`);
    return { ...base, status, workload: "", figures: [], notes: [], reason, fix, seconds: seconds() };
  };
  if (!selected) return skipped("not selected (--only)", []);
  const missing = id === "xdp" ? xdpMissing() : null;
  if (missing) return skipped(missing.reason, [...missing.fix, ...doctorFixes(id)]);
  try {
    const m = await RUN[id](ctx);
    return { ...base, status: "measured", ...m, seconds: seconds() };
  } catch (e) {
    const failures = ctx.cleanups.runAll();
    ctx.progress.stop();
    const undo = failures.map((f) => `cleanup failed: ${f}`);
    if (e instanceof KernelError) {
      return skipped(e.message, [...(e.hint ? [e.hint] : []), ...doctorFixes(id), ...undo]);
    }
    return skipped(e instanceof Error ? e.message : String(e), undo, "failed");
  } finally {
    ctx.cleanups.runAll();
  }
}

/** Runs the tour: one row per technique, in the seed's order. */
export async function runTour(options: TourOptions = {}): Promise<TourReport> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const progress = options.progress ?? silentProgress;
  const cleanups = new Cleanups();
  const ctx: TourContext = { quick: options.quick === true, progress, cleanups };
  const host = tourHost();
  const removeHandlers = options.onSignal
    ? cleanUpOnSignals(cleanups, (signal, failures) => {
      progress.stop();
      options.onSignal!(signal, failures);
    })
    : () => {};
  const rows: TourRow[] = [];
  try {
    for (const { id } of SEED) rows.push(await runRow(id, ctx, options.only?.includes(id) ?? true));
  } finally {
    progress.stop();
    cleanups.runAll();
    removeHandlers();
  }
  return {
    tour: "kernelkit",
    version: VERSION,
    startedAt,
    seconds: (performance.now() - t0) / 1000,
    quick: ctx.quick,
    host,
    rows,
  };
}
