/**
 * Child process for tests/stress/faults.test.ts: a peer reset in the middle
 * of sendfile. The test's own process is the peer (a node:net server); this
 * child is the sender, so that a SIGPIPE death, if the runtime allowed one,
 * would kill the child and not the test.
 *
 *   faults_sendfile.ts PORT FILE LENGTH
 *
 * It makes four connections to 127.0.0.1:PORT, each opened with a one-byte
 * header telling the peer what to do:
 *   "R" sync   sendfile(2) of LENGTH bytes; the peer reads a little and resets
 *   "R" async  sendfileAsync (the ring) of LENGTH bytes; the same
 *   "D" sync   sendfile of a 2 MiB slice; the peer reads it all and answers
 *   "D" async  sendfileAsync of another 2 MiB slice; the same
 * and prints one JSON line with what each did, then exits on its own.
 *
 * @module
 */
import { closeSync, openSync } from "node:fs";
import process from "node:process";
import { connect, KernelError, Ring, sendfile, sendfileAsync, type TcpSocket } from "../../src/mod.ts";

const [portArg, file, lengthArg] = process.argv.slice(2);
const port = Number(portArg);
const length = Number(lengthArg);

/** What one reset transfer did. */
interface ResetResult {
  readonly mode: "sync" | "async";
  readonly threw: boolean;
  readonly kernelError: boolean;
  readonly code?: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly hint?: string;
  readonly message?: string;
  readonly other?: string;
}

/** What one clean transfer did. */
interface CleanResult {
  readonly mode: "sync" | "async";
  readonly offset: number;
  readonly length: number;
  readonly sent: number;
  readonly reply: string;
}

const ring = new Ring({ entries: 64 });
const fd = openSync(file, "r");

async function open(header: "R" | "D"): Promise<TcpSocket> {
  const sock = await connect({ hostname: "127.0.0.1", port, ring });
  await sock.send(new TextEncoder().encode(header));
  return sock;
}

async function reset(mode: "sync" | "async"): Promise<ResetResult> {
  const sock = await open("R");
  try {
    const sent = mode === "sync"
      ? sendfile(sock.fd, fd, { offset: 0, length })
      : await sendfileAsync(ring, sock.fd, fd, { offset: 0, length });
    return { mode, threw: false, kernelError: false, other: `sent ${sent} bytes without an error` };
  } catch (e) {
    if (!(e instanceof KernelError)) return { mode, threw: true, kernelError: false, other: String(e) };
    return {
      mode,
      threw: true,
      kernelError: true,
      code: e.code,
      errno: e.errno,
      syscall: e.syscall,
      hint: e.hint,
      message: e.message,
    };
  } finally {
    sock.close();
  }
}

async function clean(mode: "sync" | "async", offset: number): Promise<CleanResult> {
  const sock = await open("D");
  try {
    const n = 2 << 20;
    const sent = mode === "sync"
      ? sendfile(sock.fd, fd, { offset, length: n })
      : await sendfileAsync(ring, sock.fd, fd, { offset, length: n });
    await sock.shutdown("write");
    // The peer answers with the byte count it received, then closes.
    const buf = new Uint8Array(256);
    let reply = "";
    for (let i = 0; i < 16; i++) {
      const got = await sock.recv(buf);
      if (got === 0) break;
      reply += new TextDecoder().decode(buf.subarray(0, got));
    }
    return { mode, offset, length: n, sent, reply };
  } finally {
    sock.close();
  }
}

try {
  const resets = [await reset("sync"), await reset("async")];
  const cleans = [await clean("sync", 12_345), await clean("async", 7 << 20)];
  console.log(JSON.stringify({ resets, cleans, pending: ring.pending }));
} finally {
  closeSync(fd);
  ring.close();
}
