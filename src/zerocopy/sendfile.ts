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
 * (up to 1 MiB) at a time. Resolves with the bytes sent (fewer only when the
 * file ended); rejects with a KernelError when the peer is gone.
 */
export async function sendfileAsync(ring: Ring, outFd: number, inFd: number, options: SendfileAsyncOptions): Promise<number> {
  const offset = checkCount("splice", "offset", options.offset ?? 0);
  const length = checkCount("splice", "length", options.length);
  const pool = options.pipes ?? defaultPipePool();
  const pipe = pool.acquire();
  const signal = options.signal;
  let clean = true;
  try {
    let moved = 0;
    while (moved < length) {
      const want = Math.min(pipe.size, length - moved);
      const n = await ring.splice(inFd, offset + moved, pipe.write, -1, want, SPLICE_F_MOVE, { signal });
      if (n === 0) break; // end of file
      clean = false;
      const last = moved + n >= length;
      for (let drained = 0; drained < n;) {
        const flags = SPLICE_F_MOVE | (options.more || !last ? SPLICE_F_MORE : 0);
        const m = await ring.splice(pipe.read, -1, outFd, -1, n - drained, flags, { signal });
        if (m === 0) {
          throw new KernelError({ errno: 32, syscall: "splice", subject: `pipe -> fd ${outFd}`, hint: "the peer stopped reading" });
        }
        drained += m;
      }
      clean = true;
      moved += n;
    }
    return moved;
  } finally {
    pool.release(pipe, clean);
  }
}
