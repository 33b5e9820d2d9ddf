import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, test } from "./harness.ts";
import { hasCommand } from "./support/process.ts";
import {
  connect,
  copyFile,
  copyFileRange,
  copyFileRangeAsync,
  copyFileSync,
  KernelError,
  listen,
  makePipe,
  read,
  closePipe,
  Ring,
  sendfile,
  sendfileAsync,
  splice,
  spliceAsync,
  tee,
  type TcpSocket,
} from "../src/mod.ts";

guardFile();

const GiB = 2 ** 30;

function pattern(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 11)) & 255;
  return b;
}

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "kernelkit-zc-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** A connected pair of TCP sockets on loopback, through one ring. */
async function socketPair(ring: Ring): Promise<{ server: TcpSocket; client: TcpSocket; close: () => void }> {
  const l = listen({ hostname: "127.0.0.1", port: 0, ring });
  const accepted = l.accept();
  const client = await connect({ hostname: "127.0.0.1", port: l.port, ring });
  const server = await accepted;
  l.close();
  return { server, client, close: () => (server.close(), client.close()) };
}

async function drain(sock: TcpSocket, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(1 << 16);
  while (total <= limit) {
    const n = await sock.recv(buf);
    if (n === 0) break;
    parts.push(buf.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

test("sendfile (sync) and sendfileAsync move empty, small and multi-MiB files byte-exact", withDir(async (dir) => {
  using ring = new Ring();
  for (const size of [0, 1, 4095, 4096, 3 * 2 ** 20 + 5]) {
    const data = pattern(size);
    const path = join(dir, `f${size}`);
    writeFileSync(path, data);
    // The sync form blocks this thread, so the receiver (on the same thread)
    // can't drain the socket: keep its sizes within the socket buffers.
    for (const mode of size < 65536 ? ["sync", "async"] as const : ["async"] as const) {
      const { server, client, close } = await socketPair(ring);
      const fd = openSync(path, "r");
      try {
        const received = drain(client, size + 1);
        const sent = mode === "sync"
          ? sendfile(server.fd, fd, { offset: 0, length: size })
          : await sendfileAsync(ring, server.fd, fd, { offset: 0, length: size });
        await server.shutdown();
        assert.equal(sent, size, `${mode} ${size}`);
        assert.deepEqual(await received, data, `${mode} ${size}`);
      } finally {
        closeSync(fd);
        close();
      }
    }
  }
}), { timeout: 60_000 });

test("sendfile stops at end of file and honours offsets", withDir(async (dir) => {
  using ring = new Ring();
  const data = pattern(10_000);
  const path = join(dir, "f");
  writeFileSync(path, data);
  const { server, client, close } = await socketPair(ring);
  const fd = openSync(path, "r");
  try {
    const received = drain(client, 20_000);
    assert.equal(await sendfileAsync(ring, server.fd, fd, { offset: 9_000, length: 5_000 }), 1_000);
    assert.equal(sendfile(server.fd, fd, { offset: 100, length: 10 }), 10);
    await server.shutdown();
    assert.deepEqual(await received, new Uint8Array([...data.subarray(9_000), ...data.subarray(100, 110)]));
  } finally {
    closeSync(fd);
    close();
  }
}));

test("a peer reset mid-sendfile fails that transfer alone, with EPIPE or ECONNRESET", withDir(async (dir) => {
  using ring = new Ring();
  const path = join(dir, "big");
  const fd = openSync(path, "w+");
  ftruncateSync(fd, 64 * 2 ** 20);
  const { server, client, close } = await socketPair(ring);
  const other = await socketPair(ring);
  try {
    const transfer = sendfileAsync(ring, server.fd, fd, { length: 64 * 2 ** 20 });
    await new Promise((r) => setTimeout(r, 20));
    client.close(); // the peer goes away with 64 MiB unsent
    await assert.rejects(transfer, (e: unknown) => e instanceof KernelError && ["EPIPE", "ECONNRESET"].includes(e.code));
    // The ring and other connections are unaffected.
    const received = drain(other.client, 100);
    await other.server.send(new TextEncoder().encode("still fine"));
    await other.server.shutdown();
    assert.equal(new TextDecoder().decode(await received), "still fine");
  } finally {
    closeSync(fd);
    close();
    other.close();
  }
}));

test("splice and tee move bytes through a pipe, sync and async", withDir(async (dir) => {
  using ring = new Ring();
  const data = pattern(200_000);
  const src = join(dir, "src");
  const dst = join(dir, "dst");
  writeFileSync(src, data);
  const a = makePipe(1 << 20);
  const b = makePipe(1 << 20);
  const inFd = openSync(src, "r");
  const outFd = openSync(dst, "w+");
  try {
    assert.equal(splice(inFd, a.write, { offIn: 1000, length: 100_000 }), 100_000);
    assert.equal(tee(a.read, b.write, 100_000), 100_000);
    assert.equal(await spliceAsync(ring, a.read, outFd, { offOut: 0, length: 100_000 }), 100_000);
    assert.equal(splice(b.read, outFd, { offOut: 100_000, length: 100_000 }), 100_000);
    const out = readFileSync(dst);
    assert.deepEqual(new Uint8Array(out.subarray(0, 100_000)), data.subarray(1000, 101_000));
    assert.deepEqual(new Uint8Array(out.subarray(100_000)), data.subarray(1000, 101_000));
  } finally {
    closeSync(inFd);
    closeSync(outFd);
    closePipe(a);
    closePipe(b);
  }
}));

test("copy_file_range and copyFile handle empty and sparse files, and offsets past 2 GiB", withDir(async (dir) => {
  using ring = new Ring();
  const empty = join(dir, "empty");
  writeFileSync(empty, new Uint8Array(0));
  assert.equal(copyFileSync(empty, join(dir, "empty2")), 0);
  assert.equal(await copyFile(empty, join(dir, "empty3"), { ring }), 0);
  assert.equal(statSync(join(dir, "empty3")).size, 0);

  const sparse = join(dir, "sparse");
  const fd = openSync(sparse, "w+");
  ftruncateSync(fd, 3 * GiB);
  writeSync(fd, new TextEncoder().encode("end-of-3GiB"), 0, 11, 3 * GiB - 11);
  writeSync(fd, new TextEncoder().encode("past-2GiB"), 0, 9, 2 * GiB + 3);
  const out = openSync(join(dir, "out"), "w+");
  try {
    assert.equal(copyFileRange(fd, out, { inOffset: 2 * GiB + 3, outOffset: 2 * GiB + 100, length: 9 }), 9);
    assert.equal(await copyFileRangeAsync(ring, fd, out, { inOffset: 3 * GiB - 11, outOffset: 5, length: 64 }), 11);
    const buf = new Uint8Array(9);
    const rfd = openSync(join(dir, "out"), "r");
    try {
      const { readSync } = await import("node:fs");
      readSync(rfd, buf, 0, 9, 2 * GiB + 100);
      assert.equal(new TextDecoder().decode(buf), "past-2GiB");
      const head = new Uint8Array(11);
      readSync(rfd, head, 0, 11, 5);
      assert.equal(new TextDecoder().decode(head), "end-of-3GiB");
    } finally {
      closeSync(rfd);
    }
  } finally {
    closeSync(fd);
    closeSync(out);
  }
}), { timeout: 60_000 });

test("sendfile and splice, sync and async, read sparse files at offsets past 2 GiB and stop at the end", withDir(async (dir) => {
  using ring = new Ring();
  const enc = new TextEncoder();
  // A 3 GiB sparse file: holes read as zeros; marks just past 2 GiB and 4 bytes before the end.
  const path = join(dir, "sparse");
  const fd = openSync(path, "w+");
  ftruncateSync(fd, 3 * GiB);
  writeSync(fd, enc.encode("past-2GiB"), 0, 9, 2 * GiB + 7);
  writeSync(fd, enc.encode("tail"), 0, 4, 3 * GiB - 4);
  const emptyFd = openSync(join(dir, "empty"), "w+");
  const p = makePipe(1 << 20);
  const { server, client, close } = await socketPair(ring);
  const want = new Uint8Array(4096 + 9 + 100);
  want.set(enc.encode("past-2GiB"), 4096);
  try {
    // File → pipe → this process, at an offset the 32-bit off_t bug would wrap.
    assert.equal(splice(fd, p.write, { offIn: 2 * GiB + 7 - 4096, length: want.length }), want.length);
    const viaSplice = new Uint8Array(want.length);
    assert.equal(readSyncAll(p.read, viaSplice), want.length);
    assert.deepEqual(viaSplice, want);
    assert.equal(await spliceAsync(ring, fd, p.write, { offIn: 2 * GiB + 7 - 4096, length: want.length }), want.length);
    const viaRing = new Uint8Array(want.length);
    assert.equal(readSyncAll(p.read, viaRing), want.length);
    assert.deepEqual(viaRing, want);
    // Past the end: a short count, then nothing, never an error.
    assert.equal(splice(fd, p.write, { offIn: 3 * GiB - 4, length: 1000 }), 4);
    assert.equal(await spliceAsync(ring, fd, p.write, { offIn: 3 * GiB, length: 1000 }), 0);
    const tail = new Uint8Array(4);
    assert.equal(readSyncAll(p.read, tail), 4);
    assert.equal(new TextDecoder().decode(tail), "tail");
    assert.equal(splice(emptyFd, p.write, { offIn: 0, length: 10 }), 0);

    // File → socket, sync and through the ring, from past 2 GiB to the end.
    const from = 3 * GiB - 20_000;
    const expect = new Uint8Array(20_000);
    expect.set(enc.encode("tail"), 20_000 - 4);
    assert.equal(sendfile(client.fd, fd, { offset: from, length: 1 << 20 }), 20_000);
    assert.equal(await sendfileAsync(ring, client.fd, fd, { offset: from, length: 1 << 20 }), 20_000);
    assert.equal(sendfile(client.fd, fd, { offset: 2 * GiB + 7, length: 9 }), 9);
    assert.equal(sendfile(client.fd, emptyFd, { length: 100 }), 0);
    assert.equal(await sendfileAsync(ring, client.fd, emptyFd, { length: 100 }), 0);
    await client.shutdown("write");
    const got = await drain(server, 40_100);
    assert.equal(got.length, 40_009);
    assert.deepEqual(got.subarray(0, 20_000), expect);
    assert.deepEqual(got.subarray(20_000, 40_000), expect);
    assert.equal(new TextDecoder().decode(got.subarray(40_000)), "past-2GiB");
  } finally {
    close();
    closePipe(p);
    closeSync(fd);
    closeSync(emptyFd);
  }
}), { timeout: 60_000 });

/** Reads exactly `into.length` bytes from a pipe that already holds them. */
function readSyncAll(fd: number, into: Uint8Array): number {
  let at = 0;
  while (at < into.length) {
    const n = read(fd, into.subarray(at));
    if (n === 0) break;
    at += n;
  }
  return at;
}

test("copyFile (ring, parallel splices) and copyFileSync copy byte-exact with the mode", withDir(async (dir) => {
  using ring = new Ring();
  const data = pattern(5 * 2 ** 20 + 3, 13);
  const src = join(dir, "src");
  writeFileSync(src, data, { mode: 0o640 });
  assert.equal(await copyFile(src, join(dir, "a"), { ring, chunkSize: 1 << 20, depth: 3 }), data.length);
  assert.equal(copyFileSync(src, join(dir, "b")), data.length);
  for (const f of ["a", "b"]) {
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, f))), data, f);
    assert.equal(statSync(join(dir, f)).mode & 0o777, 0o640, f);
  }
}));

const reflinkMissing = process.getuid?.() !== 0
  ? "needs root to mount a btrfs image"
  : !hasCommand("mkfs.btrfs")
  ? "mkfs.btrfs is missing (apt-get install btrfs-progs)"
  : !readFileSync("/proc/filesystems", "utf8").includes("btrfs")
  ? "this kernel has no btrfs"
  : null;

/** Exclusive bytes of a file on btrfs: 0 when all its extents are shared (a reflink). */
function exclusiveBytes(path: string): number {
  const r = spawnSync("btrfs", ["filesystem", "du", "-s", "--raw", path], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim().split("\n")[1].trim().split(/\s+/)[1]);
}

skipUnless(reflinkMissing, "copyFile and copyFileSync reflink on btrfs: the copies share every extent", withDir(async (dir) => {
  const img = join(dir, "img");
  const mnt = join(dir, "mnt");
  const run = (cmd: string, ...args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  };
  writeFileSync(img, new Uint8Array(0));
  truncateSync(img, 200 * 2 ** 20);
  run("mkfs.btrfs", "-q", img);
  mkdirSync(mnt);
  run("mount", "-o", "loop", img, mnt);
  try {
    using ring = new Ring();
    const data = pattern(8 * 2 ** 20 + 5, 11);
    writeFileSync(join(mnt, "src"), data);
    run("sync");
    assert.equal(await copyFile(join(mnt, "src"), join(mnt, "ring-copy"), { ring }), data.length);
    assert.equal(copyFileSync(join(mnt, "src"), join(mnt, "sync-copy")), data.length);
    run("sync");
    for (const f of ["ring-copy", "sync-copy"]) {
      assert.deepEqual(new Uint8Array(readFileSync(join(mnt, f))), data, f);
      assert.equal(exclusiveBytes(join(mnt, f)), 0, `${f} has extents of its own: not a reflink`);
    }
  } finally {
    spawnSync("umount", [mnt]);
  }
}), { timeout: 60_000 });

test("bad input to the zero-copy calls is a KernelError naming the call, errno and fix", withDir((dir) => {
  const check = (fn: () => unknown, syscall: string, code: string) =>
    assert.throws(fn, (e: unknown) => e instanceof KernelError && e.syscall === syscall && e.code === code && e.hint !== undefined);
  check(() => sendfile(1, -1, { length: 10 }), "sendfile", "EBADF");
  check(() => sendfile(1, 0, { length: -1 }), "sendfile", "EINVAL");
  check(() => sendfile(1, 0, { offset: Number.NaN, length: 1 }), "sendfile", "EINVAL");
  check(() => splice(-1, -1, { length: 5 }), "splice", "EBADF");
  check(() => copyFileSync(join(dir, "missing"), join(dir, "x")), "open", "ENOENT");
  check(() => copyFileRange(0, 1, { length: 2 ** 53 }), "copy_file_range", "EINVAL");
}));
