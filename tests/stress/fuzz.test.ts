/**
 * The property-based API fuzzer (issue 9, part 1), for both runtimes.
 *
 * A child process of the runtime under test (tests/stress/fuzz_child.ts)
 * drives random sequences of calls (tests/stress/fuzz_actions.ts) against the
 * public API: rings, ops and op-after-close; mappings, advice and stale views;
 * file mappings; sockets sent on and reset; BPF maps with wrong-sized keys;
 * XDP attached and detached in any order on a veth of the test's own. Every
 * call must succeed or throw a KernelError (or a TypeError for wrong JS
 * types); no call may hang, and the child may never die from a signal.
 *
 * - The short profile (the default, `npm test`, CI): a few thousand calls per
 *   runtime. `KERNELKIT_STRESS=full`: at least 100k.
 * - A broken invariant is shrunk by fast-check and saved by the child in
 *   tests/stress/regressions/<date>-<runtime>.json. A child killed by a signal
 *   (or hung past its budget) has its last sequence saved here, shrunk by
 *   replaying it in fresh children with one action removed at a time.
 * - Every saved case (and the hand-written seed-*.json ones) is replayed on
 *   every run, with its expected outcomes checked.
 *
 * `KERNELKIT_FUZZ_SEED=n` fixes the first seed (it is printed on each run).
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, test } from "../harness.ts";
import { netnsMissing, withNetns } from "../support/netns.ts";
import { runtimeBinary, runtimeName, scriptArgv } from "../support/process.ts";
import { type Action, AREAS, type AreaStats, type Stats } from "./fuzz_actions.ts";
import { scaled, stressProfile } from "./profile.ts";

guardFile();

const here = new URL(".", import.meta.url).pathname;
const repo = join(here, "../..");
const child = join(here, "fuzz_child.ts");
const regressions = join(here, "regressions");

/** Calls per runtime: a few thousand in the short profile, 100k in the full one. */
const TARGET = scaled(5_000, 100_000);
/** How long the child may fuzz before it must have reached the target. */
const BUDGET_MS = scaled(35_000, 900_000);

interface Summary extends Stats {
  readonly runtime: string;
  readonly ms: number;
  readonly failed: boolean;
  readonly error?: string;
  readonly saved?: string;
  readonly failures?: string[];
  readonly cases?: number;
  readonly expectations?: number;
}

interface ChildResult {
  readonly status: number | null;
  readonly signal: string | null;
  /** Killed by the parent: it ran past its time, or stalled (see STALL_MS). */
  readonly timedOut: boolean;
  readonly stalled: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly summary: Summary | undefined;
}

/**
 * A child that starts no new sequence for this long is stuck in a call that
 * never returns to the event loop (the per-call timeouts can't see those).
 */
const STALL_MS = 60_000;

/**
 * Runs the child with `config`, stdin closed (never a blocking fd), bounded by
 * `timeoutMs`, and killed when it stops writing new sequences to
 * `config.current` for {@link STALL_MS}.
 */
function runChild(config: Record<string, unknown>, timeoutMs: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const p = spawn(runtimeBinary, scriptArgv(child, [JSON.stringify(config)]), {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    p.stdout!.on("data", (d) => (stdout += d));
    p.stderr!.on("data", (d) => {
      // libbpf prints every verifier log it gets; keep the tail only.
      stderr = (stderr + d).slice(-20_000);
    });
    let timedOut = false;
    let stalled = false;
    const kill = () => {
      timedOut = true;
      p.kill("SIGKILL");
    };
    const timer = setTimeout(kill, timeoutMs);
    const started = Date.now();
    const watchdog = setInterval(() => {
      let last = started;
      try {
        last = Math.max(started, statSync(config.current as string).mtimeMs);
      } catch {
        // not written yet
      }
      if (Date.now() - last > STALL_MS) {
        stalled = true;
        kill();
      }
    }, 5000);
    p.on("close", (status, signal) => {
      clearTimeout(timer);
      clearInterval(watchdog);
      const line = stdout.split("\n").reverse().find((l) => l.startsWith("FUZZ_SUMMARY "));
      const summary = line ? JSON.parse(line.slice("FUZZ_SUMMARY ".length)) as Summary : undefined;
      resolve({ status, signal, timedOut, stalled, stdout, stderr, summary });
    });
  });
}

/** What a run leaves on bpffs and in /tmp, removed however it ended. */
function workspace(
  tag: string,
): { dir: string; pinDir: string; current: string; cleanup(ifname?: string): void } {
  const dir = mkdtempSync(join(tmpdir(), `kk-fuzz-${runtimeName}-`));
  const pinDir = `/sys/fs/bpf/kk-fuzz-${runtimeName}-${process.pid}-${tag}`;
  return {
    dir,
    pinDir,
    current: join(dir, "current.json"),
    cleanup(ifname?: string) {
      rmSync(pinDir, { recursive: true, force: true });
      // persist: true pins under kernelkit's own directory for the interface.
      if (ifname) rmSync(`/sys/fs/bpf/kernelkit/${ifname}`, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const crashed = (r: ChildResult) => r.signal !== null || r.timedOut;

/**
 * A sequence that killed (or hung) the child: saved as a regression, then
 * shrunk by replaying it in fresh children without a run of its actions
 * (halves first, then quarters, ... down to single actions), keeping each
 * removal that still kills it. Bounded: 40 replays or 150 s, whichever first;
 * a hang costs a whole replay timeout each.
 */
async function saveCrash(actions: Action[], why: string, base: Record<string, unknown>): Promise<string> {
  const date = new Date().toISOString().slice(0, 10);
  let path = join(regressions, `${date}-${runtimeName}-crash.json`);
  for (let n = 2; existsSync(path); n++) path = join(regressions, `${date}-${runtimeName}-crash-${n}.json`);
  const write = (list: Action[], note: string) =>
    writeFileSync(
      path,
      `${
        JSON.stringify(
          { name: `killed the ${runtimeName} child: ${why} (${note})`, runtime: runtimeName, actions: list },
          null,
          2,
        )
      }\n`,
    );
  write(actions, "not shrunk yet");
  let list = actions;
  let attempts = 0;
  const deadline = Date.now() + 150_000;
  const more = () => attempts < 40 && Date.now() < deadline;
  for (
    let size = Math.max(1, Math.floor(list.length / 2));
    size >= 1 && more();
    size = Math.floor(size / 2)
  ) {
    // From the end: the actions that matter tend to come last, before the crash.
    for (let start = list.length - size; start >= 0 && more(); start -= size) {
      attempts++;
      const candidate = [...list.slice(0, start), ...list.slice(start + size)];
      const ws = workspace(`shrink${attempts}`);
      try {
        // A single sequence replays in well under a second; a hang is called one after 15 s.
        const r = await runChild({
          ...base,
          mode: "replay",
          actions: candidate,
          dir: ws.dir,
          pinDir: ws.pinDir,
          current: ws.current,
        }, 15_000);
        if (crashed(r)) {
          list = candidate;
          write(list, `shrinking: ${attempts} replays so far`);
        }
      } finally {
        ws.cleanup(base.ifname as string | undefined);
      }
    }
  }
  write(list, `shrunk in ${attempts} replays`);
  return path;
}

function describe(s: Summary): string {
  const parts = AREAS.map((a) => {
    const x: AreaStats = s.areas[a];
    const codes = Object.entries(x.kernel).sort((p, q) => q[1] - p[1]).map(([c, n]) => `${c} ${n}`).join(
      ", ",
    );
    return `  ${a}: ${x.calls} calls, ${x.ok} ok, ${x.type} TypeError; KernelError ${
      codes || "none"
    }`;
  });
  return `${s.runtime}: ${s.calls} calls in ${s.sequences} sequences, ${(s.ms / 1000).toFixed(1)} s\n${
    parts.join("\n")
  }`;
}

async function fuzz(ifname: string | undefined): Promise<void> {
  const seed = Number(process.env.KERNELKIT_FUZZ_SEED ?? Date.now() % 1_000_000_000);
  const ws = workspace("fuzz");
  const base = { runtime: runtimeName, repo, ifname, regressions, stepTimeoutMs: 2000 };
  let r: ChildResult;
  try {
    r = await runChild({
      ...base,
      mode: "fuzz",
      dir: ws.dir,
      pinDir: ws.pinDir,
      current: ws.current,
      calls: TARGET,
      budgetMs: BUDGET_MS,
      seed,
      maxLength: 40,
    }, BUDGET_MS + 180_000);
    if (crashed(r)) {
      const last = existsSync(ws.current) ? JSON.parse(readFileSync(ws.current, "utf8")) as Action[] : [];
      const why = r.stalled
        ? `it started no new sequence for ${STALL_MS / 1000} s (stuck in a call) and was killed`
        : r.timedOut
        ? "it ran past its budget and was killed"
        : `signal ${r.signal}`;
      ws.cleanup(ifname);
      const saved = await saveCrash(last, why, base);
      assert.fail(
        `the ${runtimeName} fuzzer child (seed ${seed}) died: ${why}; its last sequence is saved in ${saved}\n${
          r.stderr.slice(-4000)
        }`,
      );
    }
  } finally {
    ws.cleanup(ifname);
  }
  const s = r.summary;
  assert.ok(
    s,
    `the child printed no summary (exit ${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`,
  );
  console.log(`fuzz (${stressProfile} profile, seed ${seed}) ${describe(s)}`);
  assert.equal(
    s.failed,
    false,
    `the invariant broke (seed ${seed}); the shrunk case is saved in ${s.saved}:\n${s.error}`,
  );
  assert.equal(r.status, 0, r.stderr.slice(-4000));
  assert.equal(r.signal, null);
  assert.ok(
    s.calls >= TARGET,
    `only ${s.calls} calls in ${BUDGET_MS} ms, the ${stressProfile} profile wants ${TARGET}`,
  );
  // The mix exercised every area: successes, and KernelErrors, in each.
  for (const a of AREAS) {
    const x: AreaStats = s.areas[a];
    if (a === "xdp" && !ifname) continue;
    assert.ok(x.ok > 0, `no call of area ${a} succeeded: ${JSON.stringify(x)}`);
    assert.ok(
      Object.keys(x.kernel).length > 0,
      `no call of area ${a} failed with a KernelError: ${JSON.stringify(x)}`,
    );
  }
  assert.ok((s.areas.ring.kernel.EBADF ?? 0) > 0, "no op after close (EBADF)");
  assert.ok((s.areas.memory.kernel.EINVAL ?? 0) > 0, "no bad mapping size (EINVAL)");
  assert.ok((s.areas.bpf.kernel.EINVAL ?? 0) > 0, "no wrong-sized key (EINVAL)");
}

skipUnless(
  netnsMissing,
  `fuzzer: ${TARGET} random calls against the public API keep the invariant (${runtimeName})`,
  async () => {
    await withNetns((ns) => fuzz(ns.hostIf));
  },
  { timeout: BUDGET_MS + 420_000 },
);

test(`fuzzer: every saved regression case replays with its expected outcomes (${runtimeName})`, async () => {
  const files = readdirSync(regressions).filter((f) => f.endsWith(".json")).sort().map((f) =>
    join(regressions, f)
  );
  assert.ok(files.some((f) => f.includes("seed-")), "the hand-written seed cases are missing");
  const replay = async (ifname: string | undefined) => {
    const ws = workspace("replay");
    try {
      const r = await runChild({
        mode: "replay",
        runtime: runtimeName,
        repo,
        ifname,
        regressions,
        files,
        dir: ws.dir,
        pinDir: ws.pinDir,
        current: ws.current,
        stepTimeoutMs: 2000,
      }, 120_000);
      assert.equal(r.signal, null, `the replay child died from ${r.signal}:\n${r.stderr.slice(-4000)}`);
      assert.equal(r.timedOut, false, "the replay child hung");
      const s = r.summary;
      assert.ok(s, `no summary (exit ${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`);
      assert.deepEqual(s.failures, [], `regression cases failed:\n${s.failures?.join("\n")}`);
      assert.equal(r.status, 0);
      assert.equal(s.cases, files.length);
      // The seed cases always assert something, root or not.
      assert.ok((s.expectations ?? 0) > 0, "no expectation was checked");
      console.log(
        `fuzz replay (${runtimeName}): ${s.cases} cases, ${s.expectations} expected outcomes, ${s.calls} calls`,
      );
    } finally {
      ws.cleanup(ifname);
    }
  };
  if (netnsMissing === null) await withNetns((ns) => replay(ns.hostIf));
  else await replay(undefined);
}, { timeout: 180_000 });
