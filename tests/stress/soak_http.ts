/**
 * Child process of tests/stress/soak.test.ts: an HTTP soak of serveStatic.
 *
 * This process serves a temp directory of files (0 B to 1 MiB, both sides of
 * the sendfile threshold) on a Ring of its own; the clients run in another
 * process (soak_http_client.ts), so that the RSS and fds measured here are
 * the server's. A warm-up client runs first; then, with GC forced, the
 * baseline is taken, the soak's client runs, the connections it left are
 * awaited, and RSS and fds are taken again. Then the server is closed, and
 * the ring must have nothing pending. Prints one JSON line.
 *
 *   soak_http.ts --requests N --seconds S [--warmup N] [--concurrency N] [--seed N]
 *
 * @module
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ring, serveStatic } from "../../src/mod.ts";
import { runtimeBinary, scriptArgv } from "../support/process.ts";
import { footprint, numberArg, openFds, pipeCount, rss, settledRss } from "./soak_common.ts";

const requests = numberArg("requests", 3000);
const seconds = numberArg("seconds", 30);
const warmup = numberArg("warmup", 1000);
const concurrency = numberArg("concurrency", 32);
const seed = numberArg("seed", Date.now() % 1_000_000);

const client = new URL("./soak_http_client.ts", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "kk-soak-http-"));
const SIZES = [0, 1, 100, 4095, 4096, 16383, 16384, 65_543, 300_000, 1024 * 1024 + 3];
for (const size of SIZES) writeFileSync(join(root, `f${size}.bin`), randomBytes(size));
writeFileSync(join(root, "index.html"), "<h1>soak</h1>\n");

/** Runs the client process to its end; resolves with its JSON line. */
function runClient(args: string[], timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(runtimeBinary, scriptArgv(client, args), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      if (status !== 0 || !line.startsWith("{")) {
        reject(
          new Error(`the client exited with ${status ?? signal}: ${err.slice(-2000)} ${out.slice(-500)}`),
        );
      } else resolve(JSON.parse(line));
    });
  });
}

/** Waits (bounded) until the server has no connections open. */
async function quiet(server: { connections: number }, ms: number): Promise<number> {
  const deadline = performance.now() + ms;
  while (server.connections > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return server.connections;
}

const ring = new Ring({ entries: 1024, cqEntries: 16384 });
const errors: string[] = [];
const server = serveStatic({ root, port: 0, ring, onError: (e) => errors.push(e.message) });
const base = ["--port", String(server.port), "--root", root, "--concurrency", String(concurrency)];
let result: Record<string, unknown> = {};
try {
  const t0 = performance.now();
  const warm = await runClient([
    ...base,
    "--requests",
    String(warmup),
    "--seconds",
    String(seconds),
    "--seed",
    String(seed + 1),
  ], (seconds + 60) * 1000);
  const leftAfterWarmup = await quiet(server, 10_000);
  const rssBaseline = await settledRss();
  const fdsBaseline = openFds();
  let rssPeak = rssBaseline;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rss())), 200);
  const t1 = performance.now();
  const main = await runClient([
    ...base,
    "--requests",
    String(requests),
    "--seconds",
    String(seconds),
    "--seed",
    String(seed),
  ], (seconds + 60) * 1000);
  const mainMs = performance.now() - t1;
  clearInterval(sampler);
  const leftAfterMain = await quiet(server, 10_000);
  const rssAfter = await settledRss();
  const fdsAfter = openFds();
  // The pipes are sendfileAsync's pool (src/zerocopy/pipes.ts): idle ones are kept for reuse, up to 64,
  // and one a client left mid-body is closed, not reused. They are counted apart; every other fd must match.
  const measured = footprint({ rss: rssBaseline, fds: fdsBaseline }, { rss: rssAfter, fds: fdsAfter, rssPeak }, /pipe:/);
  await server.close();
  // The server's own ops (multishot ACCEPT and RECVs, sends, splices) all ended with close().
  await new Promise((r) => setTimeout(r, 20));
  result = {
    seed,
    warmup: warm,
    main,
    mainMs: Math.round(mainMs),
    totalMs: Math.round(performance.now() - t0),
    requestsPerSec: Math.round((main.requests as number) / (mainMs / 1000)),
    leftAfterWarmup,
    leftAfterMain,
    pending: ring.pending,
    ringStats: { ...ring.stats },
    serverErrors: errors.slice(0, 10),
    pipesBaseline: pipeCount(fdsBaseline),
    pipesAfter: pipeCount(fdsAfter),
    ...measured,
  };
} finally {
  await server.close();
  ring.close();
  rmSync(root, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
