/**
 * `kernelkit trace syscalls|opens`: live views of system calls, counted or
 * traced in the kernel by kernelkit's BPF programs (SysCount, OpenSnoop).
 *
 * Both run until Ctrl-C (SIGINT) or SIGTERM, or until `--count` is reached,
 * then detach everything they attached and exit 0. Status goes to stderr;
 * stdout carries only the table or the events.
 *
 * @module
 */
import { existsSync } from "node:fs";
import process from "node:process";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { type OpenEvent, OpenSnoop } from "../bpf/opensnoop.ts";
import { SysCount } from "../bpf/syscount.ts";
import { KernelError } from "../errors.ts";

/** The usage lines of `kernelkit trace`, for the CLI's help. */
export const TRACE_USAGE = `  trace syscalls [--pid P] [--interval 1s] [--top N] [--count N] [--json]
                    system calls per second by name, live, counted in the kernel
  trace opens [--pid P] [--comm NAME] [--count N] [--json]
                    one line per openat(2) on this host (or a JSON object per line)
                    both stop on Ctrl-C and leave nothing attached`;

interface TraceArgs {
  readonly what: "syscalls" | "opens";
  readonly pid: number | undefined;
  readonly comm: string | undefined;
  readonly intervalMs: number;
  readonly top: number;
  readonly count: number | undefined;
  readonly json: boolean;
}

function usageError(message: string): KernelError {
  return new KernelError({ errno: ERRNO.EINVAL, syscall: "kernelkit trace", message, hint: "see `kernelkit help`" });
}

/** Milliseconds from "1s", "500ms", "2m" or a bare number of seconds. */
export function parseInterval(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw usageError(`--interval wants a duration such as 1s, 500ms or 2m, got "${text}"`);
  const ms = Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1000);
  if (ms < 50 || ms > 3_600_000) throw usageError(`--interval must be from 50ms to 1h, got "${text}"`);
  return ms;
}

function positiveInt(flag: string, text: string | undefined): number {
  if (text === undefined) throw usageError(`${flag} needs a value`);
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw usageError(`${flag} wants a positive integer, got "${text}"`);
  return n;
}

/** The parsed arguments of `kernelkit trace`; bad input is a KernelError EINVAL. */
export function parseTraceArgs(args: readonly string[]): TraceArgs {
  const [what, ...rest] = args;
  if (what !== "syscalls" && what !== "opens") {
    throw usageError(
      what === undefined ? "trace what? kernelkit trace syscalls|opens" : `unknown trace "${what}": syscalls or opens`,
    );
  }
  let pid: number | undefined;
  let comm: string | undefined;
  let intervalMs = 1000;
  let top = 20;
  let count: number | undefined;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    switch (a) {
      case "--pid":
        pid = positiveInt(a, rest[++i]);
        break;
      case "--comm":
        comm = rest[++i];
        if (comm === undefined || comm === "") throw usageError("--comm needs a command name");
        if (what !== "opens") throw usageError("--comm is an option of trace opens");
        break;
      case "--interval":
        if (rest[i + 1] === undefined) throw usageError("--interval needs a value");
        intervalMs = parseInterval(rest[++i]);
        if (what !== "syscalls") throw usageError("--interval is an option of trace syscalls");
        break;
      case "--top":
        top = positiveInt(a, rest[++i]);
        break;
      case "--count":
        count = positiveInt(a, rest[++i]);
        break;
      case "--json":
        json = true;
        break;
      default:
        throw usageError(`unknown option ${a}`);
    }
  }
  if (pid !== undefined && !existsSync(`/proc/${pid}`)) {
    throw new KernelError({
      errno: ERRNO.ESRCH,
      syscall: "kernelkit trace",
      message: `there is no process ${pid}`,
      hint: "give the pid of a running process (ps shows them)",
    });
  }
  return { what, pid, comm, intervalMs, top, count, json };
}

/** Calls `stop` on the first SIGINT or SIGTERM; a second one exits at once. Returns the remover. */
function onSignals(stop: (signal: string) => void): () => void {
  let stopping = false;
  const handle = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    stop(signal);
  };
  const onInt = () => handle("SIGINT");
  const onTerm = () => handle("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return () => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  };
}

const say = (s: string) => process.stderr.write(`kernelkit trace: ${s}\n`);

function failed(e: unknown): void {
  process.exitCode = 1;
  if (e instanceof KernelError) say(e.message);
  else say(String(e instanceof Error ? e.stack ?? e.message : e));
}

function pad(s: string | number, width: number, right = false): string {
  const t = String(s);
  return right ? t.padStart(width) : t.padEnd(width);
}

/** One open as a line: PID, COMM, FD, ERR, PATH. */
export function formatOpen(e: OpenEvent): string {
  return `${pad(e.pid, 7)} ${pad(e.comm, 16)} ${pad(e.fd, 3, true)} ${pad(e.error ?? "", 7)} ${e.path}`;
}

function traceOpens(a: TraceArgs, print: (s: string) => void): void {
  const snoop = OpenSnoop.start({ pid: a.pid, comm: a.comm });
  const who = a.pid !== undefined ? `process ${a.pid}` : a.comm !== undefined ? `"${a.comm}"` : "every process";
  say(`tracing openat(2) of ${who} (links ${snoop.linkIds.join(", ")}); Ctrl-C to stop`);
  if (!a.json) print(`${pad("PID", 7)} ${pad("COMM", 16)} ${pad("FD", 3, true)} ${pad("ERR", 7)} PATH`);
  let seen = 0;
  const controller = new AbortController();
  const removeSignals = onSignals(() => controller.abort());
  snoop.run((events) => {
    const lines: string[] = [];
    for (const e of events) {
      if (a.count !== undefined && seen >= a.count) break;
      seen++;
      lines.push(a.json ? JSON.stringify(e) : formatOpen(e));
    }
    if (lines.length) print(lines.join("\n"));
    if (a.count !== undefined && seen >= a.count) controller.abort();
  }, { signal: controller.signal }).catch(failed).finally(() => {
    snoop.close();
    const lost = snoop.lost;
    removeSignals();
    say(`detached; ${seen} opens${lost ? `, ${lost} lost (the ring buffer was full)` : ""}`);
  });
}

/** The per-interval rates from two snapshots of (pid, nr) totals. */
function rates(
  now: ReadonlyMap<string, { nr: number; name: string; count: number }>,
  before: ReadonlyMap<string, number>,
  seconds: number,
): Array<{ name: string; nr: number; calls: number; perSecond: number }> {
  const byNr = new Map<number, { name: string; nr: number; calls: number }>();
  for (const [key, c] of now) {
    const delta = c.count - (before.get(key) ?? 0);
    if (delta <= 0) continue;
    const row = byNr.get(c.nr) ?? { name: c.name, nr: c.nr, calls: 0 };
    row.calls += delta;
    byNr.set(c.nr, row);
  }
  return [...byNr.values()].map((r) => ({ ...r, perSecond: r.calls / seconds })).sort((x, y) => y.calls - x.calls);
}

function traceSyscalls(a: TraceArgs, print: (s: string) => void): void {
  const counter = SysCount.start({ pid: a.pid });
  say(`counting the system calls of ${a.pid !== undefined ? `process ${a.pid}` : "every process"} every ${a.intervalMs} ms; Ctrl-C to stop`);
  const tty = !a.json && process.stdout.isTTY === true;
  let before = new Map<string, number>();
  let last = performance.now();
  let intervals = 0;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    removeSignals();
    counter.close();
    say(`detached after ${intervals} intervals`);
  };
  const tick = () => {
    try {
      const t = performance.now();
      const seconds = (t - last) / 1000;
      last = t;
      const now = new Map<string, { nr: number; name: string; count: number }>();
      for (const c of counter.counts()) now.set(`${c.pid}:${c.nr}`, c);
      const rows = rates(now, before, seconds);
      before = new Map([...now].map(([k, c]) => [k, c.count]));
      // Exited processes' counters no longer change: drop them before the table fills.
      if (now.size > 8192) counter.prune((pid) => existsSync(`/proc/${pid}`));
      intervals++;
      const total = rows.reduce((n, r) => n + r.calls, 0);
      if (a.json) {
        print(JSON.stringify({
          time: new Date().toISOString(),
          seconds: Number(seconds.toFixed(3)),
          total,
          lost: counter.lost,
          syscalls: rows.slice(0, a.top).map((r) => ({ ...r, perSecond: Math.round(r.perSecond) })),
        }));
      } else {
        const head = `${new Date().toLocaleTimeString()}  ${Math.round(total / seconds).toLocaleString("en-US")} syscalls/s${
          a.pid !== undefined ? ` by process ${a.pid}` : ""
        }`;
        const table = rows.slice(0, a.top).map((r) =>
          `${pad(r.name, 24)} ${pad(Math.round(r.perSecond).toLocaleString("en-US"), 12, true)} ${pad(r.calls.toLocaleString("en-US"), 12, true)}`
        );
        print(`${tty ? "\x1b[H\x1b[2J" : ""}${head}\n${pad("SYSCALL", 24)} ${pad("CALLS/S", 12, true)} ${pad("CALLS", 12, true)}\n${table.join("\n")}${tty ? "" : "\n"}`);
      }
      if (a.count !== undefined && intervals >= a.count) stop();
    } catch (e) {
      failed(e);
      stop();
    }
  };
  const timer = setInterval(tick, a.intervalMs);
  const removeSignals = onSignals(stop);
}

/**
 * Runs `kernelkit trace syscalls|opens` and returns 0 at once: the trace
 * keeps the process alive until Ctrl-C, SIGTERM or `--count`, then detaches.
 * Bad arguments and failures to attach throw a KernelError.
 */
export function runTrace(args: readonly string[], print: (s: string) => void): number {
  const a = parseTraceArgs(args);
  if (a.what === "opens") traceOpens(a, print);
  else traceSyscalls(a, print);
  return 0;
}
