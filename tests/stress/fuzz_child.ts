/**
 * The API fuzzer's child process (issue 9, part 1), started by
 * tests/stress/fuzz.test.ts with the runtime under test:
 *
 *   fuzz_child.ts '<config JSON>'
 *
 * Mode "fuzz": fast-check draws sequences of actions (tests/stress/fuzz_actions.ts)
 * and runs them against the real kernel until `calls` calls were made (or the
 * time budget ran out). A broken invariant is shrunk by fast-check and the
 * shrunk sequence written to `<regressions>/<date>-<runtime>.json`; the child
 * then exits 1. Before each sequence it writes the sequence to `current`, so
 * that the parent can save it if the child dies from a signal or hangs.
 *
 * Mode "replay": runs the saved sequences of `files` (or the one in
 * `actions`), checks the invariant and each case's expected outcomes, and
 * exits 0 when all held.
 *
 * Either way the last line of stdout is `FUZZ_SUMMARY {json}`: calls,
 * sequences, and per area the successes, KernelErrors by code and TypeErrors.
 *
 * @module
 */
import fc from "fast-check";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import {
  type Action,
  type CallRecord,
  closeShared,
  type Env,
  formatActions,
  newStats,
  runSequence,
  sequenceArb,
  type Stats,
  Violation,
} from "./fuzz_actions.ts";

/** What the parent passes. */
interface Config {
  readonly mode: "fuzz" | "replay";
  readonly runtime: string;
  /** The temp dir to work in (the child's cwd from then on). */
  readonly dir: string;
  readonly repo: string;
  readonly ifname?: string;
  readonly pinDir: string;
  /** Where a failing case is saved. */
  readonly regressions: string;
  /** Where each sequence is written before it runs. */
  readonly current: string;
  /** fuzz: stop after this many calls. */
  readonly calls?: number;
  /** fuzz: and at the latest after this long. */
  readonly budgetMs?: number;
  /** fuzz: the first seed. */
  readonly seed?: number;
  /** fuzz: the longest sequence. */
  readonly maxLength?: number;
  /** replay: the regression files. */
  readonly files?: readonly string[];
  /** replay: one sequence, inline (the parent's crash shrinking). */
  readonly actions?: readonly Action[];
  readonly stepTimeoutMs?: number;
}

/** One saved case: a regression file's content. */
interface Case {
  readonly name?: string;
  /** "root" when its expectations need root (BPF), "veth" when they need the test's veth (XDP). */
  readonly needs?: string;
  readonly actions: readonly Action[];
  /** Outcomes a step's call must have: "ok", a KernelError code, "TypeError"; "A|B" for either. */
  readonly expect?: ReadonlyArray<{
    readonly step: number;
    readonly call?: string;
    readonly outcome: string;
    /** The call may not happen at all (an earlier call of the step failed, as it may on some hosts). */
    readonly optional?: boolean;
  }>;
}

const cfg = JSON.parse(process.argv[2]) as Config;
process.chdir(cfg.dir);
const isRoot = process.getuid?.() === 0;
const stats: Stats = newStats();
const env: Env = {
  dir: cfg.dir,
  repo: cfg.repo,
  ifname: cfg.ifname,
  pinDir: cfg.pinDir,
  stepTimeoutMs: cfg.stepTimeoutMs ?? 2000,
};
const started = performance.now();
try {
  mkdirSync(cfg.pinDir, { recursive: true });
} catch {
  // No bpffs here (not root): pinning actions then fail with a KernelError, as they should.
}

function summary(extra: Record<string, unknown> = {}): void {
  const line = {
    runtime: cfg.runtime,
    mode: cfg.mode,
    calls: stats.calls,
    sequences: stats.sequences,
    ms: Math.round(performance.now() - started),
    areas: stats.areas,
    ...extra,
  };
  // A line of its own, whatever a fuzzed write may have left on stdout.
  process.stdout.write(`\nFUZZ_SUMMARY ${JSON.stringify(line)}\n`);
}

// What escapes every handler is a bug too: an unhandled rejection or an exception from a callback.
let escaped: string | undefined;
process.on("unhandledRejection", (e: unknown) => {
  escaped ??= `an unhandled rejection: ${
    e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)
  }`;
});
process.on("uncaughtException", (e: unknown) => {
  escaped ??= `an uncaught exception: ${
    e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)
  }`;
});

async function run(actions: readonly Action[], records?: CallRecord[]): Promise<void> {
  writeFileSync(cfg.current, JSON.stringify(actions));
  await runSequence(actions, env, stats, records);
  if (escaped) {
    const what = escaped;
    escaped = undefined;
    throw new Violation(-1, "process", what);
  }
}

function savePath(): string {
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(cfg.regressions, { recursive: true });
  for (let n = 1;; n++) {
    const p = join(cfg.regressions, `${date}-${cfg.runtime}${n === 1 ? "" : `-${n}`}.json`);
    if (!existsSync(p)) return p;
  }
}

async function fuzz(): Promise<number> {
  const target = cfg.calls ?? 1000;
  const budget = cfg.budgetMs ?? 60_000;
  const base = cfg.seed ?? Date.now() % 2 ** 31;
  let batch = 0;
  const arb = sequenceArb({ xdp: true, maxLength: cfg.maxLength ?? 30 });
  while (stats.calls < target && performance.now() - started < budget) {
    // Runs of nearby base seeds don't share batches.
    const seed = (base * 7919 + batch * 104_729) % 2 ** 31;
    let failure: fc.RunDetails<[Action[]]> | undefined;
    const property = fc.asyncProperty(arb, async (actions) => {
      await run(actions);
    });
    try {
      await fc.assert(property, {
        seed,
        numRuns: 20,
        // Shrinking replays the failing case many times; bound it.
        interruptAfterTimeLimit: 120_000,
        markInterruptAsFailure: false,
        reporter: (details) => {
          if (details.failed) failure = details;
        },
      });
    } catch (e) {
      if (!failure) throw e;
    }
    if (failure && failure.failed) {
      const actions = failure.counterexample?.[0] ?? JSON.parse(readFileSync(cfg.current, "utf8"));
      const error = failure.errorInstance instanceof Error
        ? failure.errorInstance.message
        : String(failure.errorInstance);
      const path = savePath();
      writeFileSync(
        path,
        `{\n  "name": ${
          JSON.stringify(
            `found by the fuzzer (${cfg.runtime}, seed ${failure.seed}): ${error.split("\n")[0]}`,
          )
        },\n` +
          `  "runtime": ${JSON.stringify(cfg.runtime)},\n  "seed": ${failure.seed},\n  "path": ${
            JSON.stringify(failure.counterexamplePath)
          },\n` +
          `  "error": ${JSON.stringify(error)},\n  "actions": ${formatActions(actions)}\n}\n`,
      );
      summary({ failed: true, error, saved: path, shrinks: failure.numShrinks });
      return 1;
    }
    batch++;
  }
  summary({ failed: false, seed: base, batches: batch });
  return 0;
}

function matches(outcome: string, want: string): boolean {
  return want.split("|").includes(outcome);
}

async function replay(): Promise<number> {
  const cases: Array<{ file: string; c: Case }> = [];
  if (cfg.actions) cases.push({ file: "(inline)", c: { actions: cfg.actions } });
  for (const file of cfg.files ?? []) cases.push({ file, c: JSON.parse(readFileSync(file, "utf8")) as Case });
  const failures: string[] = [];
  let expectations = 0;
  for (const { file, c } of cases) {
    const records: CallRecord[] = [];
    try {
      await run(c.actions, records);
    } catch (e) {
      if (!(e instanceof Violation)) throw e;
      failures.push(`${file}: ${e.message}`);
      continue;
    }
    if (c.needs === "root" && !isRoot) continue;
    if (c.needs === "veth" && (!isRoot || cfg.ifname === undefined)) continue;
    for (const x of c.expect ?? []) {
      expectations++;
      const got = records.filter((r) => r.step === x.step && (x.call === undefined || r.call === x.call));
      if (got.length === 0 && x.optional) continue;
      if (got.length === 0) {
        failures.push(`${file}: step ${x.step} ${x.call ?? ""} made no call (wanted ${x.outcome})`);
      } else if (!got.every((r) => matches(r.outcome, x.outcome))) {
        failures.push(
          `${file}: step ${x.step} ${x.call ?? got[0].call} ended with ${
            got.map((r) => r.outcome).join(", ")
          }, wanted ${x.outcome}`,
        );
      }
    }
  }
  summary({ failed: failures.length > 0, cases: cases.length, expectations, failures });
  return failures.length ? 1 : 0;
}

let code = 1;
try {
  code = cfg.mode === "fuzz" ? await fuzz() : await replay();
} finally {
  try {
    closeShared(env);
  } catch (e) {
    console.error(`closing the shared BPF objects failed: ${e}`);
    code = 1;
  }
}
process.exit(code);
