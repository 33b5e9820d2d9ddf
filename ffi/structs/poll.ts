/**
 * `<poll.h>`: struct pollfd and the poll event bits.
 *
 * @module
 */
import { i16, i32, type Struct, struct } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["poll.h"];

/** struct pollfd: one fd for poll(2) (8 bytes). */
export const pollfd: Struct = struct("pollfd", [
  ["fd", i32],
  ["events", i16],
  ["revents", i16],
]);

/** poll event: data to read. */
export const POLLIN = 0x001;
/** poll event: urgent data to read. */
export const POLLPRI = 0x002;
/** poll event: writing will not block. */
export const POLLOUT = 0x004;
/** poll event: an error condition (revents only). */
export const POLLERR = 0x008;
/** poll event: the peer hung up (revents only). */
export const POLLHUP = 0x010;
/** poll event: the fd is not open (revents only). */
export const POLLNVAL = 0x020;
/** poll event: the peer shut down its writing half. */
export const POLLRDHUP = 0x2000;
