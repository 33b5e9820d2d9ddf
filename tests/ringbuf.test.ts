import assert from "node:assert/strict";
import { join } from "node:path";
import { guardFile, skipUnless } from "./harness.ts";
import { throwsCode } from "./support/kernel_error.ts";
import { notRoot } from "./support/trace.ts";
import { struct, u32, u64 } from "../ffi/layout.ts";
import {
  type BpfObject,
  BpfObject as Bpf,
  type BpfProgram,
  codec,
  KernelError,
  perCpuValue,
  RingBuffer,
  sum,
} from "../src/mod.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const genObject = join(repo, "bpf/ringbuf_gen.bpf.o");
const frame = new Uint8Array(64);
/** struct kk_gen_head of ringbuf_gen.bpf.c. */
const kk_gen_head = struct("kk_gen_head", [["seq", u64], ["cpu", u32], ["size", u32]]);
/** Bytes a 16-byte record takes in the ring: 8 of header, 16 of data. */
const RECORD_16 = 24;

/** Records the generator has produced so far: the sum of its per-CPU sequence numbers. */
function produced(object: BpfObject): number {
  return sum(object.map("seq", { key: codec.u32, value: perCpuValue(codec.u64) }).get(0)!);
}

/**
 * Runs a generator `n` times with BPF_PROG_RUN. A pending signal or io_uring
 * task work stops a repeated run early (EINTR): the records made so far are
 * still counted by `produced`, so go on.
 */
function generate(program: BpfProgram, n: number): void {
  try {
    program.run(frame, { repeat: n });
  } catch (e) {
    if (!(e instanceof KernelError) || e.code !== "EINTR") throw e;
  }
}

skipUnless(notRoot, "ringbuf: 1M records from a BPF program, delivered + lost = produced, in order per CPU", () => {
  using object = Bpf.open(genObject).load();
  using rb = RingBuffer.open(object.map("records"), { lostCounter: object.map("lost") });
  assert.equal(rb.capacity, 1 << 22);
  const gen = object.program("kk_gen_16");
  const start = produced(object);
  const last = new Map<number, number>();
  let delivered = 0;
  let outOfOrder = 0;
  const check = (v: DataView, o: number, length: number) => {
    const seq = v.getUint32(o, true) + v.getUint32(o + 4, true) * 2 ** 32;
    const cpu = v.getUint32(o + 8, true);
    if (seq <= (last.get(cpu) ?? -1) || length !== 16) outOfOrder++;
    last.set(cpu, seq);
    delivered++;
  };
  // Bursts of 50k records fit the buffer (174k records of 24 bytes); every 8th burst of 250k doesn't.
  for (let round = 0; produced(object) - start < 1_000_000; round++) {
    generate(gen, round % 8 === 7 ? 250_000 : 50_000);
    rb.consumeRaw(check);
  }
  const made = produced(object) - start;
  const lost = rb.lost!;
  assert.ok(made >= 1_000_000, `${made} produced`);
  assert.ok(lost > 0, "no burst overflowed");
  assert.equal(delivered + lost, made, `delivered ${delivered} + lost ${lost} != produced ${made}`);
  assert.equal(outOfOrder, 0);
  assert.deepEqual({ ...rb.stats, lost: undefined }, { delivered, discarded: 0, lost: undefined, pending: 0 });
});

skipUnless(notRoot, "ringbuf: a reader slower than the producer never blocks the kernel: the overflow is counted as lost", () => {
  using object = Bpf.open(genObject).load();
  using rb = RingBuffer.open(object.map("records"), { lostCounter: object.map("lost") });
  const gen = object.program("kk_gen_16");
  const fits = rb.capacity / RECORD_16;
  const start = produced(object);
  // Three buffers' worth while nobody reads: each failed reserve returns at once.
  const t = performance.now();
  generate(gen, 3 * fits);
  const ms = performance.now() - t;
  const made = produced(object) - start;
  assert.ok(ms < 5000, `producing ${made} records into a full buffer took ${ms} ms`);
  const delivered = rb.consume(() => {});
  assert.ok(delivered <= Math.floor(fits) && delivered > fits * 0.9, `${delivered} of ${fits} delivered`);
  const lost = rb.lost!;
  assert.equal(delivered + lost, made);
  assert.ok(lost >= made - fits);
  rb.close();
  assert.equal(rb.lost, lost, "the lost count stays readable after close");
  assert.equal(rb.stats.delivered, delivered);
});

skipUnless(notRoot, "ringbuf: discarded records are skipped", () => {
  using object = Bpf.open(genObject).load();
  using rb = RingBuffer.open(object.map("records"));
  generate(object.program("kk_gen_discard"), 100);
  const seqs: number[] = [];
  rb.consume((r) => seqs.push(new DataView(r.buffer, r.byteOffset).getUint32(0, true)));
  assert.equal(seqs.length, 50);
  assert.ok(seqs.every((s) => s % 2 === 0), "a discarded (odd) record was delivered");
  assert.equal(rb.stats.discarded, 50);
  assert.equal(rb.lost, undefined);
});

skipUnless(notRoot, "ringbuf: layouts decode records; batches, async iteration and wake-ups", async () => {
  using object = Bpf.open(genObject).load();
  using rb = RingBuffer.open(object.map("records"), { decode: codec.struct(kk_gen_head) });
  const gen16 = object.program("kk_gen_16");
  const gen64 = object.program("kk_gen_64");
  generate(gen16, 3);
  generate(gen64, 2);
  const batches: number[][] = [];
  assert.equal(rb.consumeBatch((records) => batches.push(records.map((r) => r.size))), 5);
  assert.deepEqual(batches, [[16, 16, 16, 64, 64]]);
  assert.equal(rb.consumeBatch(() => assert.fail("called with nothing ready")), 0);

  // for await: five records, then a break gives the last one's space back.
  generate(gen16, 5);
  const seen: number[] = [];
  for await (const r of rb) {
    seen.push(r.seq);
    if (seen.length === 5) break;
  }
  assert.equal(new Set(seen).size, 5);
  assert.equal(rb.pending, 0);

  // An idle wait is woken by a record committed later (one run at a time: see generate()).
  const woken = rb.wait();
  setTimeout(() => gen16.run(frame), 30);
  assert.equal(await woken, true);
  assert.equal(await rb.wait({ timeoutMs: 1 }), true, "a ready record is ready at once");
  assert.equal(rb.consume(() => {}), 1);
  assert.equal(await rb.wait({ timeoutMs: 30 }), false);

  // run(): batches until aborted.
  const controller = new AbortController();
  let got = 0;
  const running = rb.run((records) => {
    got += records.length;
    if (got >= 10) controller.abort();
  }, { signal: controller.signal });
  const producer = setInterval(() => gen16.run(frame), 5);
  const total = await running;
  clearInterval(producer);
  assert.ok(total >= 10 && total === got, `run delivered ${total}`);
});

skipUnless(notRoot, "ringbuf: close ends waits, stale views read zeros, and reading after close is EBADF", async () => {
  using object = Bpf.open(genObject).load();
  const rb = RingBuffer.open(object.map("records"));
  generate(object.program("kk_gen_64"), 1);
  let kept: Uint8Array | undefined;
  rb.consume((r) => (kept = r));
  assert.equal(kept!.length, 64);
  assert.equal(new DataView(kept!.buffer, kept!.byteOffset).getUint32(12, true), 64, "the record's size field");
  const waiting = rb.wait();
  rb.close();
  assert.equal(await waiting, false);
  rb.close();
  assert.ok(kept!.every((b) => b === 0), "a view kept past close() must read zeros");
  throwsCode(() => rb.consume(() => {}), "EBADF", /closed/);
  throwsCode(() => rb.pending, "EBADF");
  for await (const _ of rb) assert.fail("a closed RingBuffer yielded a record");

  // The next reader of the map starts where the last one stopped; its copies are its own.
  const copy = RingBuffer.open(object.map("records"), { copy: true });
  generate(object.program("kk_gen_64"), 1);
  let owned: Uint8Array | undefined;
  assert.equal(copy.consume((r) => (owned = r)), 1);
  copy.close();
  assert.equal(owned!.length, 64);
  assert.equal(new DataView(owned!.buffer).getUint32(12, true), 64, "a copy outlives its RingBuffer");
});

skipUnless(notRoot, "ringbuf: a map that isn't a ringbuf, or a bad lost counter, is EINVAL naming its type", () => {
  using object = Bpf.open(genObject).load();
  throwsCode(() => RingBuffer.open(object.map("lost")), "EINVAL", /"lost" is a percpu_array map, not a ringbuf/);
  throwsCode(
    () => RingBuffer.open(object.map("records"), { lostCounter: object.map("records") }),
    "EINVAL",
    /not an array of u64/,
  );
  throwsCode(() => RingBuffer.open({ fd: 100_000 }), "EBADF");
});
