/**
 * Random 8-byte reads over a 4 GiB mapping, from JS (a Float64Array over
 * kernelkit's mapMemory) and from C (the same loop, built with gcc when the
 * bench starts), on small pages, transparent huge pages and 2 MiB hugetlb
 * pages. Each round maps every backing once in JS and once in C (alternating
 * which goes first) and times three passes over it; the table shows the
 * median of the rounds' medians.
 *
 *   bun bench/hugepages.ts [--size 4GiB] [--accesses 10000000] [--rounds 3]
 *   deno run -A bench/hugepages.ts
 *
 * The 2MB row needs a pool of size / 2 MiB pages: the bench reserves it (as
 * root), and puts the pool back as it found it afterwards. Without it, the row
 * is skipped and the reason printed.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { hugePages, KernelError, mapMemory, type PageBacking, parseSize, thp } from "../src/mod.ts";

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const size = parseSize(opt("size", "4GiB"));
const accesses = Number(opt("accesses", "10000000"));
const rounds = Number(opt("rounds", "3"));
const SEED = 0x9e3779b9 | 0;
const REPS = 3;
if (!Number.isInteger(Math.log2(size)) || size < 2 ** 21 || size > 2 ** 34) {
  throw new Error("--size must be a power of two from 2MiB to 16GiB");
}
const mask = size / 8 - 1;

const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define REPS 3
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

static double reads(const double *f, uint32_t mask, long n, uint32_t x) {
  double sum = 0;
  for (long i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    sum += f[x & mask];
  }
  return sum;
}

static unsigned long rollup(const char *key) {
  FILE *fp = fopen("/proc/self/smaps_rollup", "r");
  char line[256];
  unsigned long kb = 0;
  size_t len = strlen(key);
  while (fp && fgets(line, sizeof line, fp)) {
    if (strncmp(line, key, len) == 0) kb = strtoul(line + len + 1, NULL, 10);
  }
  if (fp) fclose(fp);
  return kb * 1024;
}

int main(int argc, char **argv) {
  if (argc != 5) return 2;
  const char *backing = argv[1];
  size_t size = strtoull(argv[2], NULL, 10);
  long n = strtol(argv[3], NULL, 10);
  uint32_t seed = (uint32_t)strtoul(argv[4], NULL, 10);
  size_t align = 2u << 20;
  char *p;
  if (strcmp(backing, "2MB") == 0) {
    p = mmap(NULL, size, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) { perror("mmap 2MB"); return 1; }
  } else {
    /* Aligned to 2 MiB like kernelkit's mappings, so only the page size differs. */
    char *raw = mmap(NULL, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) { perror("mmap"); return 1; }
    p = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    madvise(p, size, strcmp(backing, "transparent") == 0 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    if (madvise(p, size, MADV_POPULATE_WRITE) != 0) { perror("madvise"); return 1; }
  }
  const double *f = (const double *)p;
  uint32_t mask = (uint32_t)(size / 8 - 1);
  double sum = reads(f, mask, 1000000, seed ^ 0x5bd1e995u);
  /* REPS timed passes over the same mapping; the median is reported. */
  double t[REPS];
  for (int r = 0; r < REPS; r++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    sum += reads(f, mask, n, seed + r);
    clock_gettime(CLOCK_MONOTONIC, &b);
    t[r] = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
  }
  for (int i = 1; i < REPS; i++)
    for (int j = i; j > 0 && t[j - 1] > t[j]; j--) { double x = t[j]; t[j] = t[j - 1]; t[j - 1] = x; }
  double ns = t[REPS / 2];
  printf("{\"ns\": %.4f, \"sum\": %g, \"anonHuge\": %lu, \"hugetlb\": %lu}\n", ns, sum,
         rollup("AnonHugePages:"), rollup("Private_Hugetlb:"));
  return 0;
}
`;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The same loop as the C one: xorshift32 picks the element. */
function reads(f: Float64Array, m: number, n: number, seed: number): number {
  let x = seed | 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    sum += f[x & m];
  }
  return sum;
}

interface Sample {
  readonly ns: number;
  /** The share of the range in huge pages (THP or hugetlb), 0 to 1. */
  readonly huge: number;
}

function runJs(pages: PageBacking): Sample {
  using m = mapMemory(size, { pages, populate: true });
  const f = new Float64Array(m.bytes.buffer, m.bytes.byteOffset, size / 8);
  const r = m.residency();
  let sum = reads(f, mask, 1_000_000, SEED ^ 0x5bd1e995);
  // REPS timed passes over the same mapping, as the C side does; the median counts.
  const times: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now();
    sum += reads(f, mask, accesses, (SEED + rep) | 0);
    times.push(((performance.now() - t0) * 1e6) / accesses);
  }
  if (Number.isNaN(sum)) throw new Error("unreachable");
  return { ns: median(times), huge: (r.anonHugePages + r.privateHugetlb) / size };
}

function runC(binary: string, pages: PageBacking): Sample {
  const out = execFileSync(binary, [pages, String(size), String(accesses), String(SEED >>> 0)], {
    encoding: "utf8",
  });
  const r = JSON.parse(out) as { ns: number; anonHuge: number; hugetlb: number };
  return { ns: r.ns, huge: (r.anonHuge + r.hugetlb) / size };
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

const dir = mkdtempSync(join(tmpdir(), "kernelkit-bench-"));
const binary = join(dir, "random_reads");
writeFileSync(join(dir, "random_reads.c"), C_SOURCE);
execFileSync("gcc", ["-O2", "-o", binary, join(dir, "random_reads.c")]);

const backings: PageBacking[] = ["small"];
const skipped: string[] = [];
try {
  if (thp.status().enabled === "never") {
    skipped.push("transparent: THP is set to never (kernelkit thp set --enabled madvise)");
  } else backings.push("transparent");
} catch (e) {
  skipped.push(`transparent: ${e instanceof KernelError ? e.message : e}`);
}

const pool = hugePages.pool("2MB");
const poolBefore = pool?.total;
const needed = size / (2 * 2 ** 20);
try {
  if (!pool) skipped.push("2MB: this kernel has no 2 MiB hugetlb pool");
  else {
    try {
      const r = hugePages.reserve("2MB", Math.max(needed, pool.total));
      if (r.free >= needed) backings.push("2MB");
      else skipped.push(`2MB: could not reserve ${needed} pages: ${r.reason ?? `only ${r.free} free`}`);
    } catch (e) {
      skipped.push(`2MB: could not reserve ${needed} pages: ${e instanceof KernelError ? e.message : e}`);
    }
  }

  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
  const runtimeName = (globalThis as { Bun?: unknown }).Bun
    ? `bun ${process.versions.bun}`
    : `deno ${process.versions.deno}`;
  console.log(
    `random 8-byte reads over ${size / 2 ** 30} GiB, ${accesses / 1e6}M accesses, ${rounds} rounds (median)`,
  );
  console.log(`${runtimeName}, kernel ${readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()}, ${cpu}`);
  // Other work on the machine shows in these figures (the caches and the TLB are shared): say how much there was.
  const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(`load average before: ${load()}`);

  const js = new Map<PageBacking, Sample[]>(backings.map((b) => [b, []]));
  const c = new Map<PageBacking, Sample[]>(backings.map((b) => [b, []]));
  for (let round = 0; round < rounds; round++) {
    for (const b of backings) {
      if (round % 2 === 0) {
        js.get(b)!.push(runJs(b));
        c.get(b)!.push(runC(binary, b));
      } else {
        c.get(b)!.push(runC(binary, b));
        js.get(b)!.push(runJs(b));
      }
    }
  }

  const row = (b: PageBacking) => {
    const j = median(js.get(b)!.map((s) => s.ns));
    const k = median(c.get(b)!.map((s) => s.ns));
    const huge = [median(js.get(b)!.map((s) => s.huge)), median(c.get(b)!.map((s) => s.huge))];
    return { b, j, k, huge };
  };
  const rows = backings.map(row);
  const small = rows[0];
  const head = [
    "backing",
    "JS ns/read",
    "C ns/read",
    "JS/C",
    "huge JS",
    "huge C",
    "small/this JS",
    "small/this C",
  ];
  const lines = [
    head,
    ...rows.map((r) => [
      r.b,
      r.j.toFixed(1),
      r.k.toFixed(1),
      (r.j / r.k).toFixed(2),
      pct(r.huge[0]),
      pct(r.huge[1]),
      (small.j / r.j).toFixed(2),
      (small.k / r.k).toFixed(2),
    ]),
  ];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  console.log();
  for (const l of lines) {
    console.log(l.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  "));
  }
  for (const s of skipped) console.log(`skipped ${s}`);
  console.log(`load average after: ${load()}`);
  console.log();
  const gib = `${size / 2 ** 30}GiB`;
  for (const r of rows) {
    console.log(JSON.stringify({
      bench: `hugepages.random-read.${gib}.${r.b}.js-vs-c`,
      kernelkit: +r.j.toFixed(2),
      peer: +r.k.toFixed(2),
      ratio: +(r.j / r.k).toFixed(3),
      unit: "ns/read",
    }));
  }
  for (const r of rows.slice(1)) {
    console.log(JSON.stringify({
      bench: `hugepages.random-read.${gib}.${r.b}-vs-small`,
      kernelkit: +r.j.toFixed(2),
      peer: +small.j.toFixed(2),
      ratio: +(r.j / small.j).toFixed(3),
      unit: "ns/read",
    }));
  }
} finally {
  if (pool && poolBefore !== undefined && hugePages.pool("2MB")!.total !== poolBefore) {
    try {
      hugePages.reserve("2MB", poolBefore);
    } catch (e) {
      console.error(`could not put the 2MB pool back to ${poolBefore}: ${e}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
