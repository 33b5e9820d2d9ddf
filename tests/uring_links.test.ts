/**
 * Ordering and cancellation: linked chains (soft and hard links, drain),
 * link timeouts, and AbortSignal cancellation of ops that would block.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { guardFile, test } from "./harness.ts";
import { closeFds, handled, pattern, pipe, POLLIN, rejectsKernel, sleep, withTempDir } from "./support/uring.ts";
import { CWD, KernelError, Ring } from "../src/mod.ts";
import { O_CLOEXEC, O_CREAT, O_RDWR } from "../ffi/structs/fcntl.ts";

guardFile();

// One ring for the whole file (see tests/uring_ops.test.ts).
const ring = new Ring({ entries: 32 });

test("link soft: write -> fsync -> read run in order, and the read sees the write", () =>
  withTempDir(async (dir) => {
    const fd = await ring.openat(CWD, join(dir, "chain"), O_RDWR | O_CREAT | O_CLOEXEC);
    try {
      const data = pattern(8192, 2);
      const back = new Uint8Array(8192);
      const order: string[] = [];
      const note = (name: string) => (v: number) => {
        order.push(name);
        return v;
      };
      // IOSQE_ASYNC on the write pushes it to a worker thread: without the link
      // the read would likely overtake it and see an empty file.
      const results = await Promise.all([
        ring.write(fd, data, 0, data.length, { link: "soft", async: true }).then(note("write")),
        ring.fsync(fd, { link: "soft" }).then(note("fsync")),
        ring.read(fd, back, 0).then(note("read")),
      ]);
      assert.deepEqual(results, [8192, 0, 8192]);
      assert.deepEqual(order, ["write", "fsync", "read"]);
      assert.deepEqual(back, data);
    } finally {
      await ring.closeFd(fd);
    }
  }));

test("link soft: a failing op cancels the rest of its chain with ECANCELED; the next chain runs", async () => {
  const [r, w] = pipe();
  try {
    const chain = [
      ring.read(777_777, new Uint8Array(4), 0, 4, { link: "soft" }),
      ring.write(w, new Uint8Array([1, 2]), -1, 2, { link: "soft" }),
      ring.nop(),
    ];
    const after = ring.write(w, new Uint8Array([9]));
    const [bad, write, nop] = await Promise.allSettled(chain);
    assert.equal(bad.status, "rejected");
    await rejectsKernel(() => chain[0], "EBADF", "read");
    const e1 = await rejectsKernel(() => chain[1], "ECANCELED", "write");
    assert.match(e1.hint!, /linked/);
    await rejectsKernel(() => chain[2], "ECANCELED", "nop");
    assert.equal(write.status, "rejected");
    assert.equal(nop.status, "rejected");
    assert.equal(await after, 1);
    // Only the unlinked write reached the pipe.
    const buf = new Uint8Array(8);
    assert.equal(await ring.read(r, buf), 1);
    assert.equal(buf[0], 9);
  } finally {
    closeFds(r, w);
  }
});

test("link hard: the chain goes on after a failure", async () => {
  const [r, w] = pipe();
  try {
    const bad = handled(ring.read(777_777, new Uint8Array(4), 0, 4, { link: "hard" }));
    const write = ring.write(w, new Uint8Array([5, 6, 7]), -1, 3, { link: "hard" });
    const nop = ring.nop();
    await rejectsKernel(() => bad, "EBADF", "read");
    assert.equal(await write, 3);
    assert.equal(await nop, 0);
    const buf = new Uint8Array(3);
    assert.equal(await ring.read(r, buf), 3);
    assert.deepEqual([...buf], [5, 6, 7]);
  } finally {
    closeFds(r, w);
  }
});

test("drain: an op with drain starts only after every earlier op has completed", async () => {
  const order: string[] = [];
  const t0 = performance.now();
  const slow = ring.timeout(60).then(() => order.push("timeout"));
  const drained = ring.nop({ drain: true }).then(() => {
    order.push("drained nop");
    return performance.now() - t0;
  });
  const plain = ring.nop().then(() => order.push("later nop"));
  const waited = await drained;
  await Promise.all([slow, plain]);
  assert.ok(waited >= 50, `the drained nop completed after ${waited} ms`);
  assert.deepEqual(order.slice(0, 2), ["timeout", "drained nop"]);
  assert.ok(order.includes("later nop"));
  // Without drain a nop overtakes the timeout.
  order.length = 0;
  const t = ring.timeout(30).then(() => order.push("timeout"));
  await ring.nop().then(() => order.push("nop"));
  await t;
  assert.deepEqual(order, ["nop", "timeout"]);
});

test("linkTimeout: cancels a read that would block (ECANCELED) and resolves true", async () => {
  const [r, w] = pipe();
  try {
    const t0 = performance.now();
    const read = handled(ring.read(r, new Uint8Array(8), -1, 8, { link: "soft" }));
    const fired = ring.linkTimeout(40);
    const e = await rejectsKernel(() => read, "ECANCELED", "read");
    assert.match(e.hint!, /link_timeout/);
    assert.equal(await fired, true);
    const waited = performance.now() - t0;
    assert.ok(waited >= 35 && waited < 3000, `${waited} ms`);
    // The pipe is intact: a later read gets what is written.
    const buf = new Uint8Array(2);
    const later = ring.read(r, buf);
    await ring.write(w, new Uint8Array([4, 2]));
    assert.equal(await later, 2);
    assert.deepEqual([...buf], [4, 2]);
  } finally {
    closeFds(r, w);
  }
});

test("linkTimeout: an op that finishes first wins and the timeout resolves false", async () => {
  const [r, w] = pipe();
  try {
    await ring.write(w, new Uint8Array([1, 2, 3]));
    const buf = new Uint8Array(3);
    const read = ring.read(r, buf, -1, 3, { link: "soft" });
    const fired = ring.linkTimeout(5000);
    assert.equal(await read, 3);
    assert.equal(await fired, false);
    assert.equal(await Promise.all([ring.nop({ link: "soft" }), ring.linkTimeout(5000)]).then((x) => x[1]), false);
    // A poll that becomes ready before its link timeout.
    const poll = ring.pollAdd(r, POLLIN, { link: "soft" });
    const pollTimeout = ring.linkTimeout(5000);
    setTimeout(() => void ring.write(w, new Uint8Array([1])), 10);
    assert.equal((await poll) & POLLIN, POLLIN);
    assert.equal(await pollTimeout, false);
  } finally {
    closeFds(r, w);
  }
});

test("AbortSignal: a read on an empty pipe is canceled with ECANCELED, and never writes its buffer", async () => {
  const [r, w] = pipe();
  try {
    const controller = new AbortController();
    const buf = new Uint8Array(16).fill(0xcc);
    const read = handled(ring.read(r, buf, -1, 16, { signal: controller.signal }));
    await sleep(20);
    assert.equal(ring.pending, 1);
    const reason = new Error("user gave up");
    controller.abort(reason);
    const e = await rejectsKernel(() => read, "ECANCELED", "read");
    assert.match(e.message, /canceled: its AbortSignal fired/);
    assert.equal(e.cause, reason);
    assert.equal(ring.pending, 0);
    // Data written afterwards goes to the next reader, not to the canceled buffer.
    await ring.write(w, new Uint8Array([1, 2, 3]));
    const next = new Uint8Array(16);
    assert.equal(await ring.read(r, next), 3);
    assert.ok(buf.every((b) => b === 0xcc), "the canceled read wrote its buffer");
  } finally {
    closeFds(r, w);
  }
});

test("AbortSignal: pollAdd, readv, splice and a timeout are canceled; others on the ring are not", async () => {
  const [r, w] = pipe();
  const [r2, w2] = pipe();
  try {
    const controller = new AbortController();
    const { signal } = controller;
    const t0 = performance.now();
    const poll = handled(ring.pollAdd(r, POLLIN, { signal }));
    const readv = handled(ring.readv(r, [new Uint8Array(4), new Uint8Array(4)], -1, { signal }));
    const splice = handled(ring.splice(r, -1, w2, -1, 100, 0, { signal }));
    const timeout = handled(ring.timeout(60_000, { signal }));
    const bystander = ring.timeout(30);
    await sleep(10);
    controller.abort();
    await rejectsKernel(() => poll, "ECANCELED", "poll_add");
    await rejectsKernel(() => readv, "ECANCELED", "readv");
    await rejectsKernel(() => splice, "ECANCELED", "splice");
    const e = await rejectsKernel(() => timeout, "ECANCELED", "timeout");
    assert.match(e.message, /timeout\(60000 ms\) was canceled/);
    assert.ok(performance.now() - t0 < 5000);
    assert.equal(await bystander, 0);
    assert.equal(ring.pending, 0);
  } finally {
    closeFds(r, w, r2, w2);
  }
});

test("AbortSignal: one of many: only the aborted op rejects", async () => {
  const [r, w] = pipe();
  try {
    const controllers = Array.from({ length: 5 }, () => new AbortController());
    const polls = controllers.map((c) => handled(ring.pollAdd(r, POLLIN, { signal: c.signal })));
    await sleep(10);
    controllers[2].abort();
    await rejectsKernel(() => polls[2], "ECANCELED", "poll_add");
    assert.equal(ring.pending, 4);
    await ring.write(w, new Uint8Array([1]));
    for (const i of [0, 1, 3, 4]) assert.equal((await polls[i]) & POLLIN, POLLIN);
    // Aborting after completion changes nothing.
    controllers[0].abort();
    assert.equal(ring.pending, 0);
  } finally {
    closeFds(r, w);
  }
});

test("AbortSignal: an already aborted signal rejects at once without reaching the kernel", async () => {
  const enters = ring.stats.enters;
  const signal = AbortSignal.abort(new Error("too late"));
  const e = await rejectsKernel(() => ring.read(0, new Uint8Array(1), -1, 1, { signal }), "ECANCELED", "read");
  assert.match(e.message, /AbortSignal/);
  await rejectsKernel(() => ring.nop({ signal }), "ECANCELED", "nop");
  await rejectsKernel(() => ring.timeout(10, { signal }), "ECANCELED", "timeout");
  assert.equal(ring.stats.enters, enters);
  assert.equal(ring.pending, 0);
});

test("AbortSignal: a linked read canceled by its signal cancels its link timeout too", async () => {
  const [r, w] = pipe();
  try {
    const controller = new AbortController();
    const read = handled(ring.read(r, new Uint8Array(4), -1, 4, { link: "soft", signal: controller.signal }));
    const fired = ring.linkTimeout(60_000);
    await sleep(10);
    controller.abort();
    await rejectsKernel(() => read, "ECANCELED", "read");
    // The timeout's op was canceled with the read: it did not fire.
    const outcome = await fired.then((v) => v, (e) => e);
    assert.ok(outcome === false || (outcome instanceof KernelError && outcome.code === "ECANCELED"), String(outcome));
    assert.equal(ring.pending, 0);
  } finally {
    closeFds(r, w);
  }
});

test("links: the file's ring ends with nothing pending and closes", () => {
  assert.equal(ring.pending, 0);
  ring.close();
  assert.equal(ring.closed, true);
});
