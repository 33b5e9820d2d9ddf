/**
 * `<linux/time_types.h>` and `<time.h>`: the kernel's 64-bit timespec (what
 * io_uring timeouts and IORING_ENTER_EXT_ARG take), glibc's timespec, and the
 * clock ids, in header order.
 *
 * @module
 */
import { i64, type Struct, struct } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["linux/time_types.h", "time.h"];

/** struct __kernel_timespec: seconds and nanoseconds, 64-bit on every architecture (16 bytes). */
export const __kernel_timespec: Struct = struct("__kernel_timespec", [
  ["tv_sec", i64],
  ["tv_nsec", i64],
]);

/** struct __kernel_itimerspec: a timer's period and first expiry. */
export const __kernel_itimerspec: Struct = struct("__kernel_itimerspec", [
  ["it_interval", __kernel_timespec],
  ["it_value", __kernel_timespec],
]);

/** struct timespec: glibc's, for clock_gettime and nanosleep (16 bytes on 64-bit targets). */
export const timespec: Struct = struct("timespec", [
  ["tv_sec", i64],
  ["tv_nsec", i64],
]);

/** Clock: wall-clock time; jumps when the clock is set. */
export const CLOCK_REALTIME = 0;
/** Clock: monotonic time since boot, not counting suspend. */
export const CLOCK_MONOTONIC = 1;
/** Clock: CPU time of the process. */
export const CLOCK_PROCESS_CPUTIME_ID = 2;
/** Clock: CPU time of the thread. */
export const CLOCK_THREAD_CPUTIME_ID = 3;
/** Clock: monotonic, without NTP frequency adjustment. */
export const CLOCK_MONOTONIC_RAW = 4;
/** Clock: CLOCK_REALTIME at tick resolution, faster to read. */
export const CLOCK_REALTIME_COARSE = 5;
/** Clock: CLOCK_MONOTONIC at tick resolution, faster to read. */
export const CLOCK_MONOTONIC_COARSE = 6;
/** Clock: monotonic, counting suspend (IORING_TIMEOUT_BOOTTIME). */
export const CLOCK_BOOTTIME = 7;
/** Clock: International Atomic Time. */
export const CLOCK_TAI = 11;

/** clock_nanosleep/timer_settime flags: the time is absolute, not relative. */
export const TIMER_ABSTIME = 1;
