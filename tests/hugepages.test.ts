import assert from "node:assert/strict";
import { chmodSync, copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, test } from "./harness.ts";
import { withHostMemory } from "./support/hostmem.ts";
import { hasCommand, runScript, runtimeBinary } from "./support/process.ts";
import {
  hugePages,
  KernelError,
  mapFile,
  mapMemory,
  pageSizeName,
  parseSize,
  persistentPoolSetting,
  thp,
} from "../src/mod.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const cli = join(repo, "src/cli/main.ts");
const MiB = 2 ** 20;
const POOL_2MB = "/sys/kernel/mm/hugepages/hugepages-2048kB";
const isRoot = process.getuid?.() === 0;
const has2MB = hugePages.pool("2MB") !== undefined;
const rootWith2MB = !isRoot ? "needs root" : has2MB ? null : "this kernel has no 2 MiB hugetlb pool";
const sysfs = (path: string): string => readFileSync(path, "utf8").trim();
const selected = (path: string): string => /\[([^\]]+)\]/.exec(readFileSync(path, "utf8"))![1];

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

test("parseSize and pageSizeName speak the kernel's binary units", () => {
  assert.equal(parseSize("2MB"), 2 * MiB);
  assert.equal(parseSize("2MiB"), 2 * MiB);
  assert.equal(parseSize("2048kB"), 2 * MiB);
  assert.equal(parseSize("1G"), 2 ** 30);
  assert.equal(parseSize("8GiB"), 8 * 2 ** 30);
  assert.equal(parseSize(4096), 4096);
  for (const bad of ["", "two MB", "-2MB", "0", 0, -1, 1.5, "2XB"]) {
    throwsKernel(() => parseSize(bad), "EINVAL");
  }
  assert.equal(pageSizeName(2 * MiB), "2MB");
  assert.equal(pageSizeName(2 ** 30), "1GB");
  assert.equal(pageSizeName(64 * 1024), "64KB");
});

test("hugePages.status agrees with /sys/kernel/mm/hugepages, per pool and per node", () =>
  withHostMemory(() => {
    const s = hugePages.status();
    assert.equal(s.pools.length, readdirSync("/sys/kernel/mm/hugepages").length);
    for (const p of s.pools) {
      assert.equal(p.total, Number(sysfs(`${p.path}/nr_hugepages`)));
      assert.equal(p.free, Number(sysfs(`${p.path}/free_hugepages`)));
      assert.equal(p.reserved, Number(sysfs(`${p.path}/resv_hugepages`)));
      assert.equal(p.surplus, Number(sysfs(`${p.path}/surplus_hugepages`)));
      assert.equal(p.path, `/sys/kernel/mm/hugepages/hugepages-${p.bytes / 1024}kB`);
      for (const n of p.nodes) {
        const base = `/sys/devices/system/node/node${n.node}/hugepages/hugepages-${p.bytes / 1024}kB`;
        assert.equal(n.total, Number(sysfs(`${base}/nr_hugepages`)));
      }
    }
    const kb = /Hugepagesize:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1];
    assert.equal(s.defaultSize, s.pools.length ? Number(kb) * 1024 : undefined);
    assert.equal(s.pools.filter((p) => p.isDefault).length, s.pools.length ? 1 : 0);
    assert.equal(hugePages.pool("16MB"), undefined);
  }));

test("thp.status agrees with /sys/kernel/mm/transparent_hugepage", () =>
  withHostMemory(() => {
    const s = thp.status();
    assert.equal(s.enabled, selected("/sys/kernel/mm/transparent_hugepage/enabled"));
    assert.equal(s.defrag, selected("/sys/kernel/mm/transparent_hugepage/defrag"));
    assert.ok(s.choices.enabled.includes("madvise"));
    assert.equal(s.pageSize, Number(sysfs("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")));
    throwsKernel(() => thp.set({ enabled: "sometimes" as "always" }), "EINVAL");
  }));

test("persistentPoolSetting: sysctl for the default size, kernel parameters for others", () => {
  assert.deepEqual(persistentPoolSetting("2MB", 64).line, "vm.nr_hugepages = 64");
  assert.equal(persistentPoolSetting("1GB", 4).line, "hugepagesz=1G hugepages=4");
  assert.equal(persistentPoolSetting("1GB", 4).kind, "boot");
});

test("reserve and release: dry runs write nothing; unknown sizes are ENOTSUP; bad counts EINVAL", () =>
  withHostMemory(() => {
    const before = hugePages.pool("2MB")!.total;
    const plan = hugePages.reserve("2MB", before + 8, { dryRun: true });
    assert.equal(plan.dryRun, true);
    assert.equal(plan.changed, false);
    assert.equal(plan.total, before);
    assert.match(plan.reason!, /would write/);
    assert.equal(hugePages.pool("2MB")!.total, before);
    assert.equal(hugePages.release("2MB", { dryRun: true }).changed, false);
    const e = throwsKernel(() => hugePages.reserve("16MB", 1), "ENOTSUP");
    assert.match(e.message, /16MB/);
    for (const n of [-1, 1.5, NaN]) throwsKernel(() => hugePages.reserve("2MB", n), "EINVAL");
  }));

skipUnless(rootWith2MB, "2MB with no pool reserved: ENOMEM whose hint says how to reserve", async () => {
  await withHostMemory(() => {
    hugePages.release("2MB");
    const e = throwsKernel(() => mapMemory(4 * MiB, { pages: "2MB" }), "ENOMEM");
    assert.equal(e.syscall, "mmap");
    assert.match(e.hint!, /kernelkit hugepages reserve 2 --size 2MB/);
    assert.match(e.message, /hugePages\.reserve\("2MB", 2\)/);
    throwsKernel(() => mapMemory(4 * MiB, { pages: "2MB", shared: true }), "ENOMEM");
  });
});

skipUnless(
  rootWith2MB,
  'reserve 64 × 2 MiB, map them with "2MB" and see Private_Hugetlb; release them',
  async () => {
    await withHostMemory(() => {
      const r = hugePages.reserve("2MB", 64);
      assert.equal(r.ok, true, String(r.reason));
      assert.equal(r.total, 64);
      assert.equal(Number(sysfs(`${POOL_2MB}/nr_hugepages`)), 64);
      assert.equal(hugePages.reserve("2MB", 64).changed, false, "a second reserve is a no-op");
      {
        using m = mapMemory(128 * MiB, { pages: "2MB", populate: true });
        assert.equal(m.address % (2 * MiB), 0);
        assert.equal(m.pageSize, 2 * MiB);
        const res = m.residency();
        assert.equal(res.privateHugetlb, 128 * MiB);
        assert.equal(res.pageSize, 2 * MiB);
        assert.equal(hugePages.pool("2MB")!.free, 0);
        m.bytes[m.size - 1] = 1;
        // Stale views of hugetlb memory read zeros too, and the pool gets its pages back at once.
        const view = m.bytes;
        m.close();
        assert.equal(view[m.size - 1], 0);
        assert.equal(hugePages.pool("2MB")!.free, 64);
      }
      {
        // A shared hugetlb memfd, mapped twice: the pages show as Shared_Hugetlb.
        using s = mapMemory(8 * MiB, { pages: "2MB", shared: true, populate: true });
        s.bytes[0] = 9;
        using again = mapFile(s.path!, { mode: "rw" });
        again.populate();
        assert.equal(again.pageSize, 2 * MiB);
        assert.equal(again.bytes[0], 9);
        assert.equal(s.residency().sharedHugetlb, 8 * MiB);
      }
      const released = hugePages.release("2MB");
      assert.equal(released.ok, true);
      assert.equal(released.total, 0);
      assert.equal(Number(sysfs(`${POOL_2MB}/nr_hugepages`)), 0);
    });
  },
);

skipUnless(
  !isRoot ? "needs root" : hugePages.pool("1GB") ? null : "this kernel has no 1 GiB pool to empty",
  "1GB with an empty 1 GiB pool: ENOMEM with a hint",
  async () => {
    await withHostMemory(() => {
      hugePages.release("1GB");
      const e = throwsKernel(() => mapMemory(2 ** 30, { pages: "1GB" }), "ENOMEM");
      assert.match(e.hint!, /reserve 1 --size 1GB/);
    });
  },
);

skipUnless(
  !isRoot
    ? "needs root for a mount namespace"
    : hasCommand("unshare")
    ? null
    : "unshare is missing (util-linux)",
  "1GB where the kernel has no 1 GiB pool: ENOTSUP with the reason",
  () => {
    // A private mount namespace where /sys/kernel/mm/hugepages lists only 2 MiB pages.
    const d = "/sys/kernel/mm/hugepages";
    const hide =
      `mount -t tmpfs none ${d} && mkdir ${d}/hugepages-2048kB && for f in nr free resv surplus; do ` +
      `echo 0 > ${d}/hugepages-2048kB/\${f}_hugepages; done && exec "$0" "$@"`;
    const r = runScript(join(repo, "tests/support/no_1gb_pool.ts"), [], {
      prefix: ["unshare", "--mount", "--propagation", "private", "sh", "-c", hide],
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as {
      code: string;
      syscall: string;
      feature: string;
      message: string;
    };
    assert.equal(out.code, "ENOTSUP");
    assert.equal(out.syscall, "mmap");
    assert.match(out.feature, /1GB/);
    assert.match(out.message, /has pools of 2MB only/);
  },
);

skipUnless(
  !isRoot
    ? "needs root"
    : thp.status().choices.enabled.includes("never")
    ? null
    : "THP can't be set to never here",
  "thp.set is idempotent and takes effect; transparent mappings are ENOTSUP while THP is never",
  async () => {
    await withHostMemory(() => {
      const now = thp.status();
      assert.equal(thp.set({ enabled: now.enabled, defrag: now.defrag }).changes.length, 0);
      const dry = thp.set({ defrag: now.defrag === "defer" ? "madvise" : "defer" }, { dryRun: true });
      assert.equal(dry.changes.length, 1);
      assert.equal(selected("/sys/kernel/mm/transparent_hugepage/defrag"), now.defrag);
      const r = thp.set({ enabled: "never", defrag: "defer" });
      assert.equal(r.status.enabled, "never");
      assert.equal(selected("/sys/kernel/mm/transparent_hugepage/enabled"), "never");
      assert.equal(selected("/sys/kernel/mm/transparent_hugepage/defrag"), "defer");
      const e = throwsKernel(() => mapMemory(4 * MiB, { pages: "transparent" }), "ENOTSUP");
      assert.match(e.hint!, /kernelkit thp set --enabled madvise/);
    });
    assert.equal(thp.status().enabled, selected("/sys/kernel/mm/transparent_hugepage/enabled"));
  },
);

test("cli: hugepages status and thp status, as a table and as JSON", () =>
  withHostMemory(() => {
    const json = runScript(cli, ["hugepages", "status", "--json"]);
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual(
      (JSON.parse(json.stdout) as { pools: { size: string }[] }).pools.map((p) => p.size),
      hugePages.status().pools.map((p) => p.size),
    );
    const table = runScript(cli, ["hugepages"]);
    assert.match(table.stdout, /^size\s+total\s+free\s+reserved\s+surplus/);
    const t = runScript(cli, ["thp", "status", "--json"]);
    assert.equal((JSON.parse(t.stdout) as { enabled: string }).enabled, thp.status().enabled);
    const bad = runScript(cli, ["hugepages", "reserve", "many"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /page count/);
    assert.equal(runScript(cli, ["thp", "set"]).status, 2);
  }));

test("cli: --dry-run changes nothing and says what it would do", () =>
  withHostMemory(() => {
    const before = sysfs(`${POOL_2MB}/nr_hugepages`);
    const r = runScript(cli, [
      "hugepages",
      "reserve",
      String(Number(before) + 3),
      "--size",
      "2MB",
      "--dry-run",
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /dry run: 2MB pool: would write/);
    assert.equal(sysfs(`${POOL_2MB}/nr_hugepages`), before);
    const other = thp.status().enabled === "never" ? "madvise" : "never";
    const t = runScript(cli, ["thp", "set", "--enabled", other, "--dry-run"]);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, new RegExp(`dry run: would set enabled: \\S+ -> ${other}`));
    assert.equal(thp.status().enabled === other, false);
  }));

skipUnless(rootWith2MB, "cli: reserve and release are idempotent, as root", async () => {
  await withHostMemory(() => {
    const first = runScript(cli, ["hugepages", "reserve", "3", "--size", "2MB"]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /2MB pool: \d+ -> 3 pages/);
    const again = runScript(cli, ["hugepages", "reserve", "3"]);
    assert.match(again.stdout, /unchanged, it already has 3 pages/);
    const rel = runScript(cli, ["hugepages", "release", "--json"]);
    assert.equal((JSON.parse(rel.stdout) as { total: number }).total, 0);
  });
});

skipUnless(
  !isRoot
    ? "needs root to switch to an unprivileged user"
    : hasCommand("setpriv")
    ? null
    : "setpriv is missing (util-linux)",
  "cli: without root, reserve and thp set fail clearly and change nothing",
  () =>
    withHostMemory(() => {
      const dir = mkdtempSync(join(tmpdir(), "kernelkit-nobody-"));
      const before = sysfs(`${POOL_2MB}/nr_hugepages`);
      try {
        for (const sub of ["src", "ffi"]) cpSync(join(repo, sub), join(dir, sub), { recursive: true });
        const binary = join(dir, runtimeBinary.slice(runtimeBinary.lastIndexOf("/") + 1));
        copyFileSync(runtimeBinary, binary);
        chmodSync(dir, 0o755);
        const asNobody = (args: string[]) =>
          runScript(join(dir, "src/cli/main.ts"), args, {
            binary,
            cwd: dir, // uid 65534 may not enter the clone's directory
            prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"],
            env: { HOME: dir, DENO_DIR: join(dir, ".deno"), BUN_INSTALL_CACHE_DIR: join(dir, ".bun") },
          });
        const r = asNobody(["hugepages", "reserve", String(Number(before) + 1), "--size", "2MB"]);
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stderr, /nr_hugepages.*EACCES.*needs root/);
        const t = asNobody([
          "thp",
          "set",
          "--enabled",
          thp.status().enabled === "never" ? "madvise" : "never",
        ]);
        assert.equal(t.status, 1, t.stdout + t.stderr);
        assert.match(t.stderr, /EACCES.*needs root/);
        assert.equal(asNobody(["hugepages", "status"]).status, 0);
        assert.equal(sysfs(`${POOL_2MB}/nr_hugepages`), before);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  { timeout: 60_000 },
);

skipUnless(
  rootWith2MB,
  "scripts/hugepages-for.ts reserves a pool for a buffer, checks it, prints the sysctl line",
  async () => {
    await withHostMemory(() => {
      hugePages.release("2MB");
      const script = join(repo, "scripts/hugepages-for.ts");
      const r = runScript(script, ["--for", "7MiB", "--size", "2MB"]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /needs 4 pages of 2MB/);
      assert.match(r.stdout, /reads 4, sysctl vm\.nr_hugepages = 4/);
      assert.match(r.stdout, /^ {2}vm\.nr_hugepages = 4$/m);
      assert.equal(Number(sysfs(`${POOL_2MB}/nr_hugepages`)), 4);
      const dry = runScript(script, ["--for", "1GiB", "--dry-run", "--json"]);
      assert.equal(dry.status, 0, dry.stderr);
      const plan = JSON.parse(dry.stdout) as { count: number; result: { total: number; dryRun: boolean } };
      assert.deepEqual([plan.count, plan.result.total, plan.result.dryRun], [512, 4, true]);
      assert.equal(runScript(script, []).status, 2);
    });
  },
  { timeout: 30_000 },
);
