import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, test } from "./harness.ts";
import { throwsCode } from "./support/kernel_error.ts";
import { hasCommand, runScript } from "./support/process.ts";
import { eventually, getppid, linkExists, notRoot, startChild } from "./support/trace.ts";
import { type OpenEvent, OpenSnoop, SysCount, syscallNumber, TRACEFS_ROOT } from "../src/mod.ts";
import { parseInterval, parseTraceArgs } from "../src/cli/trace.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const cli = join(repo, "src/cli/main.ts");

/** Collects OpenSnoop events until `done` holds or `ms` pass. */
async function collect(snoop: OpenSnoop, done: (seen: OpenEvent[]) => boolean, ms = 5000): Promise<OpenEvent[]> {
  const seen: OpenEvent[] = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  await snoop.run((events) => {
    seen.push(...events);
    if (done(seen)) controller.abort();
  }, { signal: controller.signal });
  clearTimeout(timer);
  return seen;
}

skipUnless(notRoot, "opensnoop: sees the files the test opens, with its pid, path, fd and errors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kk-opensnoop-"));
  using snoop = OpenSnoop.start({ pid: process.pid });
  try {
    const path = join(dir, "seen.txt");
    writeFileSync(path, "x");
    closeSync(openSync(path, "r"));
    assert.throws(() => openSync(join(dir, "missing.txt"), "r"));
    const seen = await collect(snoop, (s) => s.some((e) => e.path.endsWith("missing.txt")));
    const mine = seen.filter((e) => e.path === path);
    assert.ok(mine.length >= 2, `opens of ${path}: ${JSON.stringify(seen.map((e) => e.path))}`);
    for (const e of mine) {
      assert.equal(e.pid, process.pid);
      assert.ok(e.fd >= 0 && e.error === undefined, JSON.stringify(e));
      assert.equal(e.uid, process.getuid!());
      assert.equal(e.dirfd, -100); // AT_FDCWD
    }
    assert.ok(mine.some((e) => (e.flags & 0o100) !== 0), "the write opened with O_CREAT");
    const missing = seen.find((e) => e.path.endsWith("missing.txt"))!;
    assert.deepEqual([missing.fd, missing.error], [-1, "ENOENT"]);
    assert.ok(seen.every((e) => e.pid === process.pid), "the pid filter let another process through");
    assert.equal(snoop.lost, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

skipUnless(notRoot, "opensnoop: the comm filter passes only that command's opens", async () => {
  using snoop = OpenSnoop.start({ comm: "kk-no-such-comm" });
  closeSync(openSync("/proc/self/stat", "r"));
  const seen = await collect(snoop, () => false, 200);
  assert.deepEqual(seen, []);
});

skipUnless(notRoot, "syscount: counts at least N getppid calls after the test makes N", () => {
  using counter = SysCount.start({ pid: process.pid });
  const N = 5000;
  getppid(N);
  const row = counter.bySyscall().find((r) => r.name === "getppid");
  assert.ok(row && row.count >= N, `getppid counted ${row?.count}`);
  assert.equal(row!.nr, syscallNumber("getppid"));
  assert.ok(counter.counts().every((c) => c.pid === process.pid), "the pid filter let another process through");
  assert.equal(counter.lost, 0);
  assert.equal(counter.prune(() => true), 0);
  assert.ok(counter.prune(() => false) > 0);
  counter.close();
  counter.close();
  throwsCode(() => counter.counts(), "EBADF");
});

test("kernelkit trace: bad arguments are EINVAL naming the mistake", () => {
  throwsCode(() => parseTraceArgs([]), "EINVAL", /syscalls\|opens/);
  throwsCode(() => parseTraceArgs(["files"]), "EINVAL", /unknown trace "files"/);
  throwsCode(() => parseTraceArgs(["syscalls", "--pid", "abc"]), "EINVAL", /--pid wants a positive integer/);
  throwsCode(() => parseTraceArgs(["syscalls", "--interval", "fast"]), "EINVAL", /--interval wants a duration/);
  throwsCode(() => parseTraceArgs(["syscalls", "--interval", "1ms"]), "EINVAL", /50ms to 1h/);
  throwsCode(() => parseTraceArgs(["syscalls", "--comm", "bash"]), "EINVAL", /option of trace opens/);
  throwsCode(() => parseTraceArgs(["opens", "--bogus"]), "EINVAL", /unknown option --bogus/);
  throwsCode(() => parseTraceArgs(["opens", "--pid", "999999999"]), "ESRCH", /no process 999999999/);
  assert.equal(parseInterval("1s"), 1000);
  assert.equal(parseInterval("250ms"), 250);
  assert.equal(parseInterval("0.5"), 500);
  assert.equal(parseInterval("2m"), 120_000);
  const r = runScript(cli, ["trace", "opens", "--count", "0"], { timeoutMs: 30_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--count wants a positive integer/);
});

skipUnless(notRoot, "kernelkit trace opens: the test's open as a JSON line; Ctrl-C detaches and exits 0", async () => {
  const child = startChild(cli, ["trace", "opens", "--pid", String(process.pid), "--json"]);
  try {
    const m = await child.waitFor(/links (\d+), (\d+)\)/, { fromStderr: true });
    const links = [Number(m[1]), Number(m[2])];
    assert.ok(links.every(linkExists));
    const dir = mkdtempSync(join(tmpdir(), "kk-trace-cli-"));
    const path = join(dir, "opened-by-the-test");
    try {
      writeFileSync(path, "x");
      const line = await child.waitFor(/^\{.*"path":"[^"]*opened-by-the-test".*\}$/m);
      const event = JSON.parse(line[0]) as OpenEvent;
      assert.equal(event.pid, process.pid);
      assert.equal(event.path, path);
      assert.ok(event.fd >= 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // process.kill, not child.kill: Deno's child.kill makes "exit" report the signal even when the child exits 0.
    process.kill(child.process.pid!, "SIGINT");
    const exit = await child.exited;
    assert.equal(exit.code, 0, child.stderr());
    assert.match(child.stderr(), /detached; \d+ opens/);
    assert.ok(await eventually(() => !links.some(linkExists)), "a link outlived `trace opens`");
  } finally {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL");
  }
});

skipUnless(notRoot, "kernelkit trace syscalls: per-interval rates by name, --count ends it cleanly", async () => {
  const child = startChild(cli, ["trace", "syscalls", "--pid", String(process.pid), "--interval", "200ms", "--count", "3", "--json"]);
  const busy = setInterval(() => getppid(2000), 20);
  try {
    const exit = await child.exited;
    assert.equal(exit.code, 0, child.stderr());
    const rows = child.stdout().trim().split("\n").map((l) => JSON.parse(l) as {
      seconds: number;
      total: number;
      syscalls: Array<{ name: string; nr: number; calls: number; perSecond: number }>;
    });
    assert.equal(rows.length, 3);
    const getppids = rows.map((r) => r.syscalls.find((s) => s.name === "getppid")?.calls ?? 0);
    assert.ok(getppids.some((n) => n >= 2000), `getppid per interval: ${getppids}`);
    assert.ok(rows.every((r) => r.seconds > 0.1 && r.seconds < 2));
    assert.match(child.stderr(), /detached after 3 intervals/);
  } finally {
    clearInterval(busy);
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL");
  }
});

/** Ids of the loaded BPF programs named `name` (bpftool, as the leak guard lists them). */
function programIds(name: string): number[] {
  const r = spawnSync("bpftool", ["-j", "prog", "show"], { encoding: "utf8", timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout || "[]") as { id: number; name?: string }[]).filter((p) => p.name === name).map((p) => p.id);
}

skipUnless(notRoot, "kernelkit trace syscalls: the text table names getppid; Ctrl-C detaches and exits 0", async () => {
  const before = programIds("kk_syscount");
  const child = startChild(cli, ["trace", "syscalls", "--pid", String(process.pid), "--interval", "200ms"]);
  const busy = setInterval(() => getppid(2000), 20);
  try {
    await child.waitFor(/counting the system calls/, { fromStderr: true });
    const attached = programIds("kk_syscount").filter((id) => !before.includes(id));
    assert.equal(attached.length, 1, "trace syscalls attached no syscount program");
    // A header with the rate, the column heads, then a row for getppid with its calls per second.
    await child.waitFor(/syscalls\/s by process \d+\nSYSCALL\s+CALLS\/S\s+CALLS\n/);
    const row = await child.waitFor(/^getppid\s+([\d,]+)\s+([\d,]+)$/m);
    assert.ok(Number(row[2].replaceAll(",", "")) >= 2000, row[0]);
    process.kill(child.process.pid!, "SIGINT");
    const exit = await child.exited;
    assert.equal(exit.code, 0, child.stderr());
    assert.match(child.stderr(), /detached after \d+ intervals/);
    assert.ok(await eventually(() => programIds("kk_syscount").every((id) => !attached.includes(id))), "syscount outlived Ctrl-C");
  } finally {
    clearInterval(busy);
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL");
  }
});

const unshareMissing = notRoot ?? (hasCommand("unshare") && hasCommand("setpriv") ? null : "unshare and setpriv are needed (util-linux)");

skipUnless(unshareMissing, "tracefs: mounted by kernelkit as root when missing; without CAP_SYS_ADMIN the error says what to run", () => {
  // A private mount namespace with tracefs unmounted: the host's mounts are untouched.
  const unmount = `umount ${TRACEFS_ROOT} 2>/dev/null; umount /sys/kernel/debug 2>/dev/null; exec "$0" "$@"`;
  const prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c", unmount];
  const child = join(repo, "tests/support/tracefs_child.ts");
  const asRoot = runScript(child, [], { prefix });
  assert.equal(asRoot.status, 0, asRoot.stderr);
  const mounted = JSON.parse(asRoot.stdout.trim()) as { before: boolean; root?: string; events?: boolean };
  assert.deepEqual(mounted, { before: false, root: TRACEFS_ROOT, events: true });
  // Still root, but with every capability dropped: mount(2) is refused.
  const noCaps = runScript(child, [], {
    prefix: [...prefix, "setpriv", "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--"],
  });
  assert.equal(noCaps.status, 0, noCaps.stderr);
  const refused = JSON.parse(noCaps.stdout.trim()) as { before: boolean; code?: string; syscall?: string; message?: string; hint?: string };
  assert.equal(refused.before, false);
  assert.equal(refused.code, "EPERM");
  assert.equal(refused.syscall, "mount");
  assert.match(refused.message ?? "", /tracepoints need tracefs/);
  assert.match(refused.hint ?? "", /mount -t tracefs nodev \/sys\/kernel\/tracing.*attachRawTracepoint/);
});
