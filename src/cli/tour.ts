/**
 * `kernelkit tour [--quick] [--json] [--html FILE] [--only LIST]`: measures
 * what each technique saves on this host and prints the seed's summary table
 * with a measured column, then the raw figures.
 *
 * Progress goes to stderr (a spinner on a terminal, plain lines otherwise),
 * results to stdout. Ctrl-C undoes everything the tour made, then exits 130.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import process from "node:process";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import type { TechniqueId } from "../tour/model.ts";
import { createProgress, reportHtml, reportText, runTour } from "../tour/mod.ts";

/** The usage lines of `kernelkit tour`, for the CLI's help. */
export const TOUR_USAGE = `  tour [--quick] [--json] [--html FILE] [--only zero-copy,xdp,io_uring,hugepages]
                    measure what zero-copy, XDP, io_uring and huge pages save on this
                    host against the classic paths (about 60 s; --quick: a few seconds
                    per technique); root for the XDP row and the hugetlb pool`;

const TECHNIQUES: readonly TechniqueId[] = ["zero-copy", "xdp", "io_uring", "hugepages"];

/** The parsed arguments of `kernelkit tour`. */
export interface TourArgs {
  /** --quick */
  readonly quick: boolean;
  /** --json */
  readonly json: boolean;
  /** --html FILE */
  readonly html: string | undefined;
  /** --only a,b */
  readonly only: readonly TechniqueId[] | undefined;
  /** --help */
  readonly help: boolean;
}

function usageError(message: string): KernelError {
  return new KernelError({ errno: ERRNO.EINVAL, syscall: "kernelkit tour", message, hint: "see `kernelkit help`" });
}

/** Parses `kernelkit tour` arguments; throws a KernelError (EINVAL) for bad ones. */
export function parseTourArgs(args: readonly string[]): TourArgs {
  let quick = false;
  let json = false;
  let help = false;
  let html: string | undefined;
  let only: TechniqueId[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--quick") quick = true;
    else if (a === "--json") json = true;
    else if (a === "--help" || a === "-h") help = true;
    else if (a === "--html" || a === "--only") {
      const v = args[++i];
      if (v === undefined || v.startsWith("--")) throw usageError(`${a} needs a value`);
      if (a === "--html") html = v;
      else {
        only = v.split(",").map((x) => x.trim()) as TechniqueId[];
        const bad = only.filter((x) => !TECHNIQUES.includes(x));
        if (bad.length) throw usageError(`unknown technique ${bad.join(", ")}: choose from ${TECHNIQUES.join(", ")}`);
      }
    } else throw usageError(`unknown option ${a}`);
  }
  return { quick, json, html, only, help };
}

/**
 * Starts the tour and returns 0 at once (or 2 for bad arguments); the tour
 * sets `process.exitCode` when it ends: 0, or 1 when a row failed.
 */
export function runTourCommand(args: readonly string[], print: (s: string) => void): number {
  const opts = parseTourArgs(args);
  if (opts.help) {
    print(`usage: kernelkit tour [options]\n\n${TOUR_USAGE}`);
    return 0;
  }
  const stderr = process.stderr as { write(s: string): boolean; isTTY?: boolean };
  const progress = createProgress({ tty: stderr.isTTY === true, write: (s) => void stderr.write(s) });
  runTour({
    quick: opts.quick,
    only: opts.only,
    progress,
    onSignal: (signal, failures) => {
      stderr.write(`\nkernelkit tour: ${signal}: stopped, and removed what it had made\n`);
      for (const f of failures) stderr.write(`kernelkit tour: ${f}\n`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    },
  }).then((report) => {
    if (opts.html) {
      writeFileSync(opts.html, reportHtml(report));
      stderr.write(`kernelkit tour: wrote ${opts.html}\n`);
    }
    print(opts.json ? JSON.stringify(report, null, 2) : reportText(report));
    process.exitCode = report.rows.some((r) => r.status === "failed") ? 1 : 0;
  }, (e: unknown) => {
    stderr.write(`kernelkit tour: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
  return 0;
}
