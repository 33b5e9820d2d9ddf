/**
 * Child process for tests/stress/faults.test.ts: kernelkit's higher-level
 * calls while io_uring is disabled by the sysctl kernel.io_uring_disabled.
 *
 *   faults_disabled.ts FILE ROOT_DIR
 *
 * The test flips the sysctl only while this child needs it, through a
 * handshake on stdin/stdout, so the window is milliseconds:
 *   child: "ready"            (imports done, nothing has made a ring yet)
 *   test:  "go"               (the sysctl is now set)
 *   child: {"disabled": ...}  (what readFile, serveStatic and connect threw,
 *                              and the fds they left behind)
 *   test:  "again"            (the sysctl is restored)
 *   child: {"again": ...}     (readFile works now)
 * and then it exits on its own.
 *
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import process from "node:process";
import { connect, KernelError, readFile, serveStatic } from "../../src/mod.ts";

const [file, root] = process.argv.slice(2);

/** The next line on stdin. */
const lines: string[] = [];
let wake: (() => void) | undefined;
let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  buffered += chunk;
  for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
    lines.push(buffered.slice(0, i));
    buffered = buffered.slice(i + 1);
  }
  wake?.();
});
async function nextLine(): Promise<string> {
  while (lines.length === 0) await new Promise<void>((r) => (wake = r));
  return lines.shift()!;
}

function fds(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      out.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the listing's own fd
    }
  }
  return out;
}

function describe(e: unknown): Record<string, unknown> {
  return e instanceof KernelError
    ? {
      kernelError: true,
      code: e.code,
      errno: e.errno,
      syscall: e.syscall,
      hint: e.hint,
      message: e.message,
    }
    : { kernelError: false, other: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

async function attempt(fn: () => unknown): Promise<Record<string, unknown>> {
  try {
    const v = await fn();
    if (v && typeof (v as { close?: unknown }).close === "function") {
      await (v as { close(): unknown }).close();
    }
    return { ok: true };
  } catch (e) {
    return describe(e);
  }
}

const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "";
console.log("ready");
if ((await nextLine()) !== "go") process.exit(2);

const before = fds();
const results = {
  readFile: await attempt(() => readFile(file)),
  serveStatic: await attempt(() => serveStatic({ root, port: 0 })),
  connect: await attempt(() => connect({ hostname: "127.0.0.1", port: 9 })),
};
const left: string[] = [];
for (const [fd, target] of fds()) if (before.get(fd) !== target) left.push(`${fd} -> ${target}`);
console.log(JSON.stringify({ disabled: results, left, capEff }));

if ((await nextLine()) !== "again") process.exit(2);
let again: Record<string, unknown>;
try {
  again = { ok: true, bytes: (await readFile(file)).length };
} catch (e) {
  again = describe(e);
}
console.log(JSON.stringify({ again }));
process.stdin.pause();
process.stdin.destroy();
