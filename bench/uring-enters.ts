/**
 * Claim: kernelkit makes one io_uring_enter per batch, and none at all while an
 * SQPOLL thread is awake. Targets: ≤ 1/32 enter per op at batch 32, ≤ 1 per
 * 10,000 ops with SQPOLL.
 *
 * Each case runs in a child process (this file with `--child CASE N`) under
 * `strace -c -f -e trace=io_uring_enter`, so every thread's calls count, the
 * runtime's own included (not with --seccomp-bpf: strace 6.1 then missed the
 * single SQ_WAKEUP enter of the C SQPOLL case). The child also reports `ring.stats.enters`. The C
 * peer (liburing, built with gcc here) runs the same cases under strace. Needs
 * strace (scripts/setup.sh installs it).
 *
 *   bun bench/uring-enters.ts
 *   deno run -A bench/uring-enters.ts
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Ring } from "../src/mod.ts";

const BATCH = 32;
const N_BATCH = 160_000;
const N_SQPOLL = 1_000_000;
const SQ_IDLE_MS = 2000;
const ROUNDS = 2;

type Case = "batch" | "promise" | "sqpoll-batch" | "sqpoll-promise";

const g = globalThis as unknown as { Bun?: { version: string }; Deno?: typeof Deno };

/** The child: runs `n` NOPs in one way and prints its ring's stats as JSON. */
async function child(kind: Case, n: number): Promise<void> {
  const sqpoll = kind.startsWith("sqpoll");
  const ring = new Ring({ entries: 256, ...(sqpoll ? { sqpoll: { idleMs: SQ_IDLE_MS } } : {}) });
  let ops = 0;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const t0 = performance.now();
  if (kind === "batch" || kind === "sqpoll-batch") {
    while (ops < n) {
      for (let i = 0; i < BATCH; i++) ring.prep.nop(i);
      if (sqpoll) {
        // No system call: the SQ thread takes the SQEs; the CQ is shared memory.
        ring.submit();
        // Spin a little, then sleep 20 µs (a futex, not an io_uring_enter) so that the
        // SQ thread gets a core even when the machine is busy.
        for (let spins = 0; ring.cqReady() < BATCH; spins++) {
          if (spins >= 2000) Atomics.wait(nap, 0, 0, 0.02);
        }
      } else {
        ring.submitAndWait(BATCH);
      }
      ops += ring.completions().length;
    }
  } else {
    // Exactly n ops: each worker claims one before it starts it.
    let started = 0;
    const worker = async () => {
      while (started < n) {
        started++;
        await ring.nop();
        ops++;
      }
    };
    await Promise.all(Array.from({ length: BATCH }, worker));
  }
  const ms = performance.now() - t0;
  const stats = { ...ring.stats };
  ring.close();
  console.log(JSON.stringify({ ops, ms, enters: stats.enters, wakeups: stats.wakeups }));
}

const C_SOURCE = String.raw`
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* usage: enters batch|sqpoll N: N NOPs, 32 at a time */
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int sqpoll = strcmp(argv[1], "sqpoll") == 0;
  unsigned long long n = strtoull(argv[2], 0, 10), ops = 0;
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  if (sqpoll) { p.flags = IORING_SETUP_SQPOLL; p.sq_thread_idle = ${SQ_IDLE_MS}; }
  struct io_uring ring;
  int r = io_uring_queue_init_params(256, &ring, &p);
  if (r < 0) { fprintf(stderr, "io_uring_queue_init_params: %s\n", strerror(-r)); return 1; }
  struct io_uring_cqe *cqe;
  unsigned head, seen;
  while (ops < n) {
    for (int i = 0; i < ${BATCH}; i++) io_uring_prep_nop(io_uring_get_sqe(&ring));
    if (sqpoll) {
      io_uring_submit(&ring); /* enters only when the SQ thread sleeps */
      for (int spins = 0; io_uring_cq_ready(&ring) < ${BATCH}; spins++)
        if (spins >= 2000) usleep(20); /* as the JS side: give the SQ thread a core */
    } else {
      io_uring_submit_and_wait(&ring, ${BATCH});
    }
    seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) seen++;
    io_uring_cq_advance(&ring, seen);
    ops += seen;
  }
  printf("{\"ops\":%llu}\n", ops);
  io_uring_queue_exit(&ring);
  return 0;
}
`;

interface Counted {
  readonly ops: number;
  /** io_uring_enter calls strace saw, every thread. */
  readonly straced: number;
  /** ring.stats.enters (kernelkit only). */
  readonly stats?: number;
}

/** Runs `argv` under strace -c -f and returns the io_uring_enter count and the child's JSON. */
function straced(dir: string, argv: string[]): { calls: number; out: Record<string, number> } {
  const log = join(dir, "strace.txt");
  const r = spawnSync("strace", ["-f", "-c", "-e", "trace=io_uring_enter", "-o", log, ...argv], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  const summary = readFileSync(log, "utf8");
  // "% time  seconds  usecs/call  calls  errors syscall": the calls column of the io_uring_enter row.
  const row = summary.split("\n").find((l) => /\sio_uring_enter$/.test(l.trim()) || l.trim().endsWith(" io_uring_enter"));
  let calls = 0;
  if (row) {
    const cols = row.trim().split(/\s+/);
    calls = Number(cols[3]);
  }
  const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (!line) throw new Error(`no result from ${argv.join(" ")}: ${r.stdout} ${r.stderr}`);
  return { calls, out: JSON.parse(line) };
}

function selfArgv(kind: Case, n: number): string[] {
  const file = new URL(import.meta.url).pathname;
  if (g.Deno) return [process.execPath, "run", "-A", file, "--child", kind, String(n)];
  return [process.execPath, file, "--child", kind, String(n)];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const rt = g.Bun ? `bun ${g.Bun.version}` : g.Deno ? `deno ${g.Deno.version.deno}` : `node ${process.version}`;
  try {
    execFileSync("strace", ["-V"], { stdio: "ignore" });
  } catch {
    console.error("uring-enters: strace is missing (apt-get install strace, or scripts/setup.sh)");
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), "kernelkit-bench-enters-"));
  interface Row {
    id: string;
    what: string;
    target: number;
    peerCase: string;
    kk: Counted[];
    c: Counted[];
  }
  const rows: Row[] = [
    { id: "batch-32", what: `batch API, batch ${BATCH} (submitAndWait)`, target: 1 / 32, peerCase: "batch", kk: [], c: [] },
    { id: "promise-32", what: `promise API, ${BATCH} in flight`, target: 1 / 32, peerCase: "batch", kk: [], c: [] },
    { id: "sqpoll-batch", what: `SQPOLL, batch API, batch ${BATCH} (submit, poll cqReady)`, target: 1e-4, peerCase: "sqpoll", kk: [], c: [] },
    { id: "sqpoll-promise", what: `SQPOLL, promise API, ${BATCH} in flight`, target: 1e-4, peerCase: "sqpoll", kk: [], c: [] },
  ];
  try {
    const src = join(dir, "enters.c");
    const bin = join(dir, "enters");
    writeFileSync(src, C_SOURCE);
    execFileSync("gcc", ["-O2", "-o", bin, src, "-luring"], { stdio: ["ignore", "inherit", "inherit"] });
    for (let round = 0; round < ROUNDS; round++) {
      for (const row of rows) {
        const kind = row.id === "batch-32" ? "batch" : row.id === "promise-32" ? "promise" : (row.id as Case);
        const n = kind.startsWith("sqpoll") ? N_SQPOLL : N_BATCH;
        const k = straced(dir, selfArgv(kind, n));
        row.kk.push({ ops: k.out.ops, straced: k.calls, stats: k.out.enters });
        const c = straced(dir, [bin, row.peerCase, String(n)]);
        row.c.push({ ops: c.out.ops, straced: c.calls });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const per = (xs: Counted[]) => median(xs.map((x) => x.straced / x.ops));
  const fmt = (x: number) => (x === 0 ? "0" : x >= 0.001 ? x.toFixed(4) : x.toExponential(2));
  console.log(`io_uring_enter calls per op, counted by strace -f (all threads): ${rt}; median of ${ROUNDS} runs per case`);
  console.log(`(${N_BATCH.toLocaleString("en")} NOPs per run, ${N_SQPOLL.toLocaleString("en")} with SQPOLL; SQ thread idle ${SQ_IDLE_MS} ms)`);
  console.log("");
  console.log("| case | kernelkit enters/op | enters (strace) | ring.stats.enters | C liburing enters/op | target | |");
  console.log("|---|---:|---:|---:|---:|---:|---|");
  for (const r of rows) {
    const x = per(r.kk);
    const ok = x <= r.target;
    console.log(
      `| ${r.what} | ${fmt(x)} | ${r.kk.map((c) => c.straced).join(", ")} | ${r.kk.map((c) => c.stats).join(", ")} | ${fmt(per(r.c))} | ≤ ${
        r.target === 1 / 32 ? "1/32" : "1/10000"
      } | ${ok ? "met" : "MISSED"} |`,
    );
  }
  console.log("");
  for (const r of rows) {
    const x = per(r.kk);
    const y = per(r.c);
    console.log(JSON.stringify({
      bench: `uring-enters/${r.id}`,
      kernelkit: Number(x.toPrecision(4)),
      peer: Number(y.toPrecision(4)),
      ratio: y === 0 ? null : Number((x / y).toFixed(3)),
      unit: "io_uring_enter calls per op",
      runtime: rt,
      peer_name: `C liburing, ${r.peerCase === "sqpoll" ? "SQPOLL" : `batch ${BATCH}`}`,
      target: Number(r.target.toPrecision(4)),
    }));
  }
}

const args = process.argv.slice(2);
const at = args.indexOf("--child");
if (at >= 0) await child(args[at + 1] as Case, Number(args[at + 2]));
else await main();
