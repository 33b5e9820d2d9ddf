/**
 * `<sys/eventfd.h>`: eventfd2 flags. kernelkit's completion wake-up registers
 * an eventfd with the ring (IORING_REGISTER_EVENTFD).
 *
 * @module
 */

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["sys/eventfd.h"];

/** eventfd flags: each read decrements the counter by 1 instead of resetting it. */
export const EFD_SEMAPHORE = 0o1;
/** eventfd flags: set FD_CLOEXEC on the new fd. */
export const EFD_CLOEXEC = 0o2000000;
/** eventfd flags: reads and writes fail with EAGAIN instead of blocking. */
export const EFD_NONBLOCK = 0o4000;
