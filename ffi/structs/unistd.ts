/**
 * `<unistd.h>`: the sysconf(3) names kernelkit asks for.
 *
 * @module
 */

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["unistd.h"];

/** sysconf: the size of a (small) page in bytes. */
export const _SC_PAGESIZE = 30;
/** sysconf: the number of physical pages. */
export const _SC_PHYS_PAGES = 85;
