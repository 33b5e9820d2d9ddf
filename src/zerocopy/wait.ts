/**
 * Waiting synchronously for a non-blocking fd to become ready, for the sync
 * forms of the zero-copy calls when a transfer meets EAGAIN.
 *
 * @module
 */
import { pollfd } from "../../ffi/structs/poll.ts";
import { check, sys } from "../native.ts";

/** Blocks until `fd` is ready for `events` (POLLIN, POLLOUT) or `timeoutMs` passes; returns revents (0 on timeout). */
export function pollSync(fd: number, events: number, timeoutMs: number): number {
  const buf = pollfd.alloc();
  const v = new DataView(buf.buffer);
  pollfd.write(v, 0, "fd", fd);
  pollfd.write(v, 0, "events", events);
  for (;;) {
    const r = sys().poll(buf, 1, timeoutMs);
    if (r >= 0) return r === 0 ? 0 : pollfd.read(v, 0, "revents") & 0xffff;
    try {
      check(r, "poll", { subject: `fd ${fd}` });
    } catch (e) {
      if ((e as { errno?: number }).errno !== 4) throw e; // EINTR: poll again
    }
  }
}
