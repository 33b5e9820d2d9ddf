/**
 * `kernelkit serve DIR [--port N] [--host H]`: serves a directory over HTTP
 * with serveStatic until SIGINT or SIGTERM, then closes gracefully.
 *
 * @module
 */
import process from "node:process";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import { serveStatic } from "../http/server.ts";

/** The usage lines of `kernelkit serve`, for the CLI's help. */
export const SERVE_USAGE = `  serve DIR [--port N] [--host H]
                    serve DIR over HTTP/1.1 on io_uring with zero-copy bodies
                    (default 127.0.0.1:8080; --port 0 picks a free port)`;

function usageError(message: string): KernelError {
  return new KernelError({ errno: ERRNO.EINVAL, syscall: "kernelkit serve", message, hint: "see `kernelkit help`" });
}

/** The directory, port and host of `kernelkit serve` arguments. */
export function parseServeArgs(args: readonly string[]): { readonly root: string; readonly port: number; readonly hostname: string } {
  let root: string | undefined;
  let port = 8080;
  let hostname = "127.0.0.1";
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--port" || a === "--host") {
      const v = args[++i];
      if (v === undefined) throw usageError(`${a} needs a value`);
      if (a === "--host") hostname = v;
      else {
        port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`--port wants a port number from 0 to 65535, got "${v}"`);
      }
    } else if (a.startsWith("--")) throw usageError(`unknown option ${a}`);
    else if (root === undefined) root = a;
    else throw usageError(`one directory only: "${root}" and "${a}" were given`);
  }
  if (root === undefined) throw usageError("which directory? kernelkit serve DIR [--port N] [--host H]");
  return { root, port, hostname };
}

/**
 * Starts serving and returns 0 at once; the server keeps the process alive.
 * The first SIGINT or SIGTERM closes it gracefully (responses in flight
 * finish); a second one exits at once.
 */
export function runServe(args: readonly string[], print: (s: string) => void): number {
  const { root, port, hostname } = parseServeArgs(args);
  const server = serveStatic({ root, port, hostname });
  print(`kernelkit serve: ${root} at ${server.url} (Ctrl-C to stop)`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    print(`kernelkit serve: ${signal}, finishing the responses in flight`);
    server.close().then(() => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    });
  };
  const onInt = () => stop("SIGINT");
  const onTerm = () => stop("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return 0;
}
