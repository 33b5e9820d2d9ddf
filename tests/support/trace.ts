/**
 * Helpers for the tracing tests: a real system call to count, the kernel's
 * view of a link, and a child process to wait on.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { libbpf, sys } from "../../src/native.ts";
import { runtimeBinary, scriptArgv } from "./process.ts";

/** Null when this process is root, else why a tracing test can't run. */
export const notRoot: string | null = process.getuid?.() === 0
  ? null
  : "needs root (CAP_BPF and CAP_PERFMON) to load and attach tracing programs";

/** Makes `n` getppid(2) system calls through libc (glibc doesn't cache it). */
export function getppid(n: number): number {
  let r = 0;
  for (let i = 0; i < n; i++) r = sys().getppid();
  return r;
}

/** True while the kernel still has BPF link `id` (bpf_link_get_fd_by_id succeeds). */
export function linkExists(id: number): boolean {
  const fd = libbpf().symbols.bpf_link_get_fd_by_id(id);
  if (fd < 0) return false;
  sys().close(fd);
  return true;
}

/** Waits until `predicate` holds, polling every 20 ms, for at most `ms`. */
export async function eventually(predicate: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end;) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
}

/** A child running a TypeScript file with this runtime, its output collected as it comes. */
export interface Child {
  /** The process. */
  readonly process: ChildProcess;
  /** Everything it wrote to stdout so far. */
  stdout(): string;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (or stderr, with `fromStderr`), or rejects after `ms`. */
  waitFor(pattern: RegExp, options?: { readonly fromStderr?: boolean; readonly ms?: number }): Promise<RegExpExecArray>;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Starts `script` with `args` in a child of this runtime. */
export function startChild(script: string, args: readonly string[]): Child {
  const child = spawn(runtimeBinary, scriptArgv(script, args), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  const poke = () => listeners.forEach((l) => l());
  child.stdout!.on("data", (d: Uint8Array) => {
    out += new TextDecoder().decode(d);
    poke();
  });
  child.stderr!.on("data", (d: Uint8Array) => {
    err += new TextDecoder().decode(d);
    poke();
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      poke();
      resolve({ code, signal });
    })
  );
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, options = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(options.fromStderr ? err : out);
          if (m) {
            done();
            resolve(m);
          } else if (gone) {
            done();
            reject(new Error(`the child exited before printing ${pattern}: ${out}\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${options.ms ?? 20_000} ms: ${out}\n${err}`));
        }, options.ms ?? 20_000);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
