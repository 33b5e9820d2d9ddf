/**
 * The HugePages row: random 8-byte reads over one large buffer, on 4 KiB
 * pages (the classic path), on transparent huge pages, and on 2 MiB hugetlb
 * pages when a pool can be had, in alternating rounds. Reported: CPU time per
 * access, and how much of each buffer the kernel really backed with huge
 * pages (from /proc/self/smaps).
 *
 * When the 2 MiB pool lacks free pages and the tour runs as root, it grows
 * the pool by what it needs and puts it back as it found it afterwards (and
 * on Ctrl-C).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { hugePages, KernelError, mapMemory, type Mapping, type PageBacking, thp } from "../mod.ts";
import { measure, type PathFigures, saving, type TourRow } from "./model.ts";
import { alternate, type Sample, type Side, timed, type TourContext } from "./measure.ts";

type Partial = Pick<TourRow, "workload" | "figures" | "notes" | "saved" | "verdict">;

const MiB = 2 ** 20;
const HUGE = 2 * MiB;

/** The same loop for every backing: xorshift32 picks the element. */
function reads(f: Float64Array, mask: number, n: number, seed: number): number {
  let x = seed | 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    sum += f[x & mask];
  }
  return sum;
}

function memAvailable(): number {
  try {
    const kb = /MemAvailable:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

/** The buffer size: `target`, halved until three of them fit in a sixth of the available memory. */
function bufferSize(target: number): number {
  const budget = memAvailable() / 6;
  let size = target;
  while (size > 64 * MiB && size > budget) size /= 2;
  return size;
}

interface Backing {
  readonly name: string;
  readonly pages: PageBacking;
  readonly mapping: Mapping;
  /** The share of the buffer in huge pages (THP or hugetlb), 0 to 1. */
  readonly huge: number;
  /** Unmaps it now and takes it off the cleanups. */
  readonly unmap: () => void;
}

/** Measures the HugePages row. */
export async function hugePagesRow(ctx: TourContext): Promise<Partial> {
  const rounds = ctx.quick ? 2 : 3;
  const accesses = ctx.quick ? 4_000_000 : 16_000_000;
  const size = bufferSize(ctx.quick ? 256 * MiB : 1024 * MiB);
  const notes: string[] = [];
  const backings: Backing[] = [];
  const map = (name: string, pages: PageBacking): Backing => {
    const mapping = mapMemory(size, { pages, populate: true });
    const unmap = ctx.cleanups.add(`unmap the ${name} buffer`, () => mapping.close());
    const r = mapping.residency();
    const b = { name, pages, mapping, huge: (r.anonHugePages + r.privateHugetlb) / size, unmap };
    backings.push(b);
    return b;
  };
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

  ctx.progress.step(`hugepages: a ${size / MiB} MiB buffer on 4 KiB pages`);
  map("4 KiB pages", "small");
  ctx.progress.done();

  ctx.progress.step(`hugepages: a ${size / MiB} MiB buffer on transparent huge pages`);
  if (thp.status().enabled === "never") {
    notes.push("transparent huge pages skipped: THP is set to never (kernelkit thp set --enabled madvise)");
    ctx.progress.done("skipped: THP is set to never");
  } else {
    const b = map("transparent huge pages", "transparent");
    if (b.huge < 0.5) {
      notes.push(`the kernel backed only ${pct(b.huge)} of the THP buffer with huge pages (memory fragmented?)`);
    }
    ctx.progress.done(`${pct(b.huge)} in huge pages`);
  }

  ctx.progress.step(`hugepages: a ${size / MiB} MiB buffer on 2 MiB hugetlb pages`);
  const need = size / HUGE;
  const pool = hugePages.pool("2MB");
  // Reserved pages are free but promised to other mappings.
  const available = (p: typeof pool) => (p ? Math.max(0, p.free - p.reserved) : 0);
  let restorePool: (() => void) | undefined;
  if (!pool) {
    notes.push("2 MiB hugetlb skipped: this kernel has no 2 MiB pool (built without HUGETLBFS)");
    ctx.progress.done("skipped: no 2 MiB pool");
  } else if (available(pool) < need && process.getuid?.() !== 0) {
    notes.push(
      `2 MiB hugetlb skipped: the pool has ${available(pool)} free pages of the ${need} needed, and only root can ` +
        `grow it (sudo kernelkit hugepages reserve ${pool.total + need - available(pool)} --size 2MB)`,
    );
    ctx.progress.done("skipped: not enough free pages, and not root");
  } else {
    const before = pool.total;
    if (available(pool) < need) {
      // Registered before the write, so that Ctrl-C right after it still restores the pool.
      // The buffer's own cleanup comes later, so it runs first: unmap, then shrink.
      // The pool is the host's: if someone else resized it meanwhile, theirs is the size to keep.
      let grownTo = -1;
      restorePool = ctx.cleanups.add(`put the 2 MiB pool back to ${before} pages`, () => {
        const now = hugePages.pool("2MB")?.total;
        if (grownTo < 0 || now === grownTo) hugePages.reserve("2MB", before);
      });
      const r = hugePages.reserve("2MB", before + need - available(pool));
      grownTo = r.total;
      if (available(hugePages.pool("2MB")) < need) {
        notes.push(`2 MiB hugetlb skipped: the kernel gave ${r.total - before} of the ${need} pages asked${r.reason ? `: ${r.reason}` : ""}`);
      }
    }
    let got: Backing | undefined;
    if (available(hugePages.pool("2MB")) >= need) {
      try {
        got = map("2 MiB hugetlb pages", "2MB");
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        notes.push(`2 MiB hugetlb skipped: ${e.message}`);
      }
    }
    if (!got) {
      restorePool?.();
      restorePool = undefined;
    }
    ctx.progress.done(
      got ? `${need} pages${restorePool ? `, the pool grown from ${before} pages for the tour` : ""}` : "skipped",
    );
  }

  const mask = size / 8 - 1;
  let seed = 0x9e3779b9 | 0;
  let sink = 0;
  const views = backings.map((b) => new Float64Array(b.mapping.bytes.buffer, b.mapping.bytes.byteOffset, size / 8));
  for (const v of views) sink += reads(v, mask, 200_000, seed++); // compiled once, for all
  const sides: Side[] = backings.map((b, i) => ({
    name: b.name,
    run: (): Sample =>
      timed(() => {
        let done = 0;
        // Slices, so the spinner turns.
        while (done < accesses) {
          sink += reads(views[i], mask, 250_000, seed++);
          done += 250_000;
          ctx.progress.tick();
        }
        return { work: done };
      }),
    headline: (s) => `${((s.cpuUs * 1000) / s.work).toFixed(1)} ns`,
  }));
  if (sides.length < 2) throw new Error("neither transparent nor hugetlb huge pages could be had here");
  const samples = await alternate(ctx, "hugepages", sides, rounds);
  if (Number.isNaN(sink)) throw new Error("unreachable");

  ctx.progress.step(`hugepages: unmapping the buffers${restorePool ? ", putting the 2 MiB pool back" : ""}`);
  for (const b of backings) b.unmap();
  restorePool?.();
  ctx.progress.done();

  const figures: PathFigures[] = backings.map((b, i) => ({
    path: b.name,
    role: i === 0 ? "classic" : "fast",
    measures: [
      measure("CPU per access", "ns", "lower", samples[i].map((s) => (s.cpuUs * 1000) / s.work)),
      measure("wall time per access", "ns", "lower", samples[i].map((s) => (s.wallMs * 1e6) / s.work)),
    ],
    note: `${pct(b.huge)} of the buffer in huge pages (smaps)`,
  }));
  notes.push(
    "an access is one random 8-byte read in JS; most of its time is the cache miss, which huge pages do not remove",
  );
  const saved = saving(figures, "time per access");
  return {
    workload: `${accesses / 1e6} M random 8-byte reads over a ${size / MiB} MiB buffer per round, ` +
      `${rounds} rounds, medians`,
    figures,
    saved,
    verdict: saved.verdict,
    notes,
  };
}
