import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, test } from "./harness.ts";
import { runScript } from "./support/process.ts";
import { eventually, getppid, linkExists, notRoot, startChild } from "./support/trace.ts";
import { KernelError, type OpenEvent, OpenSnoop, SysCount, syscallNumber } from "../src/mod.ts";
import { parseInterval, parseTraceArgs } from "../src/cli/trace.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const cli = join(repo, "src/cli/main.ts");

function rejects(fn: () => unknown, code: string, pattern?: RegExp): KernelError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof KernelError, `not a KernelError: ${e}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected a KernelError ${code}`);
}

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
  rejects(() => counter.counts(), "EBADF");
});

test("kernelkit trace: bad arguments are EINVAL naming the mistake", () => {
  rejects(() => parseTraceArgs([]), "EINVAL", /syscalls\|opens/);
  rejects(() => parseTraceArgs(["files"]), "EINVAL", /unknown trace "files"/);
  rejects(() => parseTraceArgs(["syscalls", "--pid", "abc"]), "EINVAL", /--pid wants a positive integer/);
  rejects(() => parseTraceArgs(["syscalls", "--interval", "fast"]), "EINVAL", /--interval wants a duration/);
  rejects(() => parseTraceArgs(["syscalls", "--interval", "1ms"]), "EINVAL", /50ms to 1h/);
  rejects(() => parseTraceArgs(["syscalls", "--comm", "bash"]), "EINVAL", /option of trace opens/);
  rejects(() => parseTraceArgs(["opens", "--bogus"]), "EINVAL", /unknown option --bogus/);
  rejects(() => parseTraceArgs(["opens", "--pid", "999999999"]), "ESRCH", /no process 999999999/);
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
