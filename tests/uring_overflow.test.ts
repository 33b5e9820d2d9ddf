/**
 * CQ overflow never loses a completion: a 4-entry CQ under thousands of ops in
 * flight. The kernel keeps what doesn't fit on its overflow list
 * (IORING_FEAT_NODROP), and the ring must flush and reap all of it.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { guardFile, test } from "./harness.ts";
import { pattern, sleep, withTempDir } from "./support/uring.ts";
import { CWD, KernelError, Ring } from "../src/mod.ts";
import { O_CLOEXEC, O_RDONLY } from "../ffi/structs/fcntl.ts";
import { IORING_FEAT_NODROP } from "../ffi/structs/io_uring.ts";

guardFile();

// The smallest CQ the API allows: cqEntries >= entries.
const ring = new Ring({ entries: 4, cqEntries: 4 });

/** The CQEs waiting on the kernel's overflow list, from the ring's fdinfo. */
function overflowListLength(): number {
  const info = readFileSync(`/proc/self/fdinfo/${ring.fd}`, "utf8");
  const list = info.slice(info.indexOf("CqOverflowList:"));
  return (list.match(/user_data=/g) ?? []).length;
}

test("overflow: the ring is 4/4 entries on a NODROP kernel", () => {
  assert.equal(ring.sqEntries, 4);
  assert.equal(ring.cqEntries, 4);
  assert.ok(ring.features & IORING_FEAT_NODROP);
});

test("overflow: 1000 batch timeouts expire into a 4-entry CQ; all 1000 come back, once each", async () => {
  for (let i = 0; i < 1000; i++) ring.prep.timeout(10, i);
  ring.submit();
  await sleep(80);
  // They have all expired by now: 4 in the CQ, the rest on the kernel's overflow list.
  assert.equal(ring.cqReady(), 4);
  assert.ok(overflowListLength() >= 900, `${overflowListLength()} CQEs on the overflow list`);
  const seen = new Uint8Array(1000);
  let count = 0;
  const deadline = performance.now() + 5000;
  while (count < 1000 && performance.now() < deadline) {
    for (const c of ring.completions()) {
      assert.equal(c.res, -62, `userData ${c.userData}: ${c.res}`);
      assert.equal(seen[c.userData], 0, `userData ${c.userData} twice`);
      seen[c.userData] = 1;
      count++;
    }
    if (count < 1000) ring.submitAndWait(1);
  }
  assert.equal(count, 1000);
  assert.equal(overflowListLength(), 0);
  assert.equal(ring.pending, 0);
});

test("overflow: 5000 NOPs in one turn all settle", async () => {
  const settled = await Promise.allSettled(Array.from({ length: 5000 }, () => ring.nop()));
  assert.equal(settled.length, 5000);
  assert.equal(settled.filter((s) => s.status === "fulfilled" && s.value === 0).length, 5000);
  assert.equal(ring.pending, 0);
});

test("overflow: 3000 timeouts that expire together all resolve, through the waker", async () => {
  const t0 = performance.now();
  const completedBefore = ring.stats.completed;
  const settled = await Promise.allSettled(Array.from({ length: 3000 }, () => ring.timeout(30)));
  assert.equal(settled.filter((s) => s.status === "fulfilled" && s.value === 0).length, 3000);
  assert.ok(performance.now() - t0 >= 25);
  assert.equal(ring.stats.completed - completedBefore, 3000);
  assert.equal(ring.pending, 0);
});

test("overflow: 2000 timeouts ended by count, among 2000 NOPs, all settle", async () => {
  const t0 = performance.now();
  const timeouts = Array.from({ length: 2000 }, () => ring.timeout(10_000, { count: 1 }));
  const nops = Array.from({ length: 2000 }, () => ring.nop());
  const settled = await Promise.allSettled([...timeouts, ...nops]);
  assert.equal(settled.filter((s) => s.status === "fulfilled" && s.value === 0).length, 4000);
  assert.ok(performance.now() - t0 < 5000, "the timeouts ended by their count, not their 10 s");
});

test("overflow: 2000 file reads through a 4-entry CQ each get their own bytes", () =>
  withTempDir(async (dir) => {
    const data = pattern(2000 * 512, 99);
    writeFileSync(join(dir, "f"), data);
    const fd = await ring.openat(CWD, join(dir, "f"), O_RDONLY | O_CLOEXEC);
    try {
      // Offsets in a shuffled order, and buffers of different sizes.
      const order = Array.from({ length: 2000 }, (_, i) => (i * 769) % 2000);
      const bufs = order.map((_, i) => new Uint8Array(i % 3 === 0 ? 512 : 256));
      const got = await Promise.all(order.map((k, i) => ring.read(fd, bufs[i], k * 512)));
      order.forEach((k, i) => {
        assert.equal(got[i], bufs[i].length);
        assert.deepEqual(bufs[i], data.subarray(k * 512, k * 512 + bufs[i].length), `read ${i} at block ${k}`);
      });
    } finally {
      await ring.closeFd(fd);
    }
  }));

test("overflow: close with completions on the overflow list and ops still waiting settles every op", async () => {
  // All in one turn, so that nothing is reaped before close(): 500 NOPs complete
  // inside submit(), 4 into the CQ and the rest onto the overflow list.
  const nops = Array.from({ length: 500 }, () => ring.nop());
  ring.submit();
  assert.ok(overflowListLength() >= 400, `${overflowListLength()} CQEs on the overflow list`);
  const waiting = Array.from({ length: 50 }, () => ring.timeout(60_000));
  ring.submit();
  ring.close();
  assert.equal(ring.pending, 0);
  const settled = await Promise.allSettled([...nops, ...waiting]);
  assert.equal(settled.length, 550);
  // The NOPs had completed: close() reaped them from the overflow list.
  assert.equal(settled.slice(0, 500).filter((x) => x.status === "fulfilled" && x.value === 0).length, 500);
  for (const x of settled.slice(500)) {
    assert.equal(x.status, "rejected");
    assert.ok(x.reason instanceof KernelError && x.reason.code === "ECANCELED", String(x.reason));
  }
});
