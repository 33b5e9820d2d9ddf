/**
 * Child process for tests/memory.test.ts: uses views after their mappings were
 * closed, and leaks mappings, then collects garbage and reports on
 * /proc/self/maps. A crash (SIGSEGV, SIGBUS) shows as the exit status.
 *
 * Prints one JSON line. Run it with GC exposed: Bun has Bun.gc; Deno needs
 * DENO_V8_FLAGS=--expose-gc.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mapFile, mapMemory } from "../../src/mod.ts";

const g = globalThis as { Bun?: { gc(sync: boolean): void }; gc?: () => void };
async function collect(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    if (g.Bun) g.Bun.gc(true);
    else if (g.gc) g.gc();
    else throw new Error("no gc(): run Deno with DENO_V8_FLAGS=--expose-gc");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** True when some line of /proc/self/maps covers `address`. */
function mapped(address: number): boolean {
  for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (m && parseInt(m[1], 16) <= address && address < parseInt(m[2], 16)) return true;
  }
  return false;
}

const file = join(tmpdir(), `kernelkit-stale-${process.pid}.bin`);
writeFileSync(file, "x".repeat(10_000));

// Kept in a function so that no stack slot of the caller holds the views.
function staleUse(): { sum: number; wrote: number; fileSum: number; address: number; fileAddress: number } {
  const m = mapMemory(8 * 2 ** 20, { populate: true });
  const view = m.bytes;
  const floats = new Float64Array(view.buffer);
  view.fill(7);
  const address = m.address;
  m.close();
  let sum = 0;
  for (let i = 0; i < view.length; i += 4096) sum += view[i];
  for (let i = 0; i < floats.length; i += 512) sum += floats[i];
  view[123] = 5;
  const wrote = view[123];

  const f = mapFile(file, { offset: 5000 });
  const fview = f.bytes;
  const fileAddress = f.address;
  f.close();
  f.close();
  let fileSum = 0;
  for (let i = 0; i < fview.length; i++) fileSum += fview[i];
  return { sum, wrote, fileSum, address, fileAddress };
}

function leak(): number[] {
  const touched = mapMemory(2 ** 20);
  touched.bytes[0] = 1;
  const untouched = mapMemory(2 ** 20);
  return [touched.address, untouched.address];
}

// Bun's collector scans the stack conservatively, so a view can outlive its
// last use by a while; several rounds show that views do get collected.
const stale = [1, 2, 3, 4].map(() => staleUse());
// A Mapping dropped while its view is still used: the view must keep its data.
const kept = ((): Uint8Array => {
  const m = mapMemory(2 ** 20);
  m.bytes[0] = 42;
  return m.bytes;
})();
const leaked = [1, 2, 3, 4].flatMap(() => leak());
const mappedBeforeGc = [...stale.flatMap((s) => [s.address, s.fileAddress]), ...leaked].every(mapped);
await collect();
rmSync(file, { force: true });
console.log(JSON.stringify({
  sums: stale.map((s) => s.sum + s.fileSum),
  wrote: stale.map((s) => s.wrote),
  mappedBeforeGc,
  keptView: kept[0],
  releasedAfterGc: {
    memory: stale.filter((s) => !mapped(s.address)).length,
    file: stale.filter((s) => !mapped(s.fileAddress)).length,
    leaked: leaked.filter((a) => !mapped(a)).length,
  },
}));
