/**
 * Claim: kernelkit's ring drives io_uring NOPs close to C liburing's rate.
 *
 * - Batch API (`ring.prep.nop` × B, `ring.submitAndWait(B)`, `ring.completions()`)
 *   at batch 1, 32 and 256, against C liburing at the same batch (target ≥ 0.9×).
 * - Promise API with 32 NOPs in flight (each completion starts the next one),
 *   against C liburing keeping 32 in flight (target ≥ 0.4×).
 *
 * The C peer is written to a temp dir and built with `gcc -O2 -luring` here.
 * Both sides run in the same run, alternating, over several rounds; the
 * figures are the medians of the rounds.
 *
 *   bun bench/uring-nop.ts
 *   deno run -A bench/uring-nop.ts
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Ring } from "../src/mod.ts";

const ROUNDS = 7;
const ROUND_MS = 400;
const WARMUP_MS = 300;
const ENTRIES = 256;

const C_SOURCE = String.raw`
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

/* usage: nop batch|inflight N ms */
int main(int argc, char **argv) {
  if (argc != 4) return 2;
  int inflight = strcmp(argv[1], "inflight") == 0;
  unsigned n = (unsigned)atoi(argv[2]);
  double ms = atof(argv[3]);
  struct io_uring ring;
  int r = io_uring_queue_init(${ENTRIES}, &ring, 0);
  if (r < 0) { fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-r)); return 1; }
  unsigned long long ops = 0, check = 0;
  long long sum = 0;
  double start = now_ns(), end = start + ms * 1e6, t = start;
  struct io_uring_cqe *cqe;
  unsigned head, seen;
  if (!inflight) {
    /* n NOPs, submit them and wait for all n, reap, again */
    for (;;) {
      for (unsigned i = 0; i < n; i++) io_uring_prep_nop(io_uring_get_sqe(&ring));
      io_uring_submit_and_wait(&ring, n);
      seen = 0;
      io_uring_for_each_cqe(&ring, head, cqe) { sum += cqe->res; seen++; }
      io_uring_cq_advance(&ring, seen);
      ops += seen;
      if (++check * n >= 64) { check = 0; t = now_ns(); if (t >= end) break; }
    }
  } else {
    /* n NOPs in flight: each completion is replaced by a new NOP */
    for (unsigned i = 0; i < n; i++) io_uring_prep_nop(io_uring_get_sqe(&ring));
    for (;;) {
      io_uring_submit_and_wait(&ring, 1);
      seen = 0;
      io_uring_for_each_cqe(&ring, head, cqe) { sum += cqe->res; seen++; }
      io_uring_cq_advance(&ring, seen);
      ops += seen;
      t = now_ns();
      if (t >= end) break;
      for (unsigned i = 0; i < seen; i++) io_uring_prep_nop(io_uring_get_sqe(&ring));
    }
  }
  printf("%llu %.0f %lld\n", ops, t - start, sum);
  io_uring_queue_exit(&ring);
  return 0;
}
`;

interface RuntimeInfo {
  readonly name: string;
  readonly version: string;
}

function runtimeInfo(): RuntimeInfo {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return { name: "bun", version: g.Bun.version };
  if (g.Deno) return { name: "deno", version: g.Deno.version.deno };
  return { name: "node", version: process.version };
}

function buildC(dir: string, name: string, source: string): string {
  const src = join(dir, `${name}.c`);
  const bin = join(dir, name);
  writeFileSync(src, source);
  execFileSync("gcc", ["-O2", "-o", bin, src, "-luring"], { stdio: ["ignore", "inherit", "inherit"] });
  return bin;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** ops/s of the C peer for one round. */
function cRound(bin: string, mode: "batch" | "inflight", n: number, ms: number): number {
  const out = execFileSync(bin, [mode, String(n), String(ms)]).toString().trim().split(" ");
  const ops = Number(out[0]);
  const ns = Number(out[1]);
  return ops / (ns / 1e9);
}

/** ops/s of the batch API for one round: B preps, submitAndWait(B), completions(). */
function batchRound(ring: Ring, batch: number, ms: number): number {
  let ops = 0;
  let sum = 0;
  let check = 0;
  const start = performance.now();
  const end = start + ms;
  let t = start;
  for (;;) {
    for (let i = 0; i < batch; i++) ring.prep.nop(i);
    ring.submitAndWait(batch);
    const done = ring.completions();
    for (let i = 0; i < done.length; i++) sum += done[i].res;
    ops += done.length;
    if (++check * batch >= 64) {
      check = 0;
      t = performance.now();
      if (t >= end) break;
    }
  }
  if (sum !== 0) throw new Error(`a NOP failed (sum of results ${sum})`);
  return ops / ((t - start) / 1000);
}

/** ops/s of the promise API with `inflight` NOPs in flight: each completion starts the next. */
async function promiseRound(ring: Ring, inflight: number, ms: number): Promise<number> {
  let ops = 0;
  let stop = false;
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (!stop) {
      await ring.nop();
      if ((++ops & 255) === 0 && performance.now() >= end) stop = true;
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < inflight; i++) workers.push(worker());
  await Promise.all(workers);
  return ops / ((performance.now() - start) / 1000);
}

interface Row {
  readonly bench: string;
  readonly what: string;
  readonly peerName: string;
  readonly kernelkit: number;
  readonly peer: number;
  readonly target: number;
  readonly kkRounds: number[];
  readonly peerRounds: number[];
}

/** The 1-minute load average: the machine may be shared, and wall-clock rates show it. */
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0];

const rt = runtimeInfo();
const loadBefore = loadavg();
const dir = mkdtempSync(join(tmpdir(), "kernelkit-bench-nop-"));
const rows: Row[] = [];
try {
  const bin = buildC(dir, "nop", C_SOURCE);
  const ring = new Ring({ entries: ENTRIES });
  try {
    for (const batch of [1, 32, 256]) {
      batchRound(ring, batch, WARMUP_MS);
      cRound(bin, "batch", batch, WARMUP_MS);
      const kk: number[] = [];
      const c: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which side goes first, so neither always runs on a warmer machine.
        if (r % 2 === 0) {
          kk.push(batchRound(ring, batch, ROUND_MS));
          c.push(cRound(bin, "batch", batch, ROUND_MS));
        } else {
          c.push(cRound(bin, "batch", batch, ROUND_MS));
          kk.push(batchRound(ring, batch, ROUND_MS));
        }
      }
      rows.push({
        bench: `uring-nop/batch-${batch}`,
        what: `NOP, batch API, batch ${batch}`,
        peerName: `C liburing, batch ${batch}`,
        kernelkit: median(kk),
        peer: median(c),
        target: 0.9,
        kkRounds: kk,
        peerRounds: c,
      });
    }
    const inflight = 32;
    await promiseRound(ring, inflight, WARMUP_MS);
    cRound(bin, "inflight", inflight, WARMUP_MS);
    const kk: number[] = [];
    const c: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        kk.push(await promiseRound(ring, inflight, ROUND_MS));
        c.push(cRound(bin, "inflight", inflight, ROUND_MS));
      } else {
        c.push(cRound(bin, "inflight", inflight, ROUND_MS));
        kk.push(await promiseRound(ring, inflight, ROUND_MS));
      }
    }
    rows.push({
      bench: `uring-nop/promise-${inflight}-in-flight`,
      what: `NOP, promise API, ${inflight} in flight`,
      peerName: `C liburing, ${inflight} in flight`,
      kernelkit: median(kk),
      peer: median(c),
      target: 0.4,
      kkRounds: kk,
      peerRounds: c,
    });
  } finally {
    ring.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const mops = (x: number) => (x / 1e6).toFixed(2);
console.log(
  `io_uring NOP: ${rt.name} ${rt.version}, ${ROUNDS} rounds of ${ROUND_MS} ms each side, medians (Mops/s); ` +
    `load average ${loadBefore} before, ${loadavg()} after`,
);
console.log("");
console.log("| what | kernelkit | peer | peer Mops/s | ratio | target | |");
console.log("|---|---:|---|---:|---:|---:|---|");
for (const r of rows) {
  const ratio = r.kernelkit / r.peer;
  console.log(
    `| ${r.what} | ${mops(r.kernelkit)} | ${r.peerName} | ${mops(r.peer)} | ${ratio.toFixed(2)}× | ≥ ${r.target}× | ${
      ratio >= r.target ? "met" : "MISSED"
    } |`,
  );
}
console.log("");
for (const r of rows) {
  console.log(`rounds ${r.bench}: kernelkit ${r.kkRounds.map(mops).join(" ")} | peer ${r.peerRounds.map(mops).join(" ")}`);
}
console.log("");
for (const r of rows) {
  console.log(JSON.stringify({
    bench: r.bench,
    kernelkit: Math.round(r.kernelkit),
    peer: Math.round(r.peer),
    ratio: Number((r.kernelkit / r.peer).toFixed(3)),
    unit: "ops/s",
    runtime: `${rt.name} ${rt.version}`,
    peer_name: r.peerName,
    target: r.target,
  }));
}
