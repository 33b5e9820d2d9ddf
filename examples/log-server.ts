/**
 * A log server in the Kafka pattern: producers append records to one
 * append-only segment file, and consumers fetch byte ranges of it by offset.
 * Fetched bytes go from the page cache to the socket with sendfileAsync
 * (splice through the ring), so the server never copies a record it serves.
 *
 *   bun examples/log-server.ts [--port 9092] [--dir DIR]   run the server
 *   bun examples/log-server.ts --demo                       start it, produce, consume, check, stop
 *   deno run -A examples/log-server.ts --demo
 *
 * Protocol, over HTTP/1.1:
 *   POST /append                 the body is one record; answers {"offset":N}
 *   GET  /fetch?offset=N&max=M   the whole records from offset N that fit in M
 *                                bytes (at least one); X-Next-Offset says where
 *                                to fetch next; 204 when there is nothing new
 *
 * Each record is stored as a 4-byte big-endian length and its bytes, and its
 * offset is its byte position in the segment (Kafka maps logical offsets to
 * positions with an index file; here the position is the offset).
 */
import process from "node:process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CWD, KernelError, listen, parseRequestHead, type RequestHead, Ring, sendfileAsync, type TcpSocket } from "../src/mod.ts";

// open(2) flags from <fcntl.h>.
const O_RDWR = 0o2, O_CREAT = 0o100, O_TRUNC = 0o1000, O_CLOEXEC = 0o2000000;
const BUFFER = 64 * 1024; // per connection: one request head and body

/** The segment: an append-only file and the offsets of the records in it. */
class Segment {
  readonly starts: number[] = []; // offset of each record, ascending
  end = 0; // the offset after the last committed record
  #tail: Promise<unknown> = Promise.resolve();

  constructor(readonly ring: Ring, readonly fd: number) {}

  /** Appends one record; appends run one after another, so offsets are in commit order. */
  append(payload: Uint8Array): Promise<number> {
    const run = this.#tail.then(async () => {
      const record = new Uint8Array(4 + payload.length);
      new DataView(record.buffer).setUint32(0, payload.length);
      record.set(payload, 4);
      const offset = this.end;
      for (let done = 0; done < record.length;) done += await this.ring.write(this.fd, record.subarray(done), offset + done);
      this.starts.push(offset);
      this.end = offset + record.length; // visible to consumers only now
      return offset;
    });
    this.#tail = run.catch(() => {});
    return run;
  }

  /** The byte range of the whole records from `offset` that fit in `max` bytes (at least one record). */
  range(offset: number, max: number): { length: number; next: number } | "boundary" {
    let i = 0, hi = this.starts.length;
    while (i < hi) {
      const mid = (i + hi) >>> 1;
      if (this.starts[mid] < offset) i = mid + 1;
      else hi = mid;
    }
    if (offset === this.end) return { length: 0, next: offset };
    if (this.starts[i] !== offset) return "boundary";
    let next = this.starts[i + 1] ?? this.end;
    for (let j = i + 2; j <= this.starts.length; j++) {
      const after = this.starts[j] ?? this.end;
      if (after - offset > max) break;
      next = after;
    }
    return { length: next - offset, next };
  }
}

const text = new TextEncoder();
function reply(socket: TcpSocket, status: string, body: string, headers = ""): Promise<void> {
  const bytes = text.encode(body);
  return socket.send(text.encode(`HTTP/1.1 ${status}\r\nContent-Length: ${bytes.length}\r\n${headers}\r\n${body}`));
}

async function handle(socket: TcpSocket, segment: Segment, head: RequestHead, body: Uint8Array): Promise<void> {
  const url = new URL(head.target, "http://log");
  if (head.method === "POST" && url.pathname === "/append") {
    const offset = await segment.append(body);
    return reply(socket, "200 OK", JSON.stringify({ offset }), "Content-Type: application/json\r\n");
  }
  if (head.method === "GET" && url.pathname === "/fetch") {
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const max = Number(url.searchParams.get("max") ?? 1024 * 1024);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > segment.end) return reply(socket, "416 Range Not Satisfiable", `offset ${offset} is past the end (${segment.end})\n`);
    const range = segment.range(offset, max);
    if (range === "boundary") return reply(socket, "400 Bad Request", `offset ${offset} is not the start of a record\n`);
    if (range.length === 0) return socket.send(text.encode(`HTTP/1.1 204 No Content\r\nX-Next-Offset: ${offset}\r\n\r\n`));
    await socket.send(text.encode(
      `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${range.length}\r\nX-Next-Offset: ${range.next}\r\n\r\n`,
    ));
    // The records go from the page cache to the socket: no copy through JS.
    const sent = await sendfileAsync(segment.ring, socket.fd, segment.fd, { offset, length: range.length });
    if (sent !== range.length) throw new Error("the segment shrank");
    return;
  }
  return reply(socket, "404 Not Found", "POST /append or GET /fetch?offset=N&max=M\n");
}

/** One connection: read a request head (and body), answer, repeat while keep-alive. */
async function session(socket: TcpSocket, segment: Segment): Promise<void> {
  const buf = new Uint8Array(BUFFER);
  let have = 0;
  try {
    for (;;) {
      const parsed = parseRequestHead(buf.subarray(0, have));
      if (parsed.kind === "error") return await reply(socket, `${parsed.status} Error`, `${parsed.reason}\n`, "Connection: close\r\n");
      const need = parsed.kind === "request" ? parsed.head.length + parsed.head.contentLength : 0;
      if (parsed.kind === "request" && (parsed.head.chunked || need > buf.length)) {
        return await reply(socket, "413 Content Too Large", `a request may take at most ${BUFFER} bytes, with a Content-Length\n`, "Connection: close\r\n");
      }
      if (parsed.kind === "incomplete" || have < need) {
        const n = await socket.recv(buf.subarray(have));
        if (n === 0) return;
        have += n;
        continue;
      }
      const { head } = parsed;
      await handle(socket, segment, head, buf.slice(head.length, need));
      buf.copyWithin(0, need, have);
      have -= need;
      if (!head.keepAlive) return;
    }
  } catch (e) {
    if (!(e instanceof KernelError)) throw e; // a peer that went away ends its session only
  } finally {
    socket.close();
  }
}

/** Starts the log server; returns its port and a stop function. */
async function start(dir: string, port: number): Promise<{ port: number; stop: () => void }> {
  const ring = new Ring({ entries: 256 });
  const fd = await ring.openat(CWD, join(dir, "00000000.log"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644);
  const segment = new Segment(ring, fd);
  const listener = listen({ hostname: "127.0.0.1", port, ring });
  listener.serve((socket) => void session(socket, segment));
  return {
    port: listener.port,
    stop: () => {
      listener.close();
      ring.close();
    },
  };
}

async function demo(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "kk-log-"));
  const server = await start(dir, 0);
  const base = `http://127.0.0.1:${server.port}`;
  try {
    // Three producers append 50 records each, concurrently.
    await Promise.all([0, 1, 2].map(async (p) => {
      for (let i = 0; i < 50; i++) {
        const r = await fetch(`${base}/append`, { method: "POST", body: `producer ${p} record ${i} ${"x".repeat(i * 7)}` });
        await r.json();
      }
    }));
    // One consumer reads the log from offset 0 in fetches of at most 1 KiB.
    const seen: string[] = [];
    let offset = 0, fetches = 0;
    for (;;) {
      const r = await fetch(`${base}/fetch?offset=${offset}&max=1024`);
      fetches++;
      if (r.status === 204) break;
      const bytes = new Uint8Array(await r.arrayBuffer());
      const view = new DataView(bytes.buffer);
      for (let at = 0; at < bytes.length;) {
        const len = view.getUint32(at);
        seen.push(new TextDecoder().decode(bytes.subarray(at + 4, at + 4 + len)));
        at += 4 + len;
      }
      offset = Number(r.headers.get("x-next-offset"));
    }
    // Every record is there once, and each producer's records are in the order it sent them.
    for (let p = 0; p < 3; p++) {
      const mine = seen.filter((s) => s.startsWith(`producer ${p} `)).map((s) => Number(s.split(" ")[3]));
      if (mine.join() !== Array.from({ length: 50 }, (_, i) => i).join()) throw new Error(`producer ${p}: ${mine.join()}`);
    }
    if (seen.length !== 150) throw new Error(`${seen.length} records instead of 150`);
    console.log(`demo ok: 150 records, ${offset} bytes, read back in ${fetches} fetches`);
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args.includes("--demo")) await demo();
else {
  const at = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const dir = at("--dir") ?? mkdtempSync(join(tmpdir(), "kk-log-"));
  const server = await start(dir, Number(at("--port") ?? 9092));
  console.log(`log server on http://127.0.0.1:${server.port}/ with its segment in ${dir} (Ctrl-C to stop)`);
  process.on("SIGINT", () => {
    server.stop();
    process.exit(0);
  });
}
