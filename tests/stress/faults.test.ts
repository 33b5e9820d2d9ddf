/**
 * Faults (issue 9, part 3): what the kernel does to a program when things go
 * wrong underneath it, and what kernelkit must make of it. Each fault ends in
 * the documented KernelError (syscall, errno code, hint), never a crash, and
 * nothing that was acknowledged is lost.
 *
 * - A file truncated while reads wait in a hard-linked chain.
 * - A peer reset in the middle of sendfile and sendfileAsync (in a child, so a
 *   SIGPIPE death would show as the child's signal).
 * - ENOSPC on a 1 MiB tmpfs that the test mounts: every acknowledged byte is
 *   there after fsync.
 * - SIGKILL of a process holding rings with ops pending, registered mapped
 *   buffers, XDP links, a BPF object and a shared file mapping: the kernel
 *   state is clean afterwards, and what it acknowledged is in the files.
 * - CQ overflow under load: a tiny CQ, thousands of mixed ops in flight while
 *   timers and other I/O run; every op gets its own correct completion.
 * - io_uring disabled by the sysctl, seen from readFile, serveStatic and
 *   connect in a child (tests/uring_setup.test.ts covers the raw Ring and
 *   seccomp).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { readFile as readFilePromise } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, test } from "../harness.ts";
import { hasCommand, runtimeBinary, scriptArgv } from "../support/process.ts";
import { netnsMissing, withNetns } from "../support/netns.ts";
import { assertKernelError, isRoot, pattern, rejectsKernel, sleep, withTempDir } from "../support/uring.ts";
import { BPFFS_ROOT, CWD, pinDirFor, readFile, Ring, writeFile, xdp } from "../../src/mod.ts";
import { O_CLOEXEC, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from "../../ffi/structs/fcntl.ts";

guardFile();

const here = new URL(".", import.meta.url).pathname;
const SYSCTL = "/proc/sys/kernel/io_uring_disabled";
const MiB = 1 << 20;

// ---------------------------------------------------------------------------
// Helpers

/** A child process of this runtime with its stdout split into lines, bounded by a kill timer. */
interface Child {
  readonly proc: ChildProcess;
  /** Resolves with the next stdout line that matches, or rejects on exit or after `ms`. */
  line(match: (line: string) => boolean, ms?: number): Promise<string>;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves with how the child ended (kills it with SIGKILL after `ms`). */
  exited(ms?: number): Promise<{ status: number | null; signal: string | null; stderr: string }>;
}

function startChild(script: string, args: string[], prefix: string[] = []): Child {
  const argv = [...prefix, runtimeBinary, ...scriptArgv(join(here, script), args)];
  const proc = spawn(argv[0], argv.slice(1), {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  let ended: { status: number | null; signal: string | null } | undefined;
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  proc.stdout!.setEncoding("utf8");
  proc.stdout!.on("data", (d: string) => {
    partial += d;
    for (let i = partial.indexOf("\n"); i >= 0; i = partial.indexOf("\n")) {
      lines.push(partial.slice(0, i));
      partial = partial.slice(i + 1);
    }
    poke();
  });
  proc.stderr!.setEncoding("utf8");
  proc.stderr!.on("data", (d: string) => void (stderr += d));
  proc.on("exit", (status, signal) => {
    ended = { status, signal };
    poke();
  });
  return {
    proc,
    lines,
    line(match, ms = 20_000) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < lines.length; seen++) {
            if (match(lines[seen])) {
              done();
              resolve(lines[seen]);
              return;
            }
          }
          if (ended) {
            done();
            reject(
              new Error(
                `${script} exited (${JSON.stringify(ended)}) before the line the test waits for:\n${
                  lines.join("\n")
                }\n${stderr}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `${script} said nothing the test waits for in ${ms} ms:\n${lines.join("\n")}\n${stderr}`,
            ),
          );
        }, ms);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    exited(ms = 20_000) {
      return new Promise((resolve) => {
        const finish = () => {
          if (!ended) return;
          clearTimeout(timer);
          waiters.delete(finish);
          // Let the last stderr chunks arrive.
          setTimeout(() => resolve({ ...ended!, stderr }), 20);
        };
        const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
        waiters.add(finish);
        finish();
      });
    },
  };
}

/** Kills a child that is still running and waits for it (for finally blocks). */
async function reap(child: Child | undefined): Promise<void> {
  if (!child) return;
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill("SIGKILL");
  await child.exited(5_000);
}

/** A bpftool subcommand's JSON, or null when it fails (an id that doesn't exist). */
function bpftool(args: string[]): unknown {
  const r = spawnSync("bpftool", ["-j", ...args], { encoding: "utf8", timeout: 10_000 });
  return r.status === 0 ? JSON.parse(r.stdout || "null") : null;
}

/** Every path under /sys/fs/bpf (what pins exist). */
function bpffsTree(root = BPFFS_ROOT): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = `${dir}/${name}`;
      out.push(path);
      try {
        if (depth < 8 && statSync(path).isDirectory()) walk(path, depth + 1);
      } catch {
        // removed meanwhile
      }
    }
  };
  walk(root, 0);
  return out.sort();
}

/**
 * The pins under /sys/fs/bpf that `before` didn't have and that hold one of
 * `ids` ("prog 12", "map 7", "link 3"), or that name one of `ifnames`. Other
 * test files may pin and unpin their own objects meanwhile; those don't count.
 */
function pinsOf(before: readonly string[], ids: ReadonlySet<string>, ifnames: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of bpffsTree()) {
    if (before.includes(path)) continue;
    if (ifnames.some((name) => path.includes(name))) {
      out.push(path);
      continue;
    }
    for (const kind of ["prog", "map", "link"]) {
      const o = bpftool([kind, "show", "pinned", path]) as { id?: number } | null;
      if (o?.id !== undefined && ids.has(`${kind} ${o.id}`)) out.push(`${path} (${kind} ${o.id})`);
    }
  }
  return out;
}

/** `ip -d link show dev X`, and whether it names an XDP program. */
function ipLinkXdp(ifname: string): { text: string; xdp: boolean } {
  const r = spawnSync("ip", ["-d", "link", "show", "dev", ifname], { encoding: "utf8", timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  return { text: r.stdout, xdp: /prog\/xdp|\bxdp(generic|drv|offload)?\b/.test(r.stdout) };
}

/** Polls `cond` every 20 ms for up to `ms`; returns its last value. */
async function eventually<T>(cond: () => T, ms = 3_000): Promise<T> {
  const deadline = performance.now() + ms;
  let v = cond();
  while (!v && performance.now() < deadline) {
    await sleep(20);
    v = cond();
  }
  return v;
}

// ---------------------------------------------------------------------------
// 1. A file truncated while a read is queued

const SENTINEL = 0xee;

/** Checks a read of `buf` at `offset` that returned `n`, against the original `data` and the new file size. */
function checkTruncatedRead(
  label: string,
  buf: Uint8Array,
  n: number,
  offset: number,
  data: Uint8Array,
  newSize: number,
): void {
  const expected = Math.max(0, Math.min(buf.length, newSize - offset));
  assert.equal(n, expected, `${label}: read at ${offset} of ${buf.length} after truncating to ${newSize}`);
  assert.deepEqual(buf.subarray(0, n), data.subarray(offset, offset + n), `${label}: the bytes read`);
  assert.ok(
    buf.subarray(n).every((b) => b === SENTINEL),
    `${label}: the kernel wrote past the count it returned`,
  );
}

test("truncate: reads hard-linked behind a timeout see the truncation: full, short and 0 counts, buffers intact", () =>
  withTempDir(async (dir) => {
    using ring = new Ring({ entries: 64 });
    const path = join(dir, "victim");
    const size = 256 * 1024;
    const data = pattern(size, 9);
    for (const newSize of [100_000, 0, 65_536, 131_071, size]) {
      writeFileSync(path, data);
      const fd = await ring.openat(CWD, path, O_RDONLY | O_CLOEXEC);
      try {
        const bufs = Array.from({ length: 4 }, () => new Uint8Array(64 * 1024).fill(SENTINEL));
        const t0 = performance.now();
        const gate = ring.timeout(60, { link: "hard" });
        const reads = bufs.map((b, i) =>
          ring.read(fd, b, i * b.length, b.length, i < 3 ? { link: "hard" } : undefined)
        );
        ring.submit();
        // The chain is in the kernel, its reads waiting on the timeout.
        assert.equal(ring.pending, 5);
        truncateSync(path, newSize);
        assert.equal(await gate, 0);
        const counts = await Promise.all(reads);
        assert.ok(performance.now() - t0 >= 50, "the reads ran before their timeout expired");
        counts.forEach((n, i) =>
          checkTruncatedRead(`size ${newSize} read ${i}`, bufs[i], n, i * 64 * 1024, data, newSize)
        );
      } finally {
        await ring.closeFd(fd);
      }
    }
    assert.equal(ring.pending, 0);
  }));

test("truncate: truncated to 0 and grown back under waiting reads and readv: zeros, never the old bytes", () =>
  withTempDir(async (dir) => {
    using ring = new Ring({ entries: 64 });
    const path = join(dir, "regrown");
    const size = 192 * 1024;
    writeFileSync(path, pattern(size, 4));
    const fd = await ring.openat(CWD, path, O_RDONLY | O_CLOEXEC);
    try {
      const a = new Uint8Array(64 * 1024).fill(SENTINEL);
      const v1 = new Uint8Array(10_000).fill(SENTINEL);
      const v2 = new Uint8Array(30_000).fill(SENTINEL);
      const tail = new Uint8Array(64 * 1024).fill(SENTINEL);
      const gate = ring.timeout(40, { link: "hard" });
      const r1 = ring.read(fd, a, 0, a.length, { link: "hard" });
      const r2 = ring.readv(fd, [v1, v2], 70_000, { link: "hard" });
      // Past the regrown size: 0.
      const r3 = ring.read(fd, tail, 150_000);
      ring.submit();
      truncateSync(path, 0);
      truncateSync(path, 100_000);
      assert.equal(await gate, 0);
      assert.equal(await r1, a.length);
      assert.ok(a.every((b) => b === 0), "a read of the regrown file returned old bytes");
      // 70 000 + 40 000 passes the new end (100 000): a short readv, the second iovec part-filled.
      assert.equal(await r2, 30_000);
      assert.ok(v1.every((b) => b === 0));
      assert.ok(v2.subarray(0, 20_000).every((b) => b === 0));
      assert.ok(v2.subarray(20_000).every((b) => b === SENTINEL), "readv wrote past its count");
      assert.equal(await r3, 0);
      assert.ok(tail.every((b) => b === SENTINEL));
    } finally {
      await ring.closeFd(fd);
    }
  }));

test("truncate: 48 reads in io-wq workers while the file shrinks under them: no crash, counts and bytes consistent", () =>
  withTempDir(async (dir) => {
    using ring = new Ring({ entries: 64 });
    const path = join(dir, "racing");
    const block = 16 * 1024;
    const size = 48 * block;
    const data = pattern(size, 21);
    for (let round = 0; round < 6; round++) {
      writeFileSync(path, data);
      const fd = await ring.openat(CWD, path, O_RDONLY | O_CLOEXEC);
      try {
        const bufs = Array.from({ length: 48 }, () => new Uint8Array(block).fill(SENTINEL));
        // IOSQE_ASYNC: each read runs in a worker thread, racing the truncate below.
        const reads = bufs.map((b, i) => ring.read(fd, b, i * block, block, { async: true }));
        ring.submit();
        const newSize = [0, 5 * block + 333, 24 * block, 47 * block + 1, 1, 40_000][round];
        truncateSync(path, newSize);
        const counts = await Promise.all(reads);
        counts.forEach((n, i) => {
          const label = `round ${round} read ${i}`;
          assert.ok(Number.isInteger(n) && n >= 0 && n <= block, `${label}: ${n}`);
          // Raced: a read may have run before the truncate (the old bytes) or after (the new
          // size, with the cut page's tail zeroed); never bytes from anywhere else.
          const got = bufs[i].subarray(0, n);
          const want = data.subarray(i * block, i * block + n);
          for (let k = 0; k < n; k++) {
            if (got[k] !== want[k] && got[k] !== 0) {
              assert.fail(`${label}: byte ${k} is ${got[k]}, neither the file's ${want[k]} nor 0`);
            }
          }
          assert.ok(
            bufs[i].subarray(n).every((b) => b === SENTINEL),
            `${label}: the kernel wrote past the count it returned`,
          );
        });
      } finally {
        await ring.closeFd(fd);
      }
    }
  }));

// ---------------------------------------------------------------------------
// 2. A peer reset mid-sendfile

test(
  "peer reset mid-sendfile: sendfile and sendfileAsync throw ECONNRESET/EPIPE naming the call; the sender lives; the next connections work",
  () =>
    withTempDir(async (dir) => {
      const length = 64 * MiB;
      const path = join(dir, "big");
      const fd = openSync(path, "w");
      try {
        const block = pattern(MiB, 31);
        for (let i = 0; i < 64; i++) {
          block[0] = i; // every MiB differs
          writeSync(fd, block);
        }
      } finally {
        closeSync(fd);
      }
      const file = openSync(path, "r");
      const LITTLE = 256 * 1024;
      const peers: Array<{ mode: string; got: number; ok?: boolean }> = [];
      const server = net.createServer((sock) => {
        const record: { mode: string; got: number; ok?: boolean } = { mode: "", got: 0 };
        peers.push(record);
        const parts: Uint8Array[] = [];
        sock.on("error", () => {});
        sock.on("data", (chunk: Uint8Array) => {
          let body = chunk;
          if (record.mode === "") {
            record.mode = String.fromCharCode(chunk[0]);
            body = chunk.subarray(1);
          }
          record.got += body.length;
          if (record.mode === "R") {
            // Read a little, then close with SO_LINGER 0: an RST, with 63+ MiB unsent.
            if (record.got >= LITTLE && !sock.destroyed) sock.resetAndDestroy();
          } else parts.push(new Uint8Array(body));
        });
        sock.on("end", () => {
          if (record.mode !== "D") return;
          const got = new Uint8Array(record.got);
          let at = 0;
          for (const p of parts) (got.set(p, at), (at += p.length));
          // Which slice it is: the child sends 2 MiB from 12 345 (sync), then from 7 MiB (async).
          const offset = peers.filter((p) => p.mode === "D").indexOf(record) === 0 ? 12_345 : 7 * MiB;
          const want = new Uint8Array(record.got);
          readSync(file, want, 0, want.length, offset);
          record.ok = Buffer.compare(got, want) === 0;
          sock.end(`got ${record.got} ${record.ok ? "ok" : "mismatch"}`);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      let child: Child | undefined;
      try {
        const port = (server.address() as net.AddressInfo).port;
        child = startChild("faults_sendfile.ts", [String(port), path, String(length)]);
        const end = await child.exited(30_000);
        // The child ran the reset sends and ended by itself: no SIGPIPE, no other signal.
        assert.equal(end.signal, null, `the sender was killed by ${end.signal}: ${end.stderr}`);
        assert.equal(end.status, 0, end.stderr);
        const out = JSON.parse(child.lines.at(-1)!);
        assert.equal(out.resets.length, 2);
        for (const r of out.resets) {
          assert.ok(r.kernelError, `${r.mode}: ${r.other}`);
          assert.ok(["ECONNRESET", "EPIPE"].includes(r.code), `${r.mode}: ${r.message}`);
          assert.equal(r.syscall, r.mode === "sync" ? "sendfile" : "splice", r.message);
          assert.ok(r.hint && r.hint.length > 0, `${r.mode}: no hint: ${r.message}`);
          assert.ok(
            r.message.includes(r.hint.slice(1)),
            `${r.mode}: the message lacks the hint: ${r.message}`,
          );
          assert.match(r.message, new RegExp(`^${r.syscall}\\(.*\\) failed: ${r.code} `));
        }
        // The sync form says how far it got.
        const sent = Number(/after (\d+) bytes/.exec(out.resets[0].message)?.[1]);
        assert.ok(sent >= LITTLE && sent < length, out.resets[0].message);
        // The peer read a little of each and reset it.
        const resets = peers.filter((p) => p.mode === "R");
        assert.equal(resets.length, 2);
        for (const p of resets) assert.ok(p.got >= LITTLE && p.got < length, `the peer got ${p.got}`);
        // The next connections, sync and async, moved every byte.
        for (const c of out.cleans) {
          assert.equal(c.sent, c.length, `${c.mode}`);
          assert.equal(c.reply, `got ${c.length} ok`, `${c.mode}`);
        }
        assert.deepEqual(peers.filter((p) => p.mode === "D").map((p) => p.ok), [true, true]);
        assert.equal(out.pending, 0);
      } finally {
        await reap(child);
        await new Promise<void>((resolve) => server.close(() => resolve()));
        closeSync(file);
      }
    }),
  { timeout: 40_000 },
);

// ---------------------------------------------------------------------------
// 3. ENOSPC on a small tmpfs

const mountMissing = !isRoot
  ? "needs root to mount a tmpfs"
  : !hasCommand("mount")
  ? "mount (util-linux) is missing"
  : null;

/** Mounts a tmpfs of `size` on a fresh directory, runs `fn`, and always unmounts and removes it. */
async function withTmpfs<T>(size: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "kernelkit-enospc-"));
  let mounted = false;
  try {
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "kernelkit-faults", dir], {
      encoding: "utf8",
    });
    assert.equal(m.status, 0, `mount: ${m.stderr}`);
    mounted = true;
    return await fn(dir);
  } finally {
    if (mounted) {
      let u = spawnSync("umount", [dir], { encoding: "utf8" });
      if (u.status !== 0) u = spawnSync("umount", ["-l", dir], { encoding: "utf8" });
      assert.equal(u.status, 0, `umount: ${u.stderr}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads back a file with the ring after fsync and checks every acknowledged range against its pattern. */
async function checkAcked(
  ring: Ring,
  path: string,
  acked: ReadonlyArray<{ offset: number; n: number; seed: number; len: number }>,
): Promise<Uint8Array> {
  const back = readFileSync(path);
  const viaRing = await readFile(path, { ring });
  assert.equal(Buffer.compare(Buffer.from(viaRing), back), 0, "the ring and node:fs read different bytes");
  for (const a of acked) {
    const want = pattern(a.len, a.seed).subarray(0, a.n);
    const got = back.subarray(a.offset, a.offset + a.n);
    assert.equal(
      got.length,
      a.n,
      `the write at ${a.offset} was acknowledged for ${a.n} bytes; the file ends at ${back.length}`,
    );
    assert.equal(Buffer.compare(got, want), 0, `the ${a.n} acknowledged bytes at ${a.offset} differ`);
  }
  return back;
}

skipUnless(
  mountMissing,
  "ENOSPC: ring writes into a 1 MiB tmpfs fail with ENOSPC and a hint; every acknowledged byte is there after fsync",
  () =>
    withTmpfs("1m", async (dir) => {
      using ring = new Ring({ entries: 64 });
      // Sequential chunks that don't divide the space, so the last one is short.
      const seq = join(dir, "seq");
      let fd = await ring.openat(CWD, seq, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600);
      const acked: Array<{ offset: number; n: number; seed: number; len: number }> = [];
      let failure: unknown;
      try {
        const chunk = 100_000;
        let offset = 0;
        const deadline = performance.now() + 10_000;
        for (let i = 0; i < 64 && performance.now() < deadline; i++) {
          try {
            const n = await ring.write(fd, pattern(chunk, i + 1), offset);
            assert.ok(n > 0 && n <= chunk, `write ${i} returned ${n}`);
            acked.push({ offset, n, seed: i + 1, len: chunk });
            offset += n;
          } catch (e) {
            failure = e;
            break;
          }
        }
        const e = assertKernelError(failure, "ENOSPC", "write");
        assert.match(e.message, /^write\(fd \d+.*\) failed: ENOSPC \(No space left on device\)/);
        assert.match(e.hint!, /space/);
        assert.equal(await ring.fsync(fd), 0);
      } finally {
        await ring.closeFd(fd);
      }
      const total = acked.reduce((s, a) => s + a.n, 0);
      assert.ok(total > 900 * 1024 && total <= MiB, `${total} bytes acknowledged on a 1 MiB tmpfs`);
      assert.equal(statSync(seq).size, total);
      await checkAcked(ring, seq, acked);

      // Free the space, then 24 writes of 64 KiB in flight at once (1.5 MiB): some land, some don't.
      assert.equal(await ring.unlinkat(CWD, seq), 0);
      const par = join(dir, "par");
      fd = await ring.openat(CWD, par, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600);
      const parAcked: Array<{ offset: number; n: number; seed: number; len: number }> = [];
      try {
        const len = 64 * 1024;
        const settled = await Promise.allSettled(
          Array.from({ length: 24 }, (_, i) => ring.write(fd, pattern(len, 100 + i), i * len)),
        );
        let refused = 0;
        settled.forEach((s, i) => {
          if (s.status === "fulfilled") {
            assert.ok(s.value > 0 && s.value <= len, `write ${i}: ${s.value}`);
            parAcked.push({ offset: i * len, n: s.value, seed: 100 + i, len });
          } else {
            assertKernelError(s.reason, "ENOSPC", "write");
            refused++;
          }
        });
        assert.ok(refused >= 7, `${refused} of 24 writes refused on a 1 MiB tmpfs`);
        assert.ok(parAcked.length >= 12, `${parAcked.length} of 24 writes landed`);
        assert.equal(await ring.fdatasync(fd), 0);
      } finally {
        await ring.closeFd(fd);
      }
      const back = await checkAcked(ring, par, parAcked);
      // Nothing but what was acknowledged: the rest of the file is holes (zeros).
      const covered = new Uint8Array(back.length);
      for (const a of parAcked) covered.fill(1, a.offset, a.offset + a.n);
      for (let i = 0; i < back.length; i++) {
        if (!covered[i] && back[i] !== 0) {
          assert.fail(`byte ${i} is ${back[i]}, written by no acknowledged write`);
        }
      }
      assert.equal(await ring.unlinkat(CWD, par), 0);

      // The whole-file helper: a clear ENOSPC, and its fd closed (the file guard checks).
      await rejectsKernel(
        () => writeFile(join(dir, "whole"), pattern(3 * MiB, 5), { ring, chunkSize: 256 * 1024 }),
        "ENOSPC",
        "write",
      );
      assert.equal(ring.pending, 0);
    }),
  { timeout: 30_000 },
);

// ---------------------------------------------------------------------------
// 4. SIGKILL of a process holding rings, links, a BPF object and mappings

skipUnless(
  netnsMissing ?? (hasCommand("bpftool") ? null : "bpftool is missing"),
  "SIGKILL: a process holding rings with ops pending, mapped registered buffers, XDP links and a BPF object leaves the kernel clean",
  () =>
    withNetns((fwNs) =>
      withNetns((objNs) =>
        withTempDir(async (dir) => {
          const BLOCK = 16 * 1024;
          const dataFile = join(dir, "stream");
          const mapPath = join(dir, "mapped");
          writeFileSync(mapPath, new Uint8Array(256 * 1024));
          const pinsBefore = bpffsTree();
          let child: Child | undefined;
          try {
            child = startChild("faults_holder.ts", [fwNs.hostIf, objNs.hostIf, dataFile, mapPath]);
            const ready = JSON.parse(await child.line((l) => l.startsWith("{")));
            await child.line((l) => l === "mapped");
            // Let a stream of acknowledged writes build up, then kill it mid-stream.
            await child.line((l) => l === "ack 40");
            await sleep(30);

            // Before the kill: everything is there.
            for (const key of ["pid", "ringFd", "sqpollFd", "fwLinkId", "objLinkId", "objProgramId"]) {
              assert.ok(Number.isInteger(ready[key]) && ready[key] > 0, `${key}: ${ready[key]}`);
            }
            const fwQ = xdp.query(fwNs.hostIf);
            assert.equal(fwQ.attachments.length, 1, JSON.stringify(fwQ));
            assert.equal(fwQ.attachments[0].linkId, ready.fwLinkId);
            assert.equal(fwQ.attachments[0].mode, "native");
            const objQ = xdp.query(objNs.hostIf);
            assert.equal(objQ.attachments.length, 1, JSON.stringify(objQ));
            assert.equal(objQ.attachments[0].linkId, ready.objLinkId);
            assert.equal(objQ.attachments[0].programId, ready.objProgramId);
            assert.equal(objQ.attachments[0].mode, "generic");
            assert.ok(ipLinkXdp(fwNs.hostIf).xdp, ipLinkXdp(fwNs.hostIf).text);
            assert.ok(ipLinkXdp(objNs.hostIf).xdp, ipLinkXdp(objNs.hostIf).text);
            const progIds: number[] = [fwQ.attachments[0].programId, ready.objProgramId];
            assert.equal(ready.objMapIds.length, 3);
            for (const id of ready.objMapIds) assert.ok(Number.isInteger(id) && id > 0, `map id ${id}`);
            const mapIds = new Set<number>(ready.objMapIds);
            for (const id of progIds) {
              const info = bpftool(["prog", "show", "id", String(id)]) as { map_ids?: number[] } | null;
              assert.ok(info, `program ${id} is not loaded`);
              for (const m of info.map_ids ?? []) mapIds.add(m);
            }
            assert.ok(mapIds.size >= 6, `maps ${[...mapIds]}`);
            for (const id of mapIds) {
              assert.ok(bpftool(["map", "show", "id", String(id)]), `map ${id} is not loaded`);
            }
            const linkIds: number[] = [ready.fwLinkId, ready.objLinkId];
            for (const id of linkIds) {
              assert.ok(bpftool(["link", "show", "id", String(id)]), `link ${id}`);
            }
            // The rings are open with their ops pending, and the SQPOLL thread runs.
            // The kernel prints a ring's fdinfo only when it gets the ring's lock at once (io_uring_show_fdinfo
            // uses mutex_trylock), and the child is busy submitting writes: read it again until it does.
            let fdinfo = "";
            for (let attempt = 0; attempt < 100 && !/UserBufs:/.test(fdinfo); attempt++) {
              if (attempt > 0) await sleep(10);
              fdinfo = readFileSync(`/proc/${ready.pid}/fdinfo/${ready.ringFd}`, "utf8");
            }
            assert.match(fdinfo, /UserBufs:\s+2/);
            assert.ok(ready.pending >= 38, `${ready.pending} ops pending`);
            const threads = () =>
              readdirSync(`/proc/${ready.pid}/task`).map((t) => {
                try {
                  return readFileSync(`/proc/${ready.pid}/task/${t}/comm`, "utf8").trim();
                } catch {
                  return "";
                }
              });
            assert.ok(threads().some((c) => c.startsWith("iou-sqp")), threads().join(", "));
            const ours = new Set([
              ...progIds.map((id) => `prog ${id}`),
              ...[...mapIds].map((id) => `map ${id}`),
              ...linkIds.map((id) => `link ${id}`),
            ]);
            const ifnames = [fwNs.hostIf, objNs.hostIf];
            // Non-persistent: nothing pinned.
            assert.deepEqual(pinsOf(pinsBefore, ours, ifnames), []);

            child.proc.kill("SIGKILL");
            const end = await child.exited(10_000);
            assert.equal(end.signal, "SIGKILL", `status ${end.status}: ${end.stderr}`);
            assert.equal(existsSync(`/proc/${ready.pid}`), false);

            // After: no XDP on either interface, by query and by `ip link`.
            assert.equal(
              await eventually(() =>
                xdp.query(fwNs.hostIf).attachments.length === 0 &&
                xdp.query(objNs.hostIf).attachments.length === 0
              ),
              true,
              JSON.stringify([xdp.query(fwNs.hostIf), xdp.query(objNs.hostIf)]),
            );
            for (const ifname of ifnames) assert.equal(ipLinkXdp(ifname).xdp, false, ipLinkXdp(ifname).text);
            // The programs, maps and links are gone from the kernel (freed after an RCU grace period).
            const gone = () =>
              progIds.every((id) => bpftool(["prog", "show", "id", String(id)]) === null) &&
              [...mapIds].every((id) => bpftool(["map", "show", "id", String(id)]) === null) &&
              linkIds.every((id) => bpftool(["link", "show", "id", String(id)]) === null);
            assert.equal(
              await eventually(gone, 5_000),
              true,
              `still loaded: ${JSON.stringify({ progIds, mapIds: [...mapIds], linkIds })}`,
            );
            const progs = (bpftool(["prog", "show"]) as Array<{ id: number }>).map((p) => p.id);
            for (const id of progIds) assert.ok(!progs.includes(id), `bpftool prog show lists ${id}`);
            // No pins left behind by the non-persistent run.
            assert.deepEqual(pinsOf(pinsBefore, ours, ifnames), []);
            for (const ifname of ifnames) assert.equal(existsSync(pinDirFor(ifname)), false);

            // What the process acknowledged before it died is in the page cache, so in its files.
            const acks = child.lines.filter((l) => l.startsWith("ack ")).map((l) => Number(l.slice(4)));
            assert.ok(acks.length >= 41);
            acks.forEach((n, i) => assert.equal(n, i));
            const stream = readFileSync(dataFile);
            assert.ok(
              stream.length >= acks.length * BLOCK,
              `${stream.length} bytes for ${acks.length} acknowledged blocks`,
            );
            for (const i of acks) {
              assert.equal(
                Buffer.compare(stream.subarray(i * BLOCK, (i + 1) * BLOCK), pattern(BLOCK, i + 1)),
                0,
                `block ${i}`,
              );
            }
            const mapped = readFileSync(mapPath);
            assert.equal(
              Buffer.compare(mapped, pattern(mapped.length, 77)),
              0,
              "the shared mapping's writes are not in the file",
            );
          } finally {
            await reap(child);
          }
        })
      )
    ),
  { timeout: 40_000 },
);

// ---------------------------------------------------------------------------
// 5. CQ overflow under load

test(
  "CQ overflow under load: 4-entry CQ, ~24k mixed ops, thousands in flight amid timers and other I/O; each gets its own completion",
  () =>
    withTempDir(async (dir) => {
      using ring = new Ring({ entries: 4, cqEntries: 4 });
      using side = new Ring({ entries: 64 });
      const src = join(dir, "src");
      const data = pattern(MiB, 55);
      writeFileSync(src, data);
      const dst = join(dir, "dst");
      const rfd = await ring.openat(CWD, src, O_RDONLY | O_CLOEXEC);
      const wfd = await ring.openat(CWD, dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600);
      const overflowSeen: number[] = [];
      const inFlight: number[] = [];
      const overflowNow = () => {
        const info = readFileSync(`/proc/self/fdinfo/${ring.fd}`, "utf8");
        return (info.slice(info.indexOf("CqOverflowList:")).match(/user_data=/g) ?? []).length;
      };

      // The load around it: a 1 ms interval, and a loop of reads on another ring and through node:fs.
      let ticks = 0;
      const interval = setInterval(() => ticks++, 1);
      let stop = false;
      let sideReads = 0;
      const background = (async () => {
        for (let i = 0; !stop && i < 10_000; i++) {
          const [a, b] = await Promise.all([
            readFile(src, { ring: side, chunkSize: 128 * 1024 }),
            readFilePromise(src),
          ]);
          assert.equal(Buffer.compare(Buffer.from(a), data), 0, "a side read came back wrong");
          assert.equal(Buffer.compare(b, data), 0);
          sideReads++;
        }
      })();
      try {
        const completedBefore = ring.stats.completed;
        let expectedOps = 0;
        const writes = new Map<number, number>(); // block → seed of its last write
        const t0 = performance.now();
        for (let round = 0; round < 4; round++) {
          const ops: Promise<void>[] = [];
          const seedBase = round * 1000;
          // Each round's ops go in 4 slices, one JS turn each, with a macrotask turn between
          // slices while the earlier ones are still in flight (their timeouts keep them there).
          // The turns are needed: completions that are ready at submit time are delivered in
          // microtasks, so a program that never awaits anything else never lets timers run.
          for (let slice = 0; slice < 4; slice++) {
            const mine = (i: number) => i % 4 === slice;
            // 2400 timeouts of 5 to 64 ms: each waits at least its own time.
            for (let i = 0; i < 2400; i++) {
              if (!mine(i)) continue;
              const ms = 5 + (i % 60);
              const start = performance.now();
              ops.push(
                ring.timeout(ms).then((v) => {
                  assert.equal(v, 0);
                  assert.ok(
                    performance.now() - start >= ms - 1,
                    `a ${ms} ms timeout took ${performance.now() - start} ms`,
                  );
                }),
              );
            }
            // 1000 NOPs, each chaining a read from its completion: submissions while the CQ overflows.
            for (let i = 0; i < 1000; i++) {
              if (!mine(i)) continue;
              const buf = new Uint8Array(256);
              const at = ((i * 7919 + round * 13) % 4096) * 256;
              ops.push(
                ring.nop().then(async (v) => {
                  assert.equal(v, 0);
                  assert.equal(await ring.read(rfd, buf, at), 256);
                  assert.equal(Buffer.compare(buf, data.subarray(at, at + 256)), 0, `chained read at ${at}`);
                }),
              );
            }
            // 1000 reads of 512 bytes at shuffled offsets, each with its own buffer.
            for (let i = 0; i < 1000; i++) {
              if (!mine(i)) continue;
              const at = ((i * 769 + round * 31) % 2048) * 512;
              const buf = new Uint8Array(512);
              ops.push(
                ring.read(rfd, buf, at).then((n) => {
                  assert.equal(n, 512);
                  assert.equal(Buffer.compare(buf, data.subarray(at, at + 512)), 0, `read at ${at}`);
                }),
              );
            }
            // 500 writes of 1 KiB to distinct blocks of another file.
            for (let i = 0; i < 500; i++) {
              if (!mine(i)) continue;
              const blockNo = (i * 37 + round * 500) % 2000;
              const seed = seedBase + i + 1;
              writes.set(blockNo, seed);
              ops.push(
                ring.write(wfd, pattern(1024, seed), blockNo * 1024).then((n) => assert.equal(n, 1024)),
              );
            }
            // About 1200 ops in this turn: the NOPs complete inside submit() and overflow the 4-entry CQ.
            ring.submit();
            overflowSeen.push(overflowNow());
            inFlight.push(ring.pending);
            await sleep(3);
          }
          expectedOps += 1000 * 2 + 2400 + 1000 + 500;
          await Promise.all(ops);
          assert.equal(ring.pending, 0, `round ${round}`);
        }
        const ticksDuring = ticks;
        const sideReadsDuring = sideReads;
        assert.equal(ring.stats.completed - completedBefore, expectedOps, "completions reaped: one per op");
        assert.ok(overflowSeen.some((n) => n > 100), `the CQ never overflowed: ${overflowSeen}`);
        assert.equal(overflowNow(), 0, "completions left on the overflow list");
        // Every write is in the file: the last one to each block.
        assert.equal(await ring.fsync(wfd), 0);
        const written = readFileSync(dst);
        for (const [blockNo, seed] of writes) {
          assert.equal(
            Buffer.compare(written.subarray(blockNo * 1024, (blockNo + 1) * 1024), pattern(1024, seed)),
            0,
            `block ${blockNo}`,
          );
        }
        // Thousands were in flight at once, and the rest of the program kept running meanwhile.
        assert.ok(Math.max(...inFlight) >= 1200, `at most ${Math.max(...inFlight)} ops in flight`);
        const elapsed = performance.now() - t0;
        assert.ok(ticksDuring >= 8, `${ticksDuring} interval ticks in ${elapsed} ms`);
        stop = true;
        await background;
        assert.ok(sideReadsDuring >= 1, `${sideReadsDuring} side reads in ${elapsed} ms`);
      } finally {
        stop = true;
        clearInterval(interval);
        await background.catch(() => {});
        await ring.closeFd(rfd);
        await ring.closeFd(wfd);
      }
    }),
  { timeout: 40_000 },
);

// ---------------------------------------------------------------------------
// 6. io_uring disabled by the sysctl, from the higher-level calls

const sysctlMissing = !isRoot
  ? "needs root to write /proc/sys/kernel/io_uring_disabled"
  : !existsSync(SYSCTL)
  ? `${SYSCTL} is missing (a kernel before 6.6)`
  : !hasCommand("setpriv")
  ? "setpriv (util-linux) is missing"
  : null;

/** A KernelError's fields as a child printed them, or `other` for anything else. */
interface ReportedError {
  readonly kernelError: boolean;
  readonly ok?: boolean;
  readonly code?: string;
  readonly syscall?: string;
  readonly hint?: string;
  readonly message?: string;
  readonly other?: string;
}

/** What faults_disabled.ts reported, and how it ended. */
interface DisabledRun {
  readonly disabled: Record<"readFile" | "serveStatic" | "connect", ReportedError>;
  readonly capEff: string;
  readonly again: { ok?: boolean; bytes?: number };
  readonly status: number | null;
  readonly signal: string | null;
}

/**
 * Runs faults_disabled.ts with kernel.io_uring_disabled set to `value` only
 * between its "ready" and its answer, restoring the sysctl in finally.
 */
async function disabledRun(value: "1" | "2", prefix: string[]): Promise<DisabledRun> {
  return await withTempDir(async (dir) => {
    const file = join(dir, "file");
    writeFileSync(file, pattern(10_000, 3));
    // Another test file (tests/uring_setup.test.ts) may hold the sysctl at 2 for a moment: wait
    // for it to be restored, so that this test never "restores" someone else's setting.
    const original = await eventually(() => readFileSync(SYSCTL, "utf8").trim() === "0" && "0", 3_000) ||
      readFileSync(SYSCTL, "utf8").trim();
    assert.equal(
      original,
      "0",
      `${SYSCTL} is ${original}: io_uring is restricted on this host, and the test re-enables it midway`,
    );
    let child: Child | undefined;
    let restored = true;
    try {
      child = startChild("faults_disabled.ts", [file, dir], prefix);
      await child.line((l) => l === "ready");
      restored = false;
      writeFileSync(SYSCTL, value);
      child.proc.stdin!.write("go\n");
      const first = JSON.parse(await child.line((l) => l.startsWith('{"disabled"')));
      writeFileSync(SYSCTL, original);
      restored = true;
      child.proc.stdin!.write("again\n");
      const again = JSON.parse(await child.line((l) => l.startsWith('{"again"'))).again;
      child.proc.stdin!.end();
      const end = await child.exited(15_000);
      // The failed calls left no ring, socket or directory fd behind.
      assert.deepEqual(
        first.left.filter((l: string) => /io_uring|socket:|kernelkit-uring-/.test(l)),
        [],
        "fds left behind by the failed calls",
      );
      return {
        disabled: first.disabled,
        capEff: first.capEff,
        again,
        status: end.status,
        signal: end.signal,
      };
    } finally {
      if (!restored) writeFileSync(SYSCTL, original);
      assert.equal(readFileSync(SYSCTL, "utf8").trim(), original, "the sysctl was not restored");
      await reap(child);
    }
  });
}

function checkDisabled(label: string, r: DisabledRun): void {
  assert.equal(r.signal, null, `${label}: the child was killed`);
  assert.equal(r.status, 0, `${label}: exit status`);
  for (const call of ["readFile", "serveStatic", "connect"] as const) {
    const e = r.disabled[call];
    assert.ok(e.kernelError, `${label} ${call}: ${e.other ?? "succeeded"}`);
    assert.equal(e.code, "EPERM", `${label} ${call}: ${e.message}`);
    assert.equal(e.syscall, "io_uring_setup", `${label} ${call}: ${e.message}`);
    assert.match(e.hint!, /io_uring_disabled/, `${label} ${call}`);
    assert.match(
      e.message!,
      /^io_uring_setup\(\d+ entries, flags 0x[0-9a-f]+\) failed: EPERM .*kernel\.io_uring_disabled/,
      `${label} ${call}`,
    );
  }
  // Re-enabled: the same process makes rings again (a failed setup poisoned nothing).
  assert.deepEqual(r.again, { ok: true, bytes: 10_000 }, `${label}: ${JSON.stringify(r.again)}`);
}

skipUnless(
  sysctlMissing,
  "io_uring disabled (sysctl 2): readFile, serveStatic and connect reject with EPERM from io_uring_setup, with the sysctl in the hint",
  async () => {
    checkDisabled("sysctl 2", await disabledRun("2", []));
  },
  { timeout: 30_000 },
);

skipUnless(
  sysctlMissing,
  "io_uring disabled for unprivileged processes (sysctl 1, a child without CAP_SYS_ADMIN): the same clear EPERM",
  async () => {
    const r = await disabledRun("1", ["setpriv", "--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"]);
    // CAP_SYS_ADMIN is bit 21: the child runs as root without it.
    assert.equal((BigInt(`0x${r.capEff}`) >> 21n) & 1n, 0n, `CapEff ${r.capEff}`);
    checkDisabled("sysctl 1", r);
  },
  { timeout: 30_000 },
);
