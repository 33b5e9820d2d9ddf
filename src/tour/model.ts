/**
 * What the tour reports: one row per technique of the seed's summary table,
 * each with the figures of every path it measured and a verdict computed
 * from them.
 *
 * @module
 */

/** The four techniques, in the seed's order. */
export type TechniqueId = "zero-copy" | "xdp" | "io_uring" | "hugepages";

/** The seed's summary table: what each technique saves and by which mechanism. */
export const SEED: ReadonlyArray<{
  readonly id: TechniqueId;
  readonly technique: string;
  readonly saving: string;
  readonly mechanism: string;
}> = [
  { id: "zero-copy", technique: "Zero-Copy", saving: "Data Movement", mechanism: "DMA & Page Cache bypass" },
  {
    id: "xdp",
    technique: "eBPF / XDP",
    saving: "Protocol Processing",
    mechanism: "Kernel-level execution / Early exit",
  },
  { id: "io_uring", technique: "io_uring", saving: "Context Switching", mechanism: "Shared Memory Queues" },
  { id: "hugepages", technique: "HugePages", saving: "Address Translation", mechanism: "Reduced TLB Pressure" },
];

/** One measured quantity of one path: the median of its rounds. */
export interface Measure {
  /** Short name: "GB/s", "sender CPU". */
  readonly name: string;
  /** Unit: "s/GB", "µs/op", "syscalls/op". */
  readonly unit: string;
  /** The median over the rounds. */
  readonly value: number;
  /** Which direction is better. */
  readonly better: "lower" | "higher";
  /** Every round's value, in order. */
  readonly rounds: readonly number[];
}

/** The figures of one path (the classic one, or a fast one). */
export interface PathFigures {
  /** What ran: "read + write loop", "sendfile". */
  readonly path: string;
  /** The classic path, or a fast path. */
  readonly role: "classic" | "fast";
  /** Its measures; the first is the row's primary measure. */
  readonly measures: readonly Measure[];
  /** Anything the reader should know about how this path was measured. */
  readonly note?: string;
}

/** How a row ended. */
export type RowStatus = "measured" | "skipped" | "failed";

/** The verdict of a measured row, from its primary measure. */
export type Verdict = "saves" | "no clear saving" | "costs more";

/** The saving of the best fast path over the classic path, on the primary measure. */
export interface Saving {
  /** The primary measure's name and unit. */
  readonly measure: string;
  /** Its unit. */
  readonly unit: string;
  /** The classic path and its value. */
  readonly classic: { readonly path: string; readonly value: number };
  /** The best fast path and its value. */
  readonly fast: { readonly path: string; readonly value: number };
  /** classic ÷ fast for "lower is better" (fast ÷ classic otherwise): above 1 means the fast path saves. */
  readonly factor: number;
  /** The share of the classic path's cost saved, in percent (negative: it costs more). */
  readonly percent: number;
  /** The verdict from `percent`: at least 10% saved, within ±10%, or at least 10% worse. */
  readonly verdict: Verdict;
  /** One line for the summary table: "62% less sender CPU per GB (sendfile)". */
  readonly text: string;
}

/** One technique's result. */
export interface TourRow {
  /** Which technique. */
  readonly id: TechniqueId;
  /** The seed's name for it. */
  readonly technique: string;
  /** The seed's "Primary CPU Saving". */
  readonly saving: string;
  /** The seed's "Key Mechanism". */
  readonly mechanism: string;
  /** Whether it was measured. */
  readonly status: RowStatus;
  /** The workload, in one line: "64 MiB page-cached file to a loopback TCP socket". */
  readonly workload: string;
  /** The verdict (measured rows only). */
  readonly verdict?: Verdict;
  /** The saving of the best fast path (measured rows only). */
  readonly saved?: Saving;
  /** Every path's figures; the classic path first. */
  readonly figures: readonly PathFigures[];
  /** Caveats and parts that were skipped, with their reasons. */
  readonly notes: readonly string[];
  /** Why the row was skipped or failed. */
  readonly reason?: string;
  /** What would let it run: the error's hint and the doctor's findings. */
  readonly fix?: readonly string[];
  /** Wall-clock seconds the row took. */
  readonly seconds: number;
}

/** The host the tour ran on. */
export interface TourHost {
  /** Kernel release. */
  readonly kernel: string;
  /** CPU model name. */
  readonly cpu: string;
  /** Online CPUs. */
  readonly cpus: number;
  /** "bun 1.4.5", "deno 2.9.6". */
  readonly runtime: string;
  /** Effective uid. */
  readonly euid: number;
  /** The 1-minute load average when the tour started: other work on the host shows in the figures. */
  readonly load: number;
}

/** The whole tour. */
export interface TourReport {
  /** Schema tag of this JSON. */
  readonly tour: "kernelkit";
  /** kernelkit's version. */
  readonly version: string;
  /** When it started (ISO 8601). */
  readonly startedAt: string;
  /** Wall-clock seconds it took. */
  readonly seconds: number;
  /** True for `--quick`. */
  readonly quick: boolean;
  /** Where it ran. */
  readonly host: TourHost;
  /** One row per technique, in the seed's order. */
  readonly rows: readonly TourRow[];
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Builds a measure from its rounds. */
export function measure(name: string, unit: string, better: "lower" | "higher", rounds: readonly number[]): Measure {
  return { name, unit, better, value: median(rounds), rounds: [...rounds] };
}

/**
 * The saving of the best fast path over the classic one on the primary
 * (first) measure. `what` names the measure in prose: "sender CPU per GB".
 */
export function saving(figures: readonly PathFigures[], what: string): Saving {
  const classic = figures.find((f) => f.role === "classic");
  const fasts = figures.filter((f) => f.role === "fast");
  if (!classic || fasts.length === 0) throw new Error("a saving needs a classic path and a fast path");
  const primary = classic.measures[0];
  const lower = primary.better === "lower";
  const value = (f: PathFigures) => f.measures[0].value;
  const best = fasts.reduce((a, b) => ((lower ? value(b) < value(a) : value(b) > value(a)) ? b : a));
  const c = value(classic);
  const f = value(best);
  const factor = lower ? c / f : f / c;
  const percent = lower ? (1 - f / c) * 100 : (f / c - 1) * 100;
  const verdict: Verdict = percent >= 10 ? "saves" : percent <= -10 ? "costs more" : "no clear saving";
  const amount = Math.abs(percent) < 0.5 ? "no change in" : `${Math.abs(percent).toFixed(0)}% ${
    percent > 0 ? (lower ? "less" : "more") : (lower ? "more" : "less")
  }`;
  return {
    measure: primary.name,
    unit: primary.unit,
    classic: { path: classic.path, value: c },
    fast: { path: best.path, value: f },
    factor,
    percent,
    verdict,
    text: `${amount} ${what} (${best.path}, ${factor.toFixed(2)}×)`,
  };
}
