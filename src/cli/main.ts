#!/usr/bin/env bun
/**
 * The `kernelkit` command.
 *
 * Runs under Bun (`bunx kernelkit doctor`) and Deno
 * (`deno run -A src/cli/main.ts doctor`).
 *
 * @module
 */
import process from "node:process";
import { KernelError } from "../errors.ts";
import { runDoctor } from "./doctor.ts";
import { runXdp, XDP_USAGE } from "./xdp.ts";
import { HUGEPAGES_USAGE, runHugePages, runThp } from "./hugepages.ts";
import { runServe, SERVE_USAGE } from "./serve.ts";
import { runTrace, TRACE_USAGE } from "./trace.ts";
import { runTourCommand, TOUR_USAGE } from "./tour.ts";

const usage = `usage: kernelkit <command> [options]

commands:
  doctor [--json]   what this host lets kernelkit do, each row measured
${TOUR_USAGE}
${XDP_USAGE}
${HUGEPAGES_USAGE}
${SERVE_USAGE}
${TRACE_USAGE}
  help              this text`;

/** Runs the CLI with `args` (without the program name); returns the exit code. */
export function main(args: readonly string[]): number {
  const [command, ...rest] = args;
  const print = (s: string) => console.log(s);
  try {
    switch (command) {
      case "doctor":
        return runDoctor(rest, print);
      case "xdp":
        return runXdp(rest, print);
      case "hugepages":
        return runHugePages(rest, print);
      case "thp":
        return runThp(rest, print);
      case "serve":
        return runServe(rest, print);
      case "trace":
        return runTrace(rest, print);
      case "tour":
        return runTourCommand(rest, print);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        print(usage);
        return command === undefined ? 2 : 0;
      default:
        console.error(`kernelkit: unknown command "${command}"\n\n${usage}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof KernelError) {
      console.error(`kernelkit ${command}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) {
  process.exitCode = main(process.argv.slice(2));
}
