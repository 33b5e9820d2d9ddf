/**
 * The traffic of the XDP soak (tests/stress/soak_xdp.ts runs it inside the
 * test namespace): UDP datagrams from each source address in turn, paced at
 * about `--pps` in all, until a line arrives on stdin, stdin closes, or
 * `--ms` pass. Each datagram's payload is its source address. Prints one JSON
 * line: how many were sent from each source.
 *
 *   soak_udp_flow.ts --to ADDR --port N --ms N [--pps N] FROM...
 *
 * @module
 */
import dgram from "node:dgram";
import process from "node:process";
import { numberArg, stringArg } from "./soak_common.ts";

const to = stringArg("to");
const port = numberArg("port", 0);
const ms = numberArg("ms", 30_000);
const pps = numberArg("pps", 8000);
const args = process.argv.slice(2);
const sources = args.filter((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));

let stop = false;
process.stdin.on("data", () => (stop = true));
process.stdin.on("end", () => (stop = true));
process.stdin.on("error", () => (stop = true));

const socks = await Promise.all(sources.map(async (from) => {
  const sock = dgram.createSocket(from.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve) => sock.bind({ address: from }, resolve));
  return { from, sock, payload: new TextEncoder().encode(from) };
}));

const sent: Record<string, number> = Object.fromEntries(sources.map((s) => [s, 0]));
let errors = 0;
const t0 = performance.now();
// Ticks of about 2 ms, each sending its share of the rate from every source.
const perTick = Math.max(1, Math.round((pps * 0.002) / sources.length));
while (!stop && performance.now() - t0 < ms) {
  await Promise.all(
    socks.flatMap(({ from, sock, payload }) =>
      Array.from(
        { length: perTick },
        () =>
          new Promise<void>((resolve) =>
            sock.send(payload, port, to, (e) => {
              if (e) errors++;
              else sent[from]++;
              resolve();
            })
          ),
      )
    ),
  );
  await new Promise((r) => setTimeout(r, 2));
}
for (const { sock } of socks) sock.close();
console.log(JSON.stringify({ sent, errors, ms: Math.round(performance.now() - t0) }));
process.stdin.destroy();
process.exit(0);
