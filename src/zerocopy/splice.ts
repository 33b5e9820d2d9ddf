/**
 * splice and tee: move or duplicate bytes between a pipe and another fd
 * inside the kernel. Sync forms loop over libc splice(2) and tee(2); async
 * forms are the ring's IORING_OP_SPLICE and IORING_OP_TEE in the same loop.
 *
 * @module
 */
import { KernelError } from "../errors.ts";
import { sys } from "../native.ts";
import type { Ring } from "../uring/ring.ts";
import { checkCount, transferLoop } from "./transfer.ts";

/** Options of {@link splice} and {@link spliceAsync}. */
export interface SpliceOptions {
  /** Offset in `fdIn`, or absent when `fdIn` is a pipe or a socket. */
  readonly offIn?: number;
  /** Offset in `fdOut`, or absent when `fdOut` is a pipe or a socket. */
  readonly offOut?: number;
  /** Bytes to move. */
  readonly length: number;
  /** SPLICE_F_* flags. */
  readonly flags?: number;
}

const offsetCell = (syscall: string, what: string, v: number | undefined) =>
  v === undefined ? null : new BigInt64Array([BigInt(checkCount(syscall, what, v))]);

/**
 * Moves `length` bytes from `fdIn` to `fdOut`, one of them a pipe, looping
 * over short transfers. Returns the bytes moved (fewer only at end of input).
 */
export function splice(fdIn: number, fdOut: number, options: SpliceOptions): number {
  const offIn = offsetCell("splice", "offIn", options.offIn);
  const offOut = offsetCell("splice", "offOut", options.offOut);
  const length = checkCount("splice", "length", options.length);
  return transferLoop(
    { syscall: "splice", subject: `fd ${fdIn} -> fd ${fdOut}`, outFd: fdOut, inFd: fdIn },
    length,
    (max) => sys().splice(fdIn, offIn, fdOut, offOut, max, options.flags ?? 0),
  );
}

/**
 * Duplicates up to `length` bytes from pipe `fdIn` to pipe `fdOut` without
 * consuming them. Returns the bytes duplicated, which can be fewer than
 * `length` when `fdIn` holds fewer or `fdOut` has less room. Unlike the other
 * calls here it does not loop: tee never consumes its input, so a second call
 * would duplicate the same leading bytes again. It only waits out EINTR and
 * EAGAIN. Consume `fdIn` (splice it on) before teeing the rest.
 */
export function tee(fdIn: number, fdOut: number, length: number, flags = 0): number {
  checkCount("tee", "length", length);
  return transferLoop(
    { syscall: "tee", subject: `fd ${fdIn} -> fd ${fdOut}`, outFd: fdOut, inFd: fdIn, once: true },
    length,
    (max) => sys().tee(fdIn, fdOut, max, flags),
  );
}

/** The async form of {@link splice}, through the ring. */
export async function spliceAsync(ring: Ring, fdIn: number, fdOut: number, options: SpliceOptions & { readonly signal?: AbortSignal }): Promise<number> {
  const length = checkCount("splice", "length", options.length);
  let moved = 0;
  while (moved < length) {
    const offIn = options.offIn === undefined ? -1 : options.offIn + moved;
    const offOut = options.offOut === undefined ? -1 : options.offOut + moved;
    const n = await ring.splice(fdIn, offIn, fdOut, offOut, length - moved, options.flags ?? 0, { signal: options.signal });
    if (n === 0) break;
    moved += n;
  }
  return moved;
}

/**
 * The async form of {@link tee}, through the ring: one IORING_OP_TEE. It
 * doesn't loop, for the reason {@link tee} gives.
 */
export function teeAsync(ring: Ring, fdIn: number, fdOut: number, length: number, flags = 0): Promise<number> {
  if (!Number.isSafeInteger(length) || length < 0) {
    return Promise.reject(new KernelError({ errno: 22, syscall: "tee", subject: `length ${length}`, hint: "length must be a safe integer >= 0" }));
  }
  return ring.tee(fdIn, fdOut, length, flags);
}
