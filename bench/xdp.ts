/**
 * bench/xdp.ts: what a dropped packet costs the receiver, by where it is dropped.
 *
 * The claim: XDP drops a packet before the kernel allocates an sk_buff. On a
 * veth that holds only when frames arrive as XDP frames, so the generator is
 * kernelkit's own `flood` (BPF_PROG_RUN live frames, XDP_REDIRECT into the
 * sending veth), run in a namespace of its own, pinned to CPU 0. The
 * receiving veth stays in this namespace with threaded NAPI, its kthread
 * pinned to CPU 1; receiver CPU comes from /proc/stat's cpu1 line.
 *
 * Cases: XDP_DROP native; the kernelkit firewall (native); XDP_DROP generic;
 * iptables raw PREROUTING DROP; nftables netdev ingress drop; no filter (UDP
 * to a closed port). Then the classic AF_PACKET flooder, whose frames reach the
 * veth as ready-made skbs, with XDP native and with iptables.
 *
 *   bun bench/xdp.ts [--packets N] [--rounds N]        (as root)
 *   deno run -A bench/xdp.ts ...
 *
 * Prints a table and one JSON line per claim.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { BpfObject, type FloodResult, XdpFirewall, type XdpLink } from "../src/mod.ts";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const PACKETS = arg("--packets", 2_000_000);
const ROUNDS = arg("--rounds", 3);
const repo = new URL("..", import.meta.url).pathname;
const runtime = process.execPath;
const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;

const tag = `${process.pid % 10000}`;
const NS = `kkb-gen-${tag}`;
const RX = `kkbr${tag}`;
const TX = `kkbs${tag}`;
const RX_ADDR = "198.19.0.1";
const SRC = "198.19.1.7";

function sh(cmd: string, args: string[], allowFail = false): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function cpuBusy(cpu: number): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n").find((l) => l.startsWith(`cpu${cpu} `))!;
  const f = line.split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait, in USER_HZ (1/100 s).
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;
}

/** The receiving veth's counters: frames its NAPI took (XDP frames and skbs), and ring overflows. */
function veth(): { xdp: number; rx: number; ringDrops: number } {
  const s = sh("ethtool", ["-S", RX]);
  const get = (k: string) => Number(new RegExp(`${k}: (\\d+)`).exec(s)?.[1] ?? 0);
  const sys = (k: string) => Number(readFileSync(`/sys/class/net/${RX}/statistics/${k}`, "utf8"));
  return { xdp: get("rx_queue_0_xdp_packets"), rx: sys("rx_packets"), ringDrops: sys("rx_dropped") };
}

function floodOnce(method: "live-frames" | "af-packet", count = PACKETS): FloodResult {
  const mac = readFileSync(`/sys/class/net/${RX}/address`, "utf8").trim();
  const argv = [
    "-c",
    "0",
    "nsenter",
    `--net=/run/netns/${NS}`,
    "--",
    runtime,
    ...(isDeno ? ["run", "-A", "--no-check"] : []),
    `${repo}src/cli/main.ts`,
    "xdp",
    "flood",
    "--dev",
    TX,
    "--count",
    String(count),
    "--seconds",
    "10",
    "--src",
    SRC,
    "--dst",
    RX_ADDR,
    "--dst-mac",
    mac,
    "--method",
    method,
    "--json",
  ];
  return JSON.parse(sh("taskset", argv)) as FloodResult;
}

interface Case {
  readonly name: string;
  readonly path: string;
  readonly method: "live-frames" | "af-packet";
  setup(): () => void;
}

const xdpProgram = (mode: "native" | "generic") => (): () => void => {
  const obj = BpfObject.open(`${repo}bpf/xdp_drop.bpf.o`).load();
  const link: XdpLink = obj.program("kk_drop").attachXdp(RX, { mode });
  return () => {
    link.close();
    obj.close();
  };
};
const firewall = (ranges: number) => (): () => void => {
  const fw = XdpFirewall.attach(RX, { mode: "native" });
  for (let i = 0; i < ranges - 1; i++) fw.block(`10.${i >> 8}.${i & 255}.0/24`);
  fw.block("198.19.1.0/24");
  return () => fw.close();
};
const iptables = (): () => void => {
  sh("iptables", ["-t", "raw", "-I", "PREROUTING", "-i", RX, "-j", "DROP"]);
  return () => sh("iptables", ["-t", "raw", "-D", "PREROUTING", "-i", RX, "-j", "DROP"], true);
};
const nft = (): () => void => {
  const table = `kkbench${tag}`;
  sh("nft", ["add", "table", "netdev", table]);
  sh("nft", [
    "add",
    "chain",
    "netdev",
    table,
    "in",
    `{ type filter hook ingress device ${RX} priority 0; policy drop; }`,
  ]);
  return () => sh("nft", ["delete", "table", "netdev", table], true);
};

const cases: Case[] = [
  { name: "XDP_DROP native", path: "xdp frame", method: "live-frames", setup: xdpProgram("native") },
  { name: "firewall, 1 range", path: "xdp frame", method: "live-frames", setup: firewall(1) },
  { name: "firewall, 1000 ranges", path: "xdp frame", method: "live-frames", setup: firewall(1000) },
  { name: "XDP_DROP generic", path: "xdp frame -> skb", method: "live-frames", setup: xdpProgram("generic") },
  { name: "iptables raw DROP", path: "xdp frame -> skb", method: "live-frames", setup: iptables },
  { name: "nftables netdev drop", path: "xdp frame -> skb", method: "live-frames", setup: nft },
  { name: "no filter, closed port", path: "xdp frame -> skb", method: "live-frames", setup: () => () => {} },
  { name: "XDP_DROP native", path: "AF_PACKET skb", method: "af-packet", setup: xdpProgram("native") },
  { name: "iptables raw DROP", path: "AF_PACKET skb", method: "af-packet", setup: iptables },
];

interface Sample {
  sentPps: number;
  processedPps: number;
  cpuPerMillion: number;
  ringDrops: number;
  method: string;
  fallback?: string;
}

function measure(c: Case): Sample {
  const teardown = c.setup();
  try {
    // CPU 1's background: the same child, sending one frame.
    const b0 = cpuBusy(1);
    floodOnce(c.method, 1);
    const background = cpuBusy(1) - b0;
    const v0 = veth();
    const c0 = cpuBusy(1);
    const r = floodOnce(c.method);
    // Let the receiver drain its ring before reading the counters.
    spawnSync("sleep", ["0.1"]);
    const c1 = cpuBusy(1);
    const v1 = veth();
    // XDP frames count in xdp_packets; skbs from AF_PACKET only in rx_packets.
    const processed = Math.max(v1.xdp - v0.xdp, v1.rx - v0.rx);
    return {
      sentPps: r.pps,
      processedPps: processed / r.seconds,
      cpuPerMillion: processed > 0 ? Math.max(0, c1 - c0 - background) / (processed / 1e6) : NaN,
      ringDrops: v1.ringDrops - v0.ringDrops,
      method: r.method,
      fallback: r.fallback,
    };
  } finally {
    teardown();
  }
}

function setupNet(): void {
  sh("ip", ["netns", "add", NS]);
  sh("ip", ["link", "add", RX, "type", "veth", "peer", "name", TX, "netns", NS]);
  sh("ip", ["addr", "add", `${RX_ADDR}/24`, "dev", RX]);
  sh("ip", ["link", "set", RX, "up"]);
  sh("ip", ["-n", NS, "link", "set", "lo", "up"]);
  sh("ip", ["-n", NS, "addr", "add", "198.19.0.2/24", "dev", TX]);
  sh("ip", ["-n", NS, "link", "set", TX, "up"]);
  // GRO keeps the receiving veth's NAPI on with or without an XDP program;
  // threaded NAPI lets us pin the receive work to CPU 1.
  sh("ethtool", ["-K", RX, "gro", "on"]);
  writeFileSync(`/sys/class/net/${RX}/threaded`, "1");
  const ps = sh("ps", ["-eo", "pid,comm"]).split("\n").find((l) => l.includes(`napi/${RX}-`));
  if (!ps) throw new Error(`no threaded NAPI kthread for ${RX}`);
  sh("taskset", ["-pc", "1", ps.trim().split(/\s+/)[0]]);
}

function teardownNet(): void {
  sh("ip", ["link", "del", RX], true);
  sh("ip", ["netns", "del", NS], true);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (process.getuid?.() !== 0) {
  console.error("bench/xdp.ts needs root (namespaces, XDP, iptables)");
  process.exit(1);
}
const samples = new Map<number, Sample[]>();
setupNet();
try {
  for (let round = 0; round < ROUNDS; round++) {
    cases.forEach((c, i) => {
      const s = measure(c);
      if (s.fallback) console.error(`note: ${c.name}: ${s.fallback}`);
      samples.set(i, [...(samples.get(i) ?? []), s]);
    });
  }
} finally {
  teardownNet();
}

const rows = cases.map((c, i) => {
  const s = samples.get(i)!;
  return {
    case: c.name,
    path: c.path,
    generator: s[0].method,
    sentMpps: median(s.map((x) => x.sentPps)) / 1e6,
    processedMpps: median(s.map((x) => x.processedPps)) / 1e6,
    cpuMsPerMillion: median(s.map((x) => x.cpuPerMillion)) * 1000,
    ringDrops: median(s.map((x) => x.ringDrops)),
  };
});
console.log(
  `receiver CPU 1, generator CPU 0, ${
    PACKETS.toLocaleString("en-US")
  } frames of 60 bytes per run, median of ${ROUNDS} rounds, ${isDeno ? "deno" : "bun"}`,
);
console.log(
  "case                        path               generator     sent Mpps  rx Mpps  rx CPU ms per M pkts",
);
for (const r of rows) {
  console.log(
    `${r.case.padEnd(27)} ${r.path.padEnd(18)} ${r.generator.padEnd(12)} ${
      r.sentMpps.toFixed(2).padStart(9)
    } ${r.processedMpps.toFixed(2).padStart(8)} ${r.cpuMsPerMillion.toFixed(0).padStart(12)}`,
  );
}
const cpu = (name: string, path = "xdp frame -> skb") =>
  rows.find((r) => r.case.startsWith(name) && (r.path === path || path === "*"))!.cpuMsPerMillion;
const xdpNative = rows[0].cpuMsPerMillion;
const claims = [
  {
    bench: "xdp_native_vs_iptables_cpu_per_mpkt",
    kernelkit: xdpNative,
    peer: cpu("iptables"),
    unit: "ms CPU per million dropped",
  },
  {
    bench: "xdp_firewall_vs_xdp_drop_cpu_per_mpkt",
    kernelkit: rows[1].cpuMsPerMillion,
    peer: xdpNative,
    unit: "ms CPU per million dropped",
  },
  {
    bench: "xdp_firewall1000_vs_xdp_drop_cpu_per_mpkt",
    kernelkit: rows[2].cpuMsPerMillion,
    peer: xdpNative,
    unit: "ms CPU per million dropped",
  },
  {
    bench: "xdp_native_vs_nftables_cpu_per_mpkt",
    kernelkit: xdpNative,
    peer: cpu("nftables"),
    unit: "ms CPU per million dropped",
  },
  {
    bench: "xdp_native_vs_iptables_max_drop_rate",
    kernelkit: rows[0].processedMpps,
    peer: rows[4].processedMpps,
    unit: "Mpps dropped by one saturated core",
  },
  {
    bench: "xdp_flood_generator_mpps",
    kernelkit: rows[0].sentMpps,
    peer: rows[7].sentMpps,
    unit: "Mpps on one core (live frames vs AF_PACKET)",
  },
];
for (const c of claims) console.log(JSON.stringify({ ...c, ratio: c.kernelkit / c.peer }));
