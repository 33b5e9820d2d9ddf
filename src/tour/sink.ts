/**
 * The zero-copy row's receiver, run in a child process so that its CPU time
 * stays out of the sender's: connects to the tour's port on 127.0.0.1,
 * receives until the tour closes the connection, and prints one JSON line
 * with the bytes it got and the CPU time it spent.
 *
 *   <runtime> src/tour/sink.ts PORT
 *
 * @module
 */
import process from "node:process";
import { connect, Ring } from "../mod.ts";

/** Receives everything from 127.0.0.1:`port`; resolves with the byte count. */
export async function sink(port: number): Promise<number> {
  using ring = new Ring({ entries: 8 });
  using socket = await connect({ hostname: "127.0.0.1", port, ring });
  const buffer = new Uint8Array(1 << 20);
  let bytes = 0;
  for (;;) {
    const n = await socket.recv(buffer);
    if (n === 0) return bytes;
    bytes += n;
  }
}

if (import.meta.main) {
  const port = Number(process.argv[2]);
  const t0 = process.cpuUsage();
  const bytes = await sink(port);
  const cpu = process.cpuUsage(t0);
  console.log(JSON.stringify({ bytes, cpuUs: cpu.user + cpu.system }));
}
