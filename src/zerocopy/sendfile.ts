/**
 * sendfile: file bytes to a socket (or any fd) straight from the page cache,
 * never through a JS buffer. The sync form is libc sendfile(2) in a loop; the
 * async form splices file → pipe → socket through the ring, so the event loop
 * never blocks.
 *
 * @module
 */
import { SPLICE_F_MORE, SPLICE_F_MOVE } from "../../ffi/structs/fcntl.ts";
import { KernelError } from "../errors.ts";
import { sys } from "../native.ts";
import type { Ring } from "../uring/ring.ts";
import { defaultPipePool, type PipePool } from "./pipes.ts";
import { checkCount, transferLoop } from "./transfer.ts";

/** Options of {@link sendfile}. */
export interface SendfileOptions {
  /** The file offset to start at. Default 0. */
  readonly offset?: number;
  /** Bytes to send. */
  readonly length: number;
}

/**
 * Sends `length` bytes of the file `inFd` from `offset` to `outFd` with
 * sendfile(2), looping over short transfers and waiting out EAGAIN on a
 * non-blocking socket. Returns the bytes sent: fewer than `length` only when
 * the file ended. Throws a KernelError when the peer is gone (EPIPE, ECONNRESET).
 */
export function sendfile(outFd: number, inFd: number, options: SendfileOptions): number {
  const offset = checkCount("sendfile", "offset", options.offset ?? 0);
  const length = checkCount("sendfile", "length", options.length);
  const off = new BigInt64Array([BigInt(offset)]);
  return transferLoop(
    { syscall: "sendfile", subject: `fd ${inFd} -> fd ${outFd}`, outFd, inFd },
    length,
    (max) => sys().sendfile(outFd, inFd, off, max),
  );
}

/** Options of {@link sendfileAsync}. */
export interface SendfileAsyncOptions extends SendfileOptions {
  /** Cancels the transfer; it rejects with ECANCELED. */
  readonly signal?: AbortSignal;
  /** Pipes to splice through; a shared pool when absent. */
  readonly pipes?: PipePool;
  /** Tell the socket more data follows the last byte (SPLICE_F_MORE), as when a response continues. */
  readonly more?: boolean;
}

/**
 * Sends `length` bytes of the file `inFd` from `offset` to `outFd` through
 * the ring: IORING_OP_SPLICE file → pipe, then pipe → socket, a pipe-full
 * (up to 1 MiB) at a time, through two pipes, so that the next pipe-full is
 * read from the page cache while the last one goes to the socket. Resolves
 * with the bytes sent (fewer only when the file ended); rejects with a
 * KernelError when the peer is gone.
 */
export async function sendfileAsync(ring: Ring, outFd: number, inFd: number, options: SendfileAsyncOptions): Promise<number> {
  const offset = checkCount("splice", "offset", options.offset ?? 0);
  const length = checkCount("splice", "length", options.length);
  const pool = options.pipes ?? defaultPipePool();
  const signal = options.signal;
  const pipes = [pool.acquire(), pool.acquire()];
  // Bytes spliced into each pipe and not yet out of it: a pipe goes back to the pool clean only when empty.
  const held = [0, 0];
  const fill = (i: number, at: number) => ({
    pipe: i,
    done: ring.splice(inFd, offset + at, pipes[i].write, -1, Math.min(pipes[i].size, length - at), SPLICE_F_MOVE, { signal }),
  });
  let filling: { readonly pipe: number; readonly done: Promise<number> } | undefined;
  try {
    let queued = 0;
    let moved = 0;
    filling = length > 0 ? fill(0, 0) : undefined;
    while (filling) {
      const i = filling.pipe;
      const n = await filling.done;
      filling = undefined;
      if (n === 0) break; // end of file
      held[i] = n;
      queued += n;
      // Read ahead into the other pipe while this one drains.
      if (queued < length) filling = fill(1 - i, queued);
      const more = options.more || queued < length;
      for (let drained = 0; drained < n;) {
        const flags = SPLICE_F_MOVE | (more ? SPLICE_F_MORE : 0);
        const m = await ring.splice(pipes[i].read, -1, outFd, -1, n - drained, flags, { signal });
        if (m === 0) {
          throw new KernelError({ errno: 32, syscall: "splice", subject: `pipe -> fd ${outFd}`, hint: "the peer stopped reading" });
        }
        drained += m;
        held[i] -= m;
      }
      moved += n;
    }
    return moved;
  } finally {
    // A read-ahead still in flight writes into its pipe: let it land, and count what it put there.
    if (filling) held[filling.pipe] += await filling.done.catch(() => 0);
    pool.release(pipes[0], held[0] === 0);
    pool.release(pipes[1], held[1] === 0);
  }
}
