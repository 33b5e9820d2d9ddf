/**
 * io_uring ring setup: sizes and flags, the opcode probe, closing and
 * disposal, and every way setup can be refused (bad sizes, the sysctl,
 * seccomp).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, test } from "./harness.ts";
import { hasCommand, runScript, runtimeBinary, scriptArgv } from "./support/process.ts";
import {
  assertKernelError,
  closeFds,
  fdOpen,
  isRoot,
  pipe,
  throwsKernel,
  withTempDir,
} from "./support/uring.ts";
import { type KernelError, Ring } from "../src/mod.ts";
import {
  IORING_FEAT_NODROP,
  IORING_FEAT_SINGLE_MMAP,
  IORING_SETUP_COOP_TASKRUN,
  IORING_SETUP_CQSIZE,
  IORING_SETUP_DEFER_TASKRUN,
  IORING_SETUP_SINGLE_ISSUER,
} from "../ffi/structs/io_uring.ts";

guardFile();

const support = new URL("./support/", import.meta.url).pathname;
const SYSCTL = "/proc/sys/kernel/io_uring_disabled";

/** How many io_uring fds this process has open. */
function ioUringFds(): number {
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === "anon_inode:[io_uring]";
    } catch {
      return false;
    }
  }).length;
}

test("setup: default ring is 256 SQ / 512 CQ entries with NODROP, and close releases its fd", async () => {
  const before = ioUringFds();
  const ring = new Ring();
  try {
    assert.equal(ring.sqEntries, 256);
    assert.equal(ring.cqEntries, 512);
    assert.ok(ring.features & IORING_FEAT_NODROP, "IORING_FEAT_NODROP");
    assert.ok(ring.features & IORING_FEAT_SINGLE_MMAP, "IORING_FEAT_SINGLE_MMAP");
    assert.equal(ring.setupFlags, 0);
    assert.ok(fdOpen(ring.fd));
    assert.equal(ioUringFds(), before + 1);
    assert.match(readFileSync(`/proc/self/fdinfo/${ring.fd}`, "utf8"), /SqMask:\s+0xff/);
    // A timeout makes the ring start its waker (an eventfd and a worker thread).
    assert.equal(await ring.timeout(5), 0);
    assert.equal(ring.closed, false);
    assert.equal(ring.pending, 0);
  } finally {
    ring.close();
  }
  assert.equal(ring.closed, true);
  assert.equal(fdOpen(ring.fd), false);
  assert.equal(ioUringFds(), before);
});

test("setup: entries from 1 to 32768 and cqEntries up to 65536 are granted as asked", async () => {
  const sizes: Array<[number, number | undefined]> = [[1, undefined], [2, 2], [8, 8], [8, 64], [4096, undefined], [32768, 65536]];
  for (const [entries, cqEntries] of sizes) {
    const ring = new Ring({ entries, cqEntries });
    try {
      assert.equal(ring.sqEntries, entries);
      assert.equal(ring.cqEntries, cqEntries ?? 2 * entries);
      assert.equal((ring.setupFlags & IORING_SETUP_CQSIZE) !== 0, cqEntries !== undefined);
      assert.equal(await ring.nop(), 0);
    } finally {
      ring.close();
    }
  }
});

test("setup: bad entries and cqEntries are EINVAL from io_uring_setup with a hint, and leak no ring fd", () => {
  const before = ioUringFds();
  for (const entries of [0, 3, 6, 65536, 131072, -1, -8, NaN, 1.5, Infinity, 2 ** 32]) {
    const e = throwsKernel(() => new Ring({ entries }), "EINVAL", "io_uring_setup");
    assert.match(e.message, /power of two/);
    assert.equal(e.errno, 22);
  }
  for (const [entries, cqEntries] of [[8, 4], [64, 32], [8, 12], [8, 0], [8, 131072], [8, -8], [8, NaN]]) {
    const e = throwsKernel(() => new Ring({ entries, cqEntries }), "EINVAL", "io_uring_setup");
    assert.match(e.message, /at least entries/);
  }
  // The kernel's own refusal: an SQ thread pinned to a CPU that doesn't exist.
  const e = throwsKernel(() => new Ring({ entries: 8, sqpoll: { idleMs: 10, cpu: 4095 } }), "EINVAL", "io_uring_setup");
  assert.match(e.message, /flags 0x/);
  // Values that would wrap in the u32 fields of io_uring_params, and unknown poll modes, never reach the kernel.
  for (const idleMs of [NaN, -1, 1.5, 2 ** 32, Infinity]) {
    assert.match(throwsKernel(() => new Ring({ entries: 8, sqpoll: { idleMs } }), "EINVAL", "io_uring_setup").message, /sqpoll\.idleMs/);
  }
  for (const cpu of [-1, NaN, 2 ** 40]) {
    assert.match(throwsKernel(() => new Ring({ entries: 8, sqpoll: { idleMs: 10, cpu } }), "EINVAL", "io_uring_setup").message, /sqpoll\.cpu/);
  }
  const poll = "spin" as unknown as "busy";
  assert.match(throwsKernel(() => new Ring({ entries: 8, poll }), "EINVAL", "io_uring_setup").message, /"eventfd".*"busy"/);
  assert.equal(ioUringFds(), before, "a refused setup left an io_uring fd open");
});

test("setup: singleIssuer, coopTaskrun and deferTaskrun rings complete ops and wake up", async () => {
  const cases = [
    [{ singleIssuer: true }, IORING_SETUP_SINGLE_ISSUER],
    [{ coopTaskrun: true }, IORING_SETUP_COOP_TASKRUN],
    [{ deferTaskrun: true }, IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER],
  ] as const;
  for (const [options, flags] of cases) {
    const ring = new Ring({ entries: 8, ...options });
    const [r, w] = pipe();
    try {
      assert.equal(ring.setupFlags & flags, flags, JSON.stringify(options));
      assert.deepEqual(await Promise.all([ring.nop(), ring.nop(), ring.timeout(5)]), [0, 0, 0]);
      // A read that waits: completed by a write from a later turn, so the waker must run.
      const buf = new Uint8Array(8);
      const pending = ring.read(r, buf);
      setTimeout(() => void ring.write(w, new Uint8Array([1, 2, 3])), 10);
      assert.equal(await pending, 3, JSON.stringify(options));
      assert.deepEqual([...buf.subarray(0, 3)], [1, 2, 3]);
      assert.ok(ring.stats.wakeups >= 1, `${JSON.stringify(options)}: ${JSON.stringify(ring.stats)}`);
    } finally {
      ring.close();
      closeFds(r, w);
    }
  }
});

test("setup: poll 'busy' completes waiting ops by polling every turn", async () => {
  const ring = new Ring({ entries: 8, poll: "busy" });
  const [r, w] = pipe();
  try {
    const t0 = performance.now();
    assert.equal(await ring.timeout(20), 0);
    assert.ok(performance.now() - t0 >= 15);
    const buf = new Uint8Array(4);
    const pending = ring.read(r, buf);
    setTimeout(() => void ring.write(w, new Uint8Array([9, 8, 7, 6])), 5);
    assert.equal(await pending, 4);
    assert.deepEqual([...buf], [9, 8, 7, 6]);
    assert.ok(ring.stats.wakeups >= 2, JSON.stringify(ring.stats));
  } finally {
    ring.close();
    closeFds(r, w);
  }
});

test("probe: names the supported ops, with read, write, nop and every op of Ring", () => {
  using ring = new Ring({ entries: 4 });
  const ops = ring.probe();
  assert.ok(ops.length > 40, `${ops.length} ops`);
  assert.equal(new Set(ops.map((o) => o.opcode)).size, ops.length);
  const supported = new Set(ops.filter((o) => o.supported).map((o) => o.name));
  const used = [
    "nop", "read", "write", "readv", "writev", "read_fixed", "write_fixed", "fsync", "fallocate", "fadvise",
    "madvise", "openat", "openat2", "close", "statx", "unlinkat", "renameat", "mkdirat", "symlinkat", "linkat",
    "timeout", "timeout_remove", "link_timeout", "async_cancel", "poll_add", "poll_remove", "splice", "tee",
  ];
  for (const name of used) assert.ok(supported.has(name), `${name} is not reported supported`);
  const read = ops.find((o) => o.name === "read")!;
  assert.equal(read.opcode, 22);
  assert.equal(ops.find((o) => o.name === "nop")!.opcode, 0);
  for (const o of ops) assert.match(o.name, /^[a-z0-9_]+$/);
});

test("probe: an op this kernel lacks is an ENOTSUP KernelError naming the op (through a subclass)", () => {
  // Every op Ring offers is supported by this kernel, so the check is reached
  // through the protected hook a subclass can call, with an opcode past the end.
  class Probing extends Ring {
    lacks(opcode: number): KernelError | null {
      return this.unsupported(opcode);
    }
  }
  using ring = new Probing({ entries: 4 });
  assert.equal(ring.lacks(0), null);
  assert.equal(ring.lacks(22), null);
  const e = ring.lacks(250);
  assert.ok(e);
  assertKernelError(e, "ENOTSUP", "op250");
  assert.match(e.message, /op250 is not supported by this kernel/);
  assert.equal(e.feature, "io_uring op op250");
});

test("close: twice is harmless; using and await using close the ring", async () => {
  const ring = new Ring({ entries: 4 });
  ring.close();
  ring.close();
  ring[Symbol.dispose]();
  await ring[Symbol.asyncDispose]();
  assert.equal(ring.closed, true);
  assert.equal(fdOpen(ring.fd), false);

  let kept: Ring;
  {
    using scoped = new Ring({ entries: 4 });
    kept = scoped;
    assert.equal(await scoped.nop(), 0);
    assert.ok(fdOpen(scoped.fd));
  }
  assert.equal(kept.closed, true);
  assert.equal(fdOpen(kept.fd), false);
  {
    await using scoped = new Ring({ entries: 4 });
    kept = scoped;
    assert.equal(await scoped.nop(), 0);
  }
  assert.equal(kept.closed, true);
  assert.equal(fdOpen(kept.fd), false);
});

test("close: 20 rings that started their waker leave no fd and no thread behind", () => {
  const r = runScript(join(support, "uring_churn.ts"), ["20"], { timeoutMs: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const { before, after, wakeups } = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.ok(wakeups >= 18, `${wakeups} wake-ups: the rings should have waited through their wakers`);
  // A runtime may keep an fd or a thread of its own for workers; a leak per ring would add 20 or more.
  assert.ok(after.fds <= before.fds + 3, `${after.fds} fds, ${before.fds} before`);
  assert.ok(after.threads <= before.threads + 2, `${after.threads} threads, ${before.threads} before`);
}, { timeout: 40_000 });

skipUnless(
  !isRoot ? "needs root to write /proc/sys/kernel/io_uring_disabled" : null,
  "setup: io_uring disabled by sysctl is EPERM from io_uring_setup, with a hint naming the sysctl",
  () => {
    let original: string;
    try {
      original = readFileSync(SYSCTL, "utf8").trim();
    } catch {
      assert.fail(`${SYSCTL} is missing: this kernel predates the sysctl (6.6)`);
    }
    let error: unknown;
    try {
      writeFileSync(SYSCTL, "2");
      assert.equal(readFileSync(SYSCTL, "utf8").trim(), "2");
      try {
        new Ring({ entries: 8 }).close();
      } catch (e) {
        error = e;
      }
    } finally {
      writeFileSync(SYSCTL, original);
    }
    assert.equal(readFileSync(SYSCTL, "utf8").trim(), original, "the sysctl was not restored");
    assert.ok(error, "new Ring() succeeded with io_uring_disabled = 2");
    const e = assertKernelError(error, "EPERM", "io_uring_setup");
    assert.match(e.hint!, /io_uring_disabled/);
    assert.match(e.message, /kernel\.io_uring_disabled/);
    // And rings work again.
    using ring = new Ring({ entries: 4 });
    assert.equal(ring.sqEntries, 4);
  },
);

const SECCOMP_LAUNCHER = `
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
/* Runs argv[1..] with io_uring_setup denied by a seccomp filter (EPERM), as container runtimes do. */
int main(int argc, char **argv) {
  struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { sizeof filter / sizeof filter[0], filter };
  if (argc < 2) return 2;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
    perror("seccomp");
    return 111;
  }
  execv(argv[1], argv + 1);
  perror("execv");
  return 112;
}
`;

skipUnless(
  hasCommand("gcc") ? null : "gcc is missing: the test builds a small seccomp launcher",
  "setup: io_uring_setup blocked by seccomp is EPERM with a hint naming seccomp",
  () =>
    withTempDir((dir) => {
      writeFileSync(join(dir, "launcher.c"), SECCOMP_LAUNCHER);
      const cc = spawnSync("gcc", ["-O1", "-o", join(dir, "launcher"), join(dir, "launcher.c")], { encoding: "utf8" });
      assert.equal(cc.status, 0, cc.stderr);
      const child = spawnSync(join(dir, "launcher"), [runtimeBinary, ...scriptArgv(join(support, "uring_blocked.ts"))], {
        encoding: "utf8",
        timeout: 30_000,
        env: { ...process.env, NO_COLOR: "1" },
      });
      assert.equal(child.status, 0, child.stderr);
      const out = JSON.parse(child.stdout.trim().split("\n").pop()!);
      assert.equal(out.code, "EPERM", child.stdout);
      assert.equal(out.syscall, "io_uring_setup");
      assert.match(out.hint, /seccomp/);
      assert.match(out.message, /^io_uring_setup\(8 entries, flags 0x0\) failed: EPERM .*seccomp/);
    }),
  { timeout: 60_000 },
);
