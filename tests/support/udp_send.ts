/**
 * Sends UDP datagrams from chosen source addresses, for the XDP tests; run
 * inside a test namespace. Each datagram's payload is its source address, so
 * the receiver can count per source.
 *
 *   udp_send.ts --to ADDR --port N --count N FROM...
 *
 * @module
 */
import dgram from "node:dgram";
import process from "node:process";

const args = process.argv.slice(2);
const opt = (name: string): string => args[args.indexOf(name) + 1];
const to = opt("--to");
const port = Number(opt("--port"));
const count = Number(opt("--count"));
const sources = args.filter((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));

async function sendFrom(from: string): Promise<void> {
  const sock = dgram.createSocket(from.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve) => sock.bind({ address: from }, resolve));
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) =>
      sock.send(from, port, to, (e) => (e ? reject(e) : resolve()))
    );
  }
  sock.close();
}

await Promise.all(sources.map(sendFrom));
console.log(`sent ${count} from each of ${sources.join(", ")}`);
