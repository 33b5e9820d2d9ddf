/**
 * Child process of tests/stress/soak.test.ts: XdpFirewall map updates while
 * UDP traffic flows. The test made the namespace and veth pair (withNetns);
 * this process attaches the firewall (link-based, so it goes with this
 * process whatever happens), receives on the host side, and runs the sender
 * (soak_udp_flow.ts) inside the namespace through nsenter.
 *
 * `--updates` block/unblock calls on random ranges from a fixed pool (ranges
 * covering the senders' addresses, random IPv4 and IPv6 ones), paced over
 * about `--ms`. Every call's answer is checked against a model (block is
 * true only for a range not yet blocked, unblock only for one that is), and
 * every 500 calls `list()` must equal the model. At the end:
 * - the blocklist equals the model;
 * - the counters agree with the traffic: every datagram sent was counted as
 *   passed or blocked IPv4 (no more), the socket got no more than passed, the
 *   ranges' own counts add up to no more than the blocked total;
 * - a last, quiet delivery from each source is dropped exactly when the model
 *   has a range containing it, and counted on the most specific such range.
 * RSS and fds are taken after a warm-up and after the updates (GC forced).
 * Prints one JSON line.
 *
 *   soak_xdp.ts --netns NAME --dev IF --host4 ADDR --peers A,B,C --net23 CIDR --updates N --ms N
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { type Cidr, cidrContains, formatCidr, parseCidr, XdpFirewall } from "../../src/mod.ts";
import { runtimeBinary, scriptArgv } from "../support/process.ts";
import {
  footprint,
  numberArg,
  openFds,
  random,
  rss,
  settledRss,
  stringArg,
} from "./soak_common.ts";

const netns = stringArg("netns");
const dev = stringArg("dev");
const host4 = stringArg("host4");
const peers = stringArg("peers").split(",");
const net23 = stringArg("net23");
const updates = numberArg("updates", 2000);
const warmupUpdates = numberArg("warmup", 500);
const paceMs = numberArg("ms", 3000);
const seed = numberArg("seed", Date.now() % 1_000_000);
const rand = random(seed);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
const canon = (s: string) => formatCidr(parseCidr(s));
const flow = new URL("./soak_udp_flow.ts", import.meta.url).pathname;
const udpSend = new URL("../support/udp_send.ts", import.meta.url).pathname;

// The pool: ranges that cover the senders (so traffic is dropped and passed by turns), and random ones.
const [a, b, c] = peers;
const covering = [a, b, c].map((p) => `${p}/32`).concat([
  canon(`${a}/24`),
  canon(net23),
  "198.18.0.0/16",
  "198.18.0.0/15",
].map(canon));
const broad = new Set(covering.slice(4));
const pool = new Set<string>(covering);
while (pool.size < covering.length + 200) {
  const addr = Array.from({ length: 4 }, () => Math.floor(rand() * 256)).join(".");
  pool.add(canon(`${addr}/${8 + Math.floor(rand() * 25)}`));
}
while (pool.size < covering.length + 300) {
  const groups = Array.from(
    { length: 8 },
    (_, i) => (i < 2 ? ["2001", "db8"][i] : Math.floor(rand() * 65536).toString(16)),
  );
  pool.add(canon(`${groups.join(":")}/${32 + Math.floor(rand() * 97)}`));
}
const ranges = [...pool];

const model = new Set<string>();
const stats = {
  block: 0,
  blockNew: 0,
  unblock: 0,
  unblockHit: 0,
  listChecks: 0,
  wrongAnswers: 0,
  listMismatches: 0,
};
const failures: string[] = [];
function fail(what: string): void {
  if (failures.length < 10) failures.push(what);
}

function sameAsModel(fw: XdpFirewall): boolean {
  const listed = fw.list().map((r) => r.cidr).sort();
  const want = [...model].sort();
  stats.listChecks++;
  if (listed.length === want.length && listed.every((x, i) => x === want[i])) return true;
  stats.listMismatches++;
  const extra = listed.filter((x) => !model.has(x)).slice(0, 3);
  const missing = want.filter((x) => !listed.includes(x)).slice(0, 3);
  fail(
    `list() has ${listed.length} ranges, the model ${want.length}; listed only: [${extra}], model only: [${missing}]`,
  );
  return false;
}

function update(fw: XdpFirewall, range: string, block: boolean): void {
  const had = model.has(range);
  if (block) {
    stats.block++;
    const r = fw.block(range);
    if (r !== !had) {
      stats.wrongAnswers++;
      fail(`block(${range}) said ${r}, the model ${!had}`);
    }
    if (r) stats.blockNew++;
    model.add(range);
  } else {
    stats.unblock++;
    const r = fw.unblock(range);
    if (r !== had) {
      stats.wrongAnswers++;
      fail(`unblock(${range}) said ${r}, the model ${had}`);
    }
    if (r) stats.unblockHit++;
    model.delete(range);
  }
}

/** `n` random updates spread over about `ms`, a few per 1 ms tick so traffic flows between them. */
async function soak(fw: XdpFirewall, n: number, ms: number): Promise<number> {
  const t0 = performance.now();
  const perTick = Math.max(1, Math.ceil(n / Math.max(1, ms / 1.2)));
  for (let done = 0; done < n;) {
    for (let k = 0; k < perTick && done < n; k++, done++) {
      // One update in five is on a range covering the senders, so their traffic is dropped and passed by
      // turns; the broad ones (/23, /16, /15) are blocked less often, or nothing would pass for long.
      const range = rand() < 0.2 ? pick(covering) : pick(ranges);
      update(fw, range, rand() < (broad.has(range) ? 0.25 : 0.5));
      if ((stats.block + stats.unblock) % 500 === 0) sameAsModel(fw);
    }
    await new Promise((r) => setTimeout(r, 1));
    if (performance.now() - t0 > ms * 10 + 30_000) {
      throw new Error(`only ${done} of ${n} updates in ${ms * 10 + 30_000} ms`);
    }
  }
  return performance.now() - t0;
}

/** The most specific model range containing `address`, or undefined. */
function matching(address: string): string | undefined {
  const bytes = parseCidr(address).address;
  let best: Cidr | undefined;
  for (const r of model) {
    const cidr = parseCidr(r);
    if (cidr.family === 4 && cidrContains(cidr, bytes) && (!best || cidr.prefix > best.prefix)) best = cidr;
  }
  return best && formatCidr(best);
}

const received: Record<string, number> = Object.fromEntries(peers.map((p) => [p, 0]));
const sock = dgram.createSocket("udp4");
sock.on("message", (msg) => {
  const from = msg.toString();
  if (from in received) received[from]++;
});
await new Promise<void>((resolve) => sock.bind(0, host4, resolve));
const port = sock.address().port;

const fw = XdpFirewall.attach(dev, { mode: "native" });
let result: Record<string, unknown> = {};
const sender = spawn("nsenter", [
  `--net=/run/netns/${netns}`,
  "--",
  runtimeBinary,
  ...scriptArgv(flow, [
    "--to",
    host4,
    "--port",
    String(port),
    "--ms",
    String(paceMs * 10 + 60_000),
    ...peers,
  ]),
], { stdio: ["pipe", "pipe", "pipe"] });
let senderOut = "";
let senderErr = "";
sender.stdout!.on("data", (d) => (senderOut += d));
sender.stderr!.on("data", (d) => (senderErr += d));
const senderDone = new Promise<number | null>((resolve) => sender.on("close", (status) => resolve(status)));
try {
  // Traffic first: wait (bounded) until datagrams arrive, so that ARP is done and the flow is on.
  for (let i = 0; i < 250 && Object.values(received).reduce((x, y) => x + y, 0) < 50; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const flowing = Object.values(received).reduce((x, y) => x + y, 0) >= 50;
  await soak(fw, warmupUpdates, paceMs * warmupUpdates / updates);
  const rssBaseline = await settledRss();
  const fdsBaseline = openFds();
  const receivedBefore = { ...received };
  const statsBefore = fw.stats();
  const mainMs = await soak(fw, updates, paceMs);
  const statsDuring = fw.stats();
  const rssAfter = await settledRss();
  const fdsAfter = openFds();
  const measured = footprint({ rss: rssBaseline, fds: fdsBaseline }, { rss: rssAfter, fds: fdsAfter, rssPeak: rssBaseline });

  // Stop the flow, let the last datagrams land, then compare the counters with what was sent.
  sender.stdin!.end("stop\n");
  const senderStatus = await senderDone;
  await new Promise((r) => setTimeout(r, 300));
  const flowResult = senderStatus === 0 ? JSON.parse(senderOut.trim().split("\n").pop()!) : null;
  const sent = flowResult
    ? Object.values(flowResult.sent as Record<string, number>).reduce((x, y) => x + y, 0)
    : -1;
  const afterFlow = fw.stats();
  const receivedTotal = Object.values(received).reduce((x, y) => x + y, 0);
  const listed = fw.list();
  const finalListMatches = sameAsModel(fw);
  const rangePackets = listed.reduce((n, r) => n + r.packets, 0);

  // Make the last delivery say something: a's /32 blocked, nothing over c.
  if (!model.has(`${a}/32`)) update(fw, `${a}/32`, true);
  for (const r of [...model]) if (cidrContains(parseCidr(r), parseCidr(c).address)) update(fw, r, false);
  const quietBefore = {
    stats: fw.stats(),
    list: new Map(fw.list().map((r) => [r.cidr, r.packets])),
    received: { ...received },
  };
  const expect = Object.fromEntries(peers.map((p) => [p, matching(p)]));
  const send = spawnSync("nsenter", [
    `--net=/run/netns/${netns}`,
    "--",
    runtimeBinary,
    ...scriptArgv(udpSend, [
      "--to",
      host4,
      "--port",
      String(port),
      "--count",
      "5",
      ...peers,
    ]),
  ], { encoding: "utf8", timeout: 30_000 });
  const passing = peers.filter((p) => !expect[p]).length;
  for (let waited = 0; waited < 1000; waited += 20) {
    if (peers.every((p) => received[p] - quietBefore.received[p] >= (expect[p] ? 0 : 5))) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 100));
  const quietAfter = { stats: fw.stats(), list: new Map(fw.list().map((r) => [r.cidr, r.packets])) };
  const quiet = peers.map((p) => ({
    source: p,
    blockedBy: expect[p] ?? null,
    received: received[p] - quietBefore.received[p],
    rangeDelta: expect[p]
      ? (quietAfter.list.get(expect[p]!) ?? 0) - (quietBefore.list.get(expect[p]!) ?? 0)
      : null,
  }));

  result = {
    seed,
    flowing,
    updates: stats.block + stats.unblock,
    stats,
    mainMs: Math.round(mainMs),
    updatesPerSec: Math.round(updates / (mainMs / 1000)),
    finalBlocklist: model.size,
    finalListMatches,
    sender: flowResult,
    senderStatus,
    senderErr: senderErr.slice(-500),
    sent,
    receivedDuringSoak: Object.values(received).reduce((x, y) => x + y, 0) -
      Object.values(receivedBefore).reduce((x, y) => x + y, 0),
    receivedTotal,
    counters: {
      passed4: afterFlow.reasons.ipv4.packets,
      blocked4: afterFlow.reasons.blocked_ipv4.packets,
      blocked6: afterFlow.reasons.blocked_ipv6.packets,
      dropped: afterFlow.dropped.packets,
      seen4: afterFlow.reasons.ipv4.packets + afterFlow.reasons.blocked_ipv4.packets,
      blockedDuringSoak: statsDuring.reasons.blocked_ipv4.packets - statsBefore.reasons.blocked_ipv4.packets,
      passedDuringSoak: statsDuring.reasons.ipv4.packets - statsBefore.reasons.ipv4.packets,
      rangePackets,
    },
    quiet: {
      sendStatus: send.status,
      sendErr: (send.stderr ?? "").slice(-300),
      sources: quiet,
      blockedDelta: quietAfter.stats.reasons.blocked_ipv4.packets -
        quietBefore.stats.reasons.blocked_ipv4.packets,
      passedDelta: quietAfter.stats.reasons.ipv4.packets - quietBefore.stats.reasons.ipv4.packets,
      expectBlocked: (peers.length - passing) * 5,
      expectPassed: passing * 5,
    },
    failures,
    ...measured,
  };
} finally {
  sender.kill("SIGKILL");
  fw.close();
  sock.close();
}
console.log(JSON.stringify(result));
