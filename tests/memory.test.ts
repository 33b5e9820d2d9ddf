import assert from "node:assert/strict";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { guardFile, skipUnless, test } from "./harness.ts";
import { withHostMemory } from "./support/hostmem.ts";
import { runScript, runtimeName } from "./support/process.ts";
import { ADVICE_NAMES, KernelError, mapFile, mapMemory, type Mapping, thp } from "../src/mod.ts";

guardFile();

const MiB = 2 ** 20;
const support = new URL("./support/", import.meta.url).pathname;

function thpMissing(): string | null {
  try {
    return thp.status().enabled === "never" ? "THP is set to never on this host" : null;
  } catch {
    return "this kernel has no transparent huge pages";
  }
}

/** Asserts that fn throws a KernelError with this code, and returns it. */
function throwsKernel(fn: () => unknown, code: string): KernelError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof KernelError, `not a KernelError: ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`did not throw ${code}`);
}

test("mapMemory: zeroed, page-aligned memory of the size asked for", () => {
  const m = mapMemory(100_000);
  try {
    assert.equal(m.size, 100_000);
    assert.equal(m.bytes.length, 100_000);
    assert.equal(m.address % 4096, 0);
    assert.equal(m.pages, "default");
    assert.equal(m.pageSize, 4096);
    assert.equal(m.shared, false);
    assert.equal(m.path, undefined);
    assert.ok(m.bytes.every((b) => b === 0));
    m.bytes[99_999] = 0xab;
    assert.equal(new Uint8Array(m.bytes.buffer)[99_999], 0xab);
    assert.equal(m.residency().rss % 4096, 0);
  } finally {
    m.close();
  }
});

test("mapMemory: bad sizes and backings are EINVAL KernelErrors naming mmap", () => {
  for (
    const size of [
      0,
      -1,
      -4096,
      NaN,
      Infinity,
      1.5,
      2 ** 48,
      Number.MAX_SAFE_INTEGER,
      "4096" as unknown as number,
    ]
  ) {
    const e = throwsKernel(() => mapMemory(size), "EINVAL");
    assert.equal(e.syscall, "mmap");
    assert.match(e.message, /mmap/);
    assert.ok(e.hint && e.hint.length > 0);
  }
  throwsKernel(() => mapMemory(4096, { pages: "3MB" as "2MB" }), "EINVAL");
  // hugetlb mappings are whole huge pages; THP ones needn't be.
  const e = throwsKernel(() => mapMemory(3 * MiB, { pages: "2MB" }), "EINVAL");
  assert.match(e.message, /multiple of the 2MB page size/);
  assert.match(e.hint!, /4194304 bytes/);
});

skipUnless(
  thpMissing(),
  "transparent: AnonHugePages covers at least 90% of a populated 256 MiB mapping",
  () =>
    withHostMemory(() => {
      using m = mapMemory(256 * MiB, { pages: "transparent", populate: true });
      assert.equal(m.address % (2 * MiB), 0);
      const r = m.residency();
      assert.equal(r.rss, 256 * MiB);
      assert.ok(r.anonHugePages >= 0.9 * 256 * MiB, `AnonHugePages ${r.anonHugePages / MiB} MiB`);
      assert.equal(r.regions, 1);
    }),
);

test("small: a populated mapping has no AnonHugePages", () => {
  using m = mapMemory(64 * MiB, { pages: "small", populate: true });
  const r = m.residency();
  assert.equal(r.rss, 64 * MiB);
  assert.equal(r.anonHugePages, 0);
});

test("residency is exactly the mapping's range: neighbours never merge into it", () => {
  const a = mapMemory(4 * MiB, { populate: true });
  const b = mapMemory(4 * MiB);
  const c = mapMemory(4 * MiB, { populate: true });
  try {
    assert.equal(a.residency().rss, 4 * MiB);
    assert.equal(b.residency().rss, 0);
    assert.equal(b.residency().regions, 1);
    b.bytes[0] = 1;
    assert.equal(b.residency().rss, 4096);
    assert.equal(c.residency().rss, 4 * MiB);
  } finally {
    a.close();
    b.close();
    c.close();
  }
});

test("advise takes names; unknown names are EINVAL; collapse makes huge pages where THP is on", () =>
  withHostMemory(() => {
    using m = mapMemory(4 * MiB, { populate: true });
    for (const name of ADVICE_NAMES) {
      if (name === "hugepage" || name === "collapse") continue;
      m.advise(name);
    }
    m.advise("dontneed");
    assert.equal(m.residency().rss, 0);
    m.advise("populate-write");
    assert.equal(m.residency().rss, 4 * MiB);
    m.advise("sequential", "normal");
    throwsKernel(() => m.advise("sideways" as "random"), "EINVAL");
    if (thpMissing() === null) {
      using t = mapMemory(4 * MiB, { pages: "transparent" });
      t.bytes.fill(1);
      t.advise("collapse");
      assert.equal(t.residency().anonHugePages, 4 * MiB);
    }
  }));

test("lock and unlock show in Locked; populate faults the pages in", () => {
  using m = mapMemory(2 * MiB);
  assert.equal(m.residency().rss, 0);
  m.populate();
  assert.equal(m.residency().rss, 2 * MiB);
  m.lock();
  assert.equal(m.residency().locked, 2 * MiB);
  m.unlock();
  assert.equal(m.residency().locked, 0);
  using locked = mapMemory(MiB, { lock: true });
  assert.equal(locked.residency().locked, MiB);
});

test("close: double close is harmless, use after close is EBADF, residency is empty", () => {
  const m = mapMemory(MiB, { populate: true });
  const view = m.bytes;
  view[7] = 7;
  m.close();
  m.close();
  m[Symbol.dispose]();
  assert.equal(m.closed, true);
  assert.equal(view[7], 0, "a stale view reads zeros");
  assert.equal(throwsKernel(() => m.bytes, "EBADF").syscall, "mmap");
  assert.equal(throwsKernel(() => m.advise("willneed"), "EBADF").syscall, "madvise");
  throwsKernel(() => m.lock(), "EBADF");
  throwsKernel(() => m.populate(), "EBADF");
  assert.equal(m.residency().rss, 0);
  let disposed: Mapping | undefined;
  {
    using d = mapMemory(4096);
    disposed = d;
  }
  assert.equal(disposed.closed, true);
});

test("a stale view read after close does not crash, and its addresses are freed once collected (child process)", () => {
  const r = runScript(join(support, "stale_view.ts"), [], {
    env: { DENO_V8_FLAGS: "--expose-gc" },
    timeoutMs: 20_000,
  });
  assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
    sums: number[];
    wrote: number[];
    mappedBeforeGc: boolean;
    keptView: number;
    releasedAfterGc: { memory: number; file: number; leaked: number };
  };
  assert.deepEqual(out.sums, [0, 0, 0, 0], "stale views read zeros");
  assert.deepEqual(out.wrote, [5, 5, 5, 5], "stale views take writes without a crash");
  assert.equal(out.mappedBeforeGc, true, "addresses stay mapped while views may exist");
  assert.equal(out.keptView, 42, "a view outliving its leaked Mapping keeps its data");
  // Bun scans the stack conservatively, so not every view is collected at once.
  assert.ok(out.releasedAfterGc.memory >= 1, JSON.stringify(out));
  assert.ok(out.releasedAfterGc.file >= 1, JSON.stringify(out));
  assert.ok(out.releasedAfterGc.leaked >= 1, `leaked mappings are released: ${JSON.stringify(out)}`);
});

test(
  "shared: a memfd-backed mapping is seen through its path, from this thread and from a Worker",
  async () => {
    using m = mapMemory(MiB, { shared: true, name: "kernelkit-test" });
    assert.equal(m.shared, true);
    assert.ok(m.fd !== undefined && m.fd > 2);
    assert.match(readFileSync("/proc/self/maps", "utf8"), /\/memfd:kernelkit-test/);
    m.bytes[0] = 41;
    {
      using again = mapFile(m.path!, { mode: "rw" });
      assert.equal(again.size, MiB);
      assert.equal(again.bytes[0], 41);
      again.bytes[2] = 3;
      assert.equal(m.bytes[2], 3);
    }
    const worker = new Worker(new URL("./support/memory_worker.ts", import.meta.url).href, {
      type: "module",
    });
    try {
      const reply = await new Promise<{ seen?: number; size?: number; error?: string }>((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(String((e as ErrorEvent).message ?? e)));
        worker.postMessage({ path: m.path });
      });
      assert.equal(reply.error, undefined, String(reply.error));
      assert.deepEqual(reply, { seen: 41, size: MiB });
      assert.equal(m.bytes[1], 42);
      assert.equal(m.bytes[MiB - 1], 99);
    } finally {
      worker.terminate();
    }
    m.close();
    assert.equal(m.fd, undefined);
  },
  { timeout: 20_000 },
);

test(`runs under ${runtimeName}: a 3 GiB mapping's view spans it all`, () => {
  using m = mapMemory(3 * 2 ** 30);
  const floats = new Float64Array(m.bytes.buffer);
  assert.equal(floats.length, 3 * 2 ** 27);
  floats[floats.length - 1] = 1.5;
  assert.equal(floats[floats.length - 1], 1.5);
  assert.equal(m.residency().rss, 4096);
});
