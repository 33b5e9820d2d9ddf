/**
 * The loop every synchronous zero-copy call shares: call the kernel until the
 * whole count has moved, stop at end of file, and wait out EAGAIN on a
 * non-blocking fd.
 *
 * @module
 */
import { POLLIN, POLLOUT } from "../../ffi/structs/poll.ts";
import { KernelError } from "../errors.ts";
import { errno } from "../native.ts";
import { pollSync } from "./wait.ts";

/** The most one call moves: Linux caps a transfer at 0x7ffff000 bytes. */
export const MAX_CHUNK = 0x7fff_f000;

/** How long the sync forms wait for a non-blocking fd before ETIMEDOUT. */
export const SYNC_TIMEOUT_MS = 30_000;

/** Options of {@link transferLoop}. */
export interface LoopTarget {
  /** The call's name, for errors. */
  readonly syscall: string;
  /** What the errors name: "fd 5 -> fd 7". */
  readonly subject: string;
  /** The fd to poll for POLLOUT on EAGAIN. */
  readonly outFd: number;
  /** The fd to poll for POLLIN on EAGAIN (a pipe being read). */
  readonly inFd: number;
  /**
   * Return after the first call that moves bytes. tee(2) needs it: it never
   * consumes its input, so a second call would duplicate the same bytes again.
   */
  readonly once?: boolean;
}

/**
 * Calls `step(max)` (which returns the bytes moved, 0 at end of input, or -1
 * with errno set) until `length` bytes have moved. Returns the total.
 */
export function transferLoop(target: LoopTarget, length: number, step: (max: number) => number): number {
  let moved = 0;
  while (moved < length) {
    const r = step(Math.min(MAX_CHUNK, length - moved));
    if (r > 0) {
      moved += r;
      if (target.once) break;
      continue;
    }
    if (r === 0) break;
    const e = errno();
    if (e === 4) continue; // EINTR
    if (e === 11) {
      // EAGAIN: a non-blocking end is full (or empty); wait for it.
      const ready = pollSync(target.outFd, POLLOUT, SYNC_TIMEOUT_MS) || pollSync(target.inFd, POLLIN, 0);
      if (ready === 0) {
        throw new KernelError({
          errno: 110,
          syscall: target.syscall,
          subject: target.subject,
          hint: `the peer accepted nothing for ${SYNC_TIMEOUT_MS / 1000} s; use the async form, or check the peer`,
        });
      }
      continue;
    }
    throw new KernelError({ errno: e, syscall: target.syscall, subject: `${target.subject}, after ${moved} bytes` });
  }
  return moved;
}

/** Validates an offset or length argument. */
export function checkCount(syscall: string, what: string, value: number, min = 0): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new KernelError({ errno: 22, syscall, subject: `${what} ${value}`, hint: `${what} must be a safe integer >= ${min}` });
  }
  return value;
}
