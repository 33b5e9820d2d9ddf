/**
 * The clients of the HTTP soak (tests/stress/soak_http.ts starts this in a
 * process of its own, so the server's RSS and fds are the server's alone).
 *
 * `--concurrency` lanes each loop over random sessions until `--requests`
 * requests were made or `--seconds` passed:
 * - keep-alive sessions of 1 to 4 requests (GET, HEAD, a byte range, a
 *   missing file; two of them pipelined at times) whose responses are checked
 *   byte for byte against the files under `--root`;
 * - clients that go away: before sending anything, mid-request (a random
 *   prefix of the head), right after the request, after the response head,
 *   or mid-body; half with a FIN, half with a reset.
 *
 * Then a final round of clean requests, every one of which must be answered
 * byte-exact: the server kept serving. Prints one JSON line.
 *
 *   soak_http_client.ts --port N --root DIR --requests N --seconds S [--concurrency N] [--seed N]
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { numberArg, random, stringArg } from "./soak_common.ts";

const port = numberArg("port", 0);
const root = stringArg("root");
const target = numberArg("requests", 1000);
const seconds = numberArg("seconds", 30);
const concurrency = numberArg("concurrency", 32);
const finalRound = numberArg("final", 64);
const seed = numberArg("seed", 1);
const rand = random(seed);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];

const files = new Map<string, Buffer>();
for (const name of readdirSync(root)) files.set(`/${name}`, readFileSync(join(root, name)));
const paths = [...files.keys()];
const bigPaths = paths.filter((p) => files.get(p)!.length >= 256 * 1024);

const stats = {
  requests: 0,
  sessions: 0,
  verified: 0,
  verifiedBytes: 0,
  byKind: {} as Record<string, number>,
  failures: 0,
  finalOk: 0,
  finalFailed: 0,
};
const failureSamples: string[] = [];
function fail(what: string): void {
  stats.failures++;
  if (failureSamples.length < 10) failureSamples.push(what);
}
function count(kind: string, requests: number): void {
  stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
  stats.requests += requests;
}

/** One request and what its response must be. */
interface Expect {
  readonly request: string;
  readonly status: number;
  readonly body: Buffer;
  /** HEAD: a Content-Length of the file's size, and no body. */
  readonly head?: boolean;
  readonly contentLength: number;
}

function randomRequest(last: boolean): Expect {
  const path = pick(paths);
  const file = files.get(path)!;
  const close = last && rand() < 0.5 ? "Connection: close\r\n" : "";
  const r = rand();
  if (r < 0.08) {
    const missing = `/missing-${Math.floor(rand() * 1e6)}.txt`;
    return {
      request: `GET ${missing} HTTP/1.1\r\nHost: soak\r\n${close}\r\n`,
      status: 404,
      body: Buffer.alloc(0),
      contentLength: -1,
    };
  }
  if (r < 0.18) {
    return {
      request: `HEAD ${path} HTTP/1.1\r\nHost: soak\r\n${close}\r\n`,
      status: 200,
      body: Buffer.alloc(0),
      head: true,
      contentLength: file.length,
    };
  }
  if (r < 0.32 && file.length > 1) {
    const a = Math.floor(rand() * file.length);
    const b = Math.min(file.length - 1, a + Math.floor(rand() * 70_000));
    const body = file.subarray(a, b + 1);
    return {
      request: `GET ${path} HTTP/1.1\r\nHost: soak\r\nRange: bytes=${a}-${b}\r\n${close}\r\n`,
      status: 206,
      body,
      contentLength: body.length,
    };
  }
  return {
    request: `GET ${path} HTTP/1.1\r\nHost: soak\r\n${close}\r\n`,
    status: 200,
    body: file,
    contentLength: file.length,
  };
}

/** A connection whose received bytes can be awaited until a condition holds. */
class Client {
  readonly socket: net.Socket;
  data: Buffer = Buffer.alloc(0);
  ended = false;
  error: string | undefined;
  #wake: (() => void) | undefined;

  constructor() {
    this.socket = net.connect({ host: "127.0.0.1", port });
    this.socket.setNoDelay(true);
    this.socket.on("data", (d: Buffer) => {
      this.data = this.data.length === 0 ? d : Buffer.concat([this.data, d]);
      this.#wake?.();
    });
    this.socket.on("end", () => {
      this.ended = true;
      this.#wake?.();
    });
    this.socket.on("close", () => {
      this.ended = true;
      this.#wake?.();
    });
    this.socket.on("error", (e: Error & { code?: string }) => {
      this.error = e.code ?? e.message;
      this.ended = true;
      this.#wake?.();
    });
  }

  connected(): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.ended) return resolve(false);
      this.socket.once("connect", () => resolve(true));
      this.socket.once("close", () => resolve(false));
    });
  }

  /** Waits until `done()` holds or the connection ends; false on timeout or end first. */
  async until(done: () => boolean, timeoutMs = 10_000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      if (this.ended) return done();
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return true;
  }

  write(s: string | Buffer): void {
    this.socket.write(typeof s === "string" ? Buffer.from(s, "latin1") : s);
  }

  /** Goes away: with a FIN, or with a reset (SO_LINGER 0). */
  leave(reset: boolean): void {
    const s = this.socket as net.Socket & { resetAndDestroy?: () => void };
    if (reset && s.resetAndDestroy) s.resetAndDestroy();
    else s.destroy();
  }
}

/** Parses one response at the start of `data`; null until it is all there. */
function parseOne(
  data: Buffer,
  e: Expect,
): { status: number; headers: Map<string, string>; body: Buffer; size: number } | null {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const lines = data.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(lines[0].split(" ")[1]);
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const c = l.indexOf(":");
    headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
  }
  const length = e.head ? 0 : Number(headers.get("content-length") ?? 0);
  if (data.length < end + 4 + length) return null;
  return { status, headers, body: data.subarray(end + 4, end + 4 + length), size: end + 4 + length };
}

function check(got: NonNullable<ReturnType<typeof parseOne>>, e: Expect): string | null {
  if (got.status !== e.status) return `status ${got.status}, not ${e.status}`;
  if (e.contentLength >= 0 && got.headers.get("content-length") !== String(e.contentLength)) {
    return `Content-Length ${got.headers.get("content-length")}, not ${e.contentLength}`;
  }
  if (e.status !== 404 && !got.body.equals(e.body)) {
    return `a body of ${got.body.length} bytes that differs from the file`;
  }
  return null;
}

/** 1 to 4 requests on one connection, sometimes two pipelined; every response checked. */
async function keepAlive(): Promise<void> {
  const n = 1 + Math.floor(rand() * 4);
  const c = new Client();
  let i = 0;
  try {
    while (i < n) {
      const batch = i + 1 < n && rand() < 0.25 ? 2 : 1;
      const wants: Expect[] = [];
      for (let k = 0; k < batch; k++) wants.push(randomRequest(i + k === n - 1));
      c.write(wants.map((w) => w.request).join(""));
      for (const want of wants) {
        let got: ReturnType<typeof parseOne> = null;
        const ok = await c.until(() => (got = parseOne(c.data, want)) !== null);
        if (!ok || !got) {
          fail(
            `no whole response to ${JSON.stringify(want.request.split("\r\n")[0])} (${
              c.error ?? (c.ended ? "closed" : "timeout")
            }, ${c.data.length} bytes)`,
          );
          return;
        }
        const g = got as NonNullable<ReturnType<typeof parseOne>>;
        const wrong = check(g, want);
        if (wrong) {
          fail(`${want.request.split("\r\n")[0]}: ${wrong}`);
          return;
        }
        stats.verified++;
        stats.verifiedBytes += g.body.length;
        c.data = c.data.subarray(g.size);
        i++;
      }
    }
  } finally {
    count("keepAlive", Math.max(i, 1));
    c.leave(false);
  }
}

/** A client that goes away at a random point of its request or of the response. */
async function leaver(): Promise<void> {
  const reset = rand() < 0.5;
  const r = rand();
  const c = new Client();
  let kind = "";
  try {
    if (!(await c.connected())) {
      fail(`connect failed: ${c.error}`);
      return;
    }
    if (r < 0.15) {
      kind = "connectOnly";
    } else if (r < 0.4) {
      kind = "midRequest";
      const req = randomRequest(false).request;
      c.write(req.slice(0, Math.floor(rand() * (req.length - 1))));
      if (rand() < 0.5) await new Promise((res) => setTimeout(res, rand() * 3));
    } else if (r < 0.55) {
      kind = "afterRequest";
      c.write(`GET ${pick(bigPaths)} HTTP/1.1\r\nHost: soak\r\n\r\n`);
    } else if (r < 0.75) {
      kind = "afterHead";
      c.write(`GET ${pick(bigPaths)} HTTP/1.1\r\nHost: soak\r\n\r\n`);
      if (!(await c.until(() => c.data.indexOf("\r\n\r\n") >= 0))) {
        fail(`no response head (${c.error ?? "timeout"})`);
      }
    } else {
      kind = "midBody";
      const path = pick(bigPaths);
      const cut = Math.floor(rand() * files.get(path)!.length);
      c.write(`GET ${path} HTTP/1.1\r\nHost: soak\r\n\r\n`);
      if (!(await c.until(() => c.data.length > cut))) {
        fail(`only ${c.data.length} bytes of ${path} before leaving at ${cut} (${c.error ?? "timeout"})`);
      }
    }
  } finally {
    count(kind || "connectFailed", 1);
    c.leave(reset);
  }
}

async function lane(deadline: number): Promise<void> {
  while (stats.requests < target && performance.now() < deadline) {
    stats.sessions++;
    if (rand() < 0.55) await keepAlive();
    else await leaver();
  }
}

const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, () => lane(t0 + seconds * 1000)));
const ms = performance.now() - t0;

// The server kept serving: a final round of clean requests, all byte-exact.
await Promise.all(Array.from({ length: finalRound }, async (_, i) => {
  const path = paths[i % paths.length];
  const want: Expect = {
    request: `GET ${path} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n`,
    status: 200,
    body: files.get(path)!,
    contentLength: files.get(path)!.length,
  };
  const c = new Client();
  c.write(want.request);
  let got: ReturnType<typeof parseOne> = null;
  await c.until(() => (got = parseOne(c.data, want)) !== null);
  c.leave(false);
  const wrong = got ? check(got, want) : `no response (${c.error ?? "timeout"})`;
  if (wrong) {
    stats.finalFailed++;
    fail(`final ${path}: ${wrong}`);
  } else stats.finalOk++;
}));

console.log(
  JSON.stringify({ ms: Math.round(ms), timedOut: stats.requests < target, ...stats, failureSamples }),
);
