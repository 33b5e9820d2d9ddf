/**
 * The XDP row: what a dropped packet costs the receiver, by where it is
 * dropped. The tour makes a network namespace and a veth pair, and floods
 * UDP frames into the veth from the namespace with `kernelkit xdp flood`
 * (BPF_PROG_RUN live frames, so the receiver gets XDP frames and no sk_buff,
 * as from a NIC). The receiving end stays in this namespace, with threaded
 * NAPI: all of its receive work runs in one kernel thread, whose CPU time
 * (/proc/PID/schedstat) is the figure, divided by the frames it took.
 *
 * - classic: iptables raw PREROUTING DROP (when iptables is there), and no
 *   filter at all, the frames delivered to a closed UDP port;
 * - fast: kernelkit's XdpFirewall, dropping the flood's source range in the
 *   driver (XDP_DROP), before an sk_buff exists.
 *
 * Everything it makes (namespace, veth pair, iptables rule, XDP link) is
 * removed when the row ends, and by the tour's signal handler.
 *
 * @module
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { XdpFirewall } from "../mod.ts";
import { measure, type PathFigures, saving, type TourRow } from "./model.ts";
import {
  alternate,
  hasCommand,
  onlineCpus,
  runtimeArgv,
  type Sample,
  sh,
  type Side,
  type TourContext,
} from "./measure.ts";

type Partial = Pick<TourRow, "workload" | "figures" | "notes" | "saved" | "verdict">;

/** Why the XDP row can't run here, with the fix; null when it can. */
export function xdpMissing(): { reason: string; fix: string[] } | null {
  if (process.getuid?.() !== 0) {
    return {
      reason: "not root: the XDP row creates a network namespace and a veth pair, loads BPF and attaches XDP",
      fix: ["run the tour as root (sudo), or with CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_BPF"],
    };
  }
  for (const [tool, pkg] of [["ip", "iproute2"], ["nsenter", "util-linux"], ["ethtool", "ethtool"]]) {
    if (!hasCommand(tool)) return { reason: `${tool} is missing`, fix: [`apt-get install ${pkg}`] };
  }
  return null;
}

const RX_ADDR = "198.19.0.1";
const TX_ADDR = "198.19.0.2";
const SRC = "198.19.1.7";
const SRC_RANGE = "198.19.1.0/24";

/** Receive-side CPU of a kernel thread so far, in nanoseconds (schedstat, else stat ticks). */
function threadCpuNs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);
  } catch {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 1e7; // utime + stime, in USER_HZ (1/100 s)
  }
}

/** The pid of the threaded-NAPI kernel thread of `ifname`. */
function napiThread(ifname: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").startsWith(`napi/${ifname}-`)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

let counter = 0;

/** Measures the XDP row. */
export async function xdpRow(ctx: TourContext): Promise<Partial> {
  const rounds = ctx.quick ? 1 : 3;
  const packets = ctx.quick ? 600_000 : 2_000_000;
  const tag = `${process.pid % 100000}${(counter++).toString(36)}`;
  const ns = `kktour-${tag}`;
  const rx = `kktr${tag}`;
  const tx = `kkts${tag}`;
  const notes: string[] = [];

  ctx.progress.step(`xdp: namespace ${ns}, veth pair ${rx} (here) and ${tx} (there)`);
  const removeNet = ctx.cleanups.add(`remove namespace ${ns} and veth ${rx}`, () => {
    sh("ip", ["link", "del", rx], true);
    sh("ip", ["netns", "del", ns], true);
  });
  sh("ip", ["netns", "add", ns]);
  sh("ip", ["link", "add", rx, "type", "veth", "peer", "name", tx, "netns", ns]);
  sh("ip", ["addr", "add", `${RX_ADDR}/24`, "dev", rx]);
  sh("ip", ["link", "set", rx, "up"]);
  sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
  sh("ip", ["-n", ns, "addr", "add", `${TX_ADDR}/24`, "dev", tx]);
  sh("ip", ["-n", ns, "link", "set", tx, "up"]);
  // GRO keeps the receiving veth's NAPI running with or without an XDP
  // program (without it, XDP frames to a veth with no program are dropped);
  // threaded NAPI puts all its receive work in one kernel thread we can time.
  sh("ethtool", ["-K", rx, "gro", "on"]);
  writeFileSync(`/sys/class/net/${rx}/threaded`, "1");
  const napi = napiThread(rx);
  if (napi === undefined) throw new Error(`no threaded NAPI kernel thread appeared for ${rx}`);
  const pinned = onlineCpus() >= 2 && hasCommand("taskset");
  if (pinned) sh("taskset", ["-pc", "1", String(napi)]);
  else notes.push("the generator and the receiver share CPUs (one CPU, or no taskset)");
  const mac = readFileSync(`/sys/class/net/${rx}/address`, "utf8").trim();
  ctx.progress.done(`receive thread pid ${napi}${pinned ? " on CPU 1, generator on CPU 0" : ""}`);

  const cli = new URL("../cli/main.ts", import.meta.url);
  let fallback: string | undefined;
  let floodSeconds = 5;
  const floodOnce = (): { seconds: number } => {
    const argv = runtimeArgv(cli, [
      "xdp",
      "flood",
      "--dev",
      tx,
      "--count",
      String(packets),
      "--seconds",
      String(floodSeconds),
      "--src",
      SRC,
      "--dst",
      RX_ADDR,
      "--dst-mac",
      mac,
      "--json",
    ]);
    const out = sh("nsenter", [`--net=/run/netns/${ns}`, "--", ...(pinned ? ["taskset", "-c", "0"] : []), ...argv], false, 60_000);
    const r = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { seconds: number; method: string; fallback?: string };
    if (r.fallback) fallback = r.fallback;
    return { seconds: r.seconds };
  };
  const counters = () => {
    const stats = sh("ethtool", ["-S", rx]);
    const xdp = Number(/rx_queue_0_xdp_packets: (\d+)/.exec(stats)?.[1] ?? 0);
    const skbs = Number(readFileSync(`/sys/class/net/${rx}/statistics/rx_packets`, "utf8"));
    const dropped = Number(readFileSync(`/sys/class/net/${rx}/statistics/rx_dropped`, "utf8"));
    return { xdp, skbs, dropped };
  };

  /** One flood with `setup()` in place; CPU is the receive thread's, work the frames it took. */
  const run = (setup: () => () => void): Sample => {
    const teardown = setup();
    try {
      const c0 = counters();
      const t0 = threadCpuNs(napi);
      const f = floodOnce();
      // Let the receiver drain its ring before reading the counters.
      sh("sleep", ["0.1"]);
      const cpuNs = threadCpuNs(napi) - t0;
      const c1 = counters();
      const work = Math.max(c1.xdp - c0.xdp, c1.skbs - c0.skbs);
      if (work <= 0) throw new Error(`the receiver took no frames on ${rx}`);
      return {
        wallMs: f.seconds * 1000,
        cpuUs: cpuNs / 1000,
        work,
        extra: { overflow: c1.dropped - c0.dropped },
      };
    } finally {
      teardown();
    }
  };

  const iptables = hasCommand("iptables") &&
    sh("iptables", ["-t", "raw", "-L", "PREROUTING", "-n"], true) !== "";
  if (!iptables) notes.push("iptables is missing or unusable: the classic path is the closed port only");
  const rule = ["-t", "raw", "PREROUTING", "-i", rx, "-j", "DROP"];
  const withIptables = () => {
    sh("iptables", [rule[0], rule[1], "-I", ...rule.slice(2)]);
    return ctx.cleanups.add(`delete the iptables rule on ${rx}`, () => sh("iptables", [rule[0], rule[1], "-D", ...rule.slice(2)], true));
  };
  let xdpDropped = 0;
  let mode = "";
  const withXdp = () => {
    const fw = XdpFirewall.attach(rx, { mode: "native" });
    mode = fw.link.mode;
    fw.block(SRC_RANGE);
    const close = ctx.cleanups.add(`detach the XDP firewall from ${rx}`, () => fw.close());
    return () => {
      xdpDropped += fw.stats().dropped.packets;
      close();
    };
  };

  const cpuPerMillion = (s: Sample) => s.cpuUs / 1000 / (s.work / 1e6);
  const mpps = (s: Sample) => s.work / 1e6 / (s.wallMs / 1000);
  const headline = (s: Sample) => `${cpuPerMillion(s).toFixed(0)} ms CPU per million, ${mpps(s).toFixed(2)} Mpps taken`;
  const sides: Array<Side & { role: "classic" | "fast" }> = [
    ...(iptables ? [{ name: "iptables raw DROP", role: "classic" as const, run: () => run(withIptables), headline }] : []),
    { name: "no filter, closed UDP port", role: "classic", run: () => run(() => () => {}), headline },
    { name: "XDP_DROP, kernelkit firewall", role: "fast", run: () => run(withXdp), headline },
  ];
  // A first, short flood loads the generator's code paths once, untimed.
  ctx.progress.step("xdp: warming up the generator");
  floodSeconds = 1;
  run(() => () => {});
  floodSeconds = 5;
  ctx.progress.done();
  const samples = await alternate(ctx, "xdp", sides, rounds);

  ctx.progress.step(`xdp: removing ${ns} and ${rx}`);
  removeNet();
  ctx.progress.done();
  if (xdpDropped === 0) throw new Error("the XDP firewall dropped nothing: its counters stayed at zero");
  if (mode !== "native") notes.push(`XDP ran in ${mode} mode: native mode was refused on the veth`);
  if (fallback) notes.push(`${fallback}: the frames reached the veth as sk_buffs, so XDP could not save their allocation`);
  notes.push(
    "a veth is not a NIC: with a real driver the sk_buff the classic paths allocate costs more, and XDP runs before it",
    "the generator sends faster than any receiver takes: frames that find the veth's ring full are dropped before " +
      "the receiver and not counted",
    "the figure is the receive thread's own CPU time; the cost of waking it (interrupts, IPIs) is not in it",
  );

  const figures: PathFigures[] = sides.map((side, i) => ({
    path: side.name,
    role: side.role,
    measures: [
      measure("receiver CPU", "ms per million packets", "lower", samples[i].map(cpuPerMillion)),
      measure("frames taken", "Mpps", "higher", samples[i].map(mpps)),
    ],
  }));
  const saved = saving(figures, "receiver CPU per packet");
  return {
    workload: `${(packets / 1e6).toFixed(1)} M UDP frames of 60 bytes per run, live XDP frames into a veth pair; ` +
      `the receive thread's CPU time per frame it took; ${rounds} round${rounds > 1 ? "s" : ""}, medians`,
    figures,
    saved,
    verdict: saved.verdict,
    notes,
  };
}
