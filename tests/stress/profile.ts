/**
 * How hard the stress suite pushes. `npm test` (and so CI) runs the short
 * profile, a few seconds per file; `npm run test:stress` sets
 * `KERNELKIT_STRESS=full` for the full counts (10M ring ops, 100k
 * HTTP requests, 100k fuzzed calls per runtime).
 *
 * @module
 */
import process from "node:process";

/** "short" (the default) or "full". */
export const stressProfile: "short" | "full" = process.env.KERNELKIT_STRESS === "full" ? "full" : "short";

/** `short` under the short profile, `full` under the full one. */
export function scaled(short: number, full: number): number {
  return stressProfile === "full" ? full : short;
}
