/**
 * The zero-copy row: a page-cached file sent to a loopback TCP socket three
 * ways, by the same process, in alternating rounds:
 *
 * - the classic path: `pread` 64 KiB into a JS buffer, `write` it to the
 *   socket (the CPU copies every byte out of the page cache and back in);
 * - `sendfile`: page cache to socket inside the kernel;
 * - `splice`: page cache to a pipe to the socket, inside the kernel.
 *
 * The receiver is a child process (its CPU is not the sender's). What is
 * reported is the sender's CPU seconds per GB and its throughput.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  closeFd,
  closePipe,
  CWD,
  listen,
  makePipe,
  pread,
  Ring,
  sendfile,
  splice,
  type TcpSocket,
  write,
} from "../mod.ts";
import { measure, type PathFigures, saving, type TourRow } from "./model.ts";
import { alternate, runtimeArgv, type Sample, type Side, tempDir, timed, type TourContext } from "./measure.ts";

const FILE_BYTES = 64 << 20;
const CHUNK = 64 << 10;
/** SPLICE_F_MOVE | SPLICE_F_MORE (linux/splice.h): move pages if possible, more data follows. */
const SPLICE_FLAGS = 1 | 4;

type Partial = Pick<TourRow, "workload" | "figures" | "notes" | "saved" | "verdict">;

/** The receiver child: resolves with what it printed when the connection closes. */
function startSink(ctx: TourContext, port: number): { done: Promise<{ bytes: number; cpuUs: number }> } {
  const argv = runtimeArgv(new URL("./sink.ts", import.meta.url), [String(port)]);
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  const kill = ctx.cleanups.add("stop the zero-copy receiver", () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
  const done = new Promise<{ bytes: number; cpuUs: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error("the receiver did not finish within 60 s"));
    }, 60_000);
    child.on("error", reject);
    child.on("close", (code: number | null) => {
      clearTimeout(timer);
      kill();
      const line = out.trim().split("\n").pop() ?? "";
      if (code === 0 && line.startsWith("{")) resolve(JSON.parse(line));
      else reject(new Error(`the receiver exited ${code}: ${err.trim() || out.trim()}`));
    });
  });
  return { done };
}

/** Measures the zero-copy row. */
export async function zeroCopy(ctx: TourContext): Promise<Partial> {
  const rounds = ctx.quick ? 2 : 5;
  const roundMs = ctx.quick ? 150 : 500;
  ctx.progress.step(`zero-copy: a ${FILE_BYTES >> 20} MiB file in the page cache, a receiver on loopback TCP`);
  const dir = tempDir(ctx, "zerocopy");
  const path = join(dir.path, "data.bin");
  const pattern = new Uint8Array(FILE_BYTES);
  for (let i = 0; i < pattern.length; i += 4096) pattern[i] = i >>> 12;
  writeFileSync(path, pattern);

  const ring = new Ring({ entries: 16 });
  const closeRing = ctx.cleanups.add("close the zero-copy ring", () => ring.close());
  const file = await ring.openat(CWD, path, 0);
  const closeFile = ctx.cleanups.add("close the zero-copy file", () => closeFd(file));
  const buffer = new Uint8Array(CHUNK);
  // Read once so every path starts from the page cache.
  for (let off = 0; off < FILE_BYTES; off += CHUNK) pread(file, buffer, off);

  const listener = listen({ hostname: "127.0.0.1", port: 0, ring });
  const closeListener = ctx.cleanups.add("close the zero-copy listener", () => listener.close());
  const receiver = startSink(ctx, listener.port);
  const socket: TcpSocket = await listener.accept({ signal: AbortSignal.timeout(20_000) });
  const closeSocket = ctx.cleanups.add("close the zero-copy connection", () => socket.close());
  closeListener();
  ctx.progress.done();

  const pipe = makePipe(1 << 20);
  ctx.cleanups.add("close the splice pipe", () => closePipe(pipe));
  let sent = 0;

  /** Sends the file with `pass` until a round's time is up. */
  const round = (pass: () => void): Sample =>
    timed(() => {
      const end = performance.now() + roundMs;
      let bytes = 0;
      do {
        pass();
        bytes += FILE_BYTES;
        ctx.progress.tick();
      } while (performance.now() < end);
      sent += bytes;
      return { work: bytes };
    });

  const copyLoop = () => {
    for (let off = 0; off < FILE_BYTES; off += CHUNK) {
      const n = pread(file, buffer, off);
      for (let done = 0; done < n;) done += write(socket.fd, buffer.subarray(done, n));
    }
  };
  const sendfilePass = () => {
    sendfile(socket.fd, file, { offset: 0, length: FILE_BYTES });
  };
  const splicePass = () => {
    for (let off = 0; off < FILE_BYTES;) {
      const n = splice(file, pipe.write, { offIn: off, length: Math.min(pipe.size, FILE_BYTES - off), flags: SPLICE_FLAGS });
      splice(pipe.read, socket.fd, { length: n, flags: SPLICE_FLAGS });
      off += n;
    }
  };
  const gbps = (s: Sample) => s.work / 1e9 / (s.wallMs / 1000);
  const cpuPerGb = (s: Sample) => s.cpuUs / 1e6 / (s.work / 1e9);
  const headline = (s: Sample) => `${gbps(s).toFixed(2)} GB/s, ${cpuPerGb(s).toFixed(3)} CPU s/GB`;
  const sides: Side[] = [
    { name: "read + write loop", run: () => round(copyLoop), headline },
    { name: "sendfile", run: () => round(sendfilePass), headline },
    { name: "splice", run: () => round(splicePass), headline },
  ];
  const samples = await alternate(ctx, "zero-copy", sides, rounds);

  ctx.progress.step("zero-copy: closing the connection, checking what the receiver got");
  closeSocket();
  const got = await receiver.done;
  closeFile();
  closeRing();
  dir.remove();
  if (got.bytes !== sent) throw new Error(`the receiver got ${got.bytes} bytes of the ${sent} sent`);
  ctx.progress.done(`${(got.bytes / 1e9).toFixed(1)} GB received, as sent`);

  const figures: PathFigures[] = sides.map((side, i) => ({
    path: side.name,
    role: i === 0 ? "classic" : "fast",
    measures: [
      measure("sender CPU", "s/GB", "lower", samples[i].map(cpuPerGb)),
      measure("throughput", "GB/s", "higher", samples[i].map(gbps)),
    ],
  }));
  const saved = saving(figures, "sender CPU per GB");
  return {
    workload: `a ${FILE_BYTES >> 20} MiB page-cached file sent to a loopback TCP socket, read by a child process; ` +
      `${rounds} rounds of ${roundMs} ms per path, medians`,
    figures,
    saved,
    verdict: saved.verdict,
    notes: [
      `the copy loop moves ${CHUNK >> 10} KiB per pread and write; sendfile sends the whole file per call; splice goes through a 1 MiB pipe`,
      "on loopback the receiver still copies every byte out of the socket; only the sender's CPU is compared",
    ],
  };
}
