/**
 * Helpers for the io_uring tests: temporary directories, pipes, test data,
 * and KernelError assertions.
 *
 * @module
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KernelError } from "../../src/errors.ts";
import { sys } from "../../src/native.ts";

/** poll(2) events. */
export const POLLIN = 0x1;
export const POLLOUT = 0x4;

const O_CLOEXEC = 0o2000000;

/** True when the tests run as root. */
export const isRoot: boolean = sys().geteuid() === 0;

/** Runs `fn` with a fresh temporary directory, removed afterwards whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "kernelkit-uring-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A pipe from libc pipe2(O_CLOEXEC): [read end, write end]. Close both with closeFds(). */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  const r = sys().pipe2(fds, O_CLOEXEC);
  assert.equal(r, 0, "pipe2 failed");
  return [fds[0], fds[1]];
}

/** Closes fds with libc close(); -1 entries are skipped. */
export function closeFds(...fds: number[]): void {
  for (const fd of fds) if (fd >= 0) sys().close(fd);
}

/** True when `fd` is open in this process. */
export function fdOpen(fd: number): boolean {
  return existsSync(`/proc/self/fd/${fd}`);
}

/** Bytes 0..n-1 of a fixed pseudo-random sequence (xorshift32 from `seed`). */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Asserts that `e` is a KernelError with this code and syscall, and that its message carries a hint. */
export function assertKernelError(e: unknown, code: string, syscall: string): KernelError {
  assert.ok(e instanceof KernelError, `not a KernelError: ${e instanceof Error ? e.stack : e}`);
  assert.equal(e.code, code, e.message);
  assert.equal(e.syscall, syscall, e.message);
  assert.ok(e.hint && e.hint.length > 0, `no hint: ${e.message}`);
  // The message ends with the hint, its first letter capitalized.
  assert.ok(e.message.includes(e.hint.slice(1)), `the message lacks the hint: ${e.message}`);
  return e;
}

/** Asserts that `fn` throws (synchronously) a KernelError with this code and syscall, with a hint. */
export function throwsKernel(fn: () => unknown, code: string, syscall: string): KernelError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `did not throw ${code} from ${syscall}`);
  return assertKernelError(thrown, code, syscall);
}

/**
 * Asserts that `start()` returns a promise (it must not throw synchronously)
 * that rejects with a KernelError of this code and syscall, with a hint.
 */
export async function rejectsKernel(start: () => Promise<unknown>, code: string, syscall: string): Promise<KernelError> {
  let promise: Promise<unknown>;
  try {
    promise = start();
  } catch (e) {
    assert.fail(`threw synchronously instead of rejecting: ${e instanceof Error ? e.message : e}`);
  }
  assert.ok(promise instanceof Promise, "did not return a promise");
  try {
    const v = await promise;
    assert.fail(`resolved with ${JSON.stringify(v)} instead of rejecting with ${code}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return assertKernelError(e, code, syscall);
  }
}

/** CLOCK_MONOTONIC now, in milliseconds, from /proc/timer_list (root only), or null. */
export function monotonicMs(): number | null {
  try {
    const m = /^now at (\d+) nsecs$/m.exec(readFileSync("/proc/timer_list", "utf8"));
    return m ? Number(m[1]) / 1e6 : null;
  } catch {
    return null;
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Marks `promise` as handled, so that a rejection asserted later (after other
 * awaits) is not reported as unhandled in between; returns the same promise.
 */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
