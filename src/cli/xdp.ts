/**
 * `kernelkit xdp ...`: the XDP firewall from the command line. Its state is
 * pinned under /sys/fs/bpf/kernelkit/<dev>/, so separate invocations share it.
 *
 * @module
 */
import { existsSync, rmSync } from "node:fs";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { XdpFirewall } from "../bpf/firewall.ts";
import { flood, type FloodMethod } from "../bpf/flood.ts";
import { BPFFS_ROOT, bpffsMounted, pinDirFor } from "../bpf/pin.ts";
import { queryXdp, type XdpMode } from "../bpf/xdp.ts";
import { KernelError } from "../errors.ts";
import { udpFrame } from "../net/frames.ts";

/** The usage lines of `kernelkit xdp`, for the CLI's help. */
export const XDP_USAGE = `  xdp attach --dev IF [--mode auto|native|generic] [--replace]
                    attach the XDP firewall; it stays (pinned) until detach
  xdp detach --dev IF
                    detach it and remove its pins
  xdp block|unblock --dev IF CIDR...
                    add or remove source ranges (203.0.113.0/24, 2001:db8::/32)
  xdp list|stats|query --dev IF [--json]
                    blocked ranges with their drops; counters per reason; what is attached
  xdp flood --dev VETH [--count N] [--seconds S] [--size B] [--src IP] [--dst IP]
                    [--dst-mac MAC] [--method auto|live-frames|af-packet] [--json]
                    send UDP frames out of a veth as XDP frames (BPF_PROG_RUN live
                    frames); only inside a network namespace that is not the host's`;

interface Parsed {
  readonly flags: Map<string, string | true>;
  readonly positional: string[];
}

const valued = new Set([
  "--dev",
  "--mode",
  "--count",
  "--seconds",
  "--size",
  "--src",
  "--dst",
  "--dst-mac",
  "--method",
]);

function parse(args: readonly string[]): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (valued.has(a)) {
      if (i + 1 >= args.length) throw usageError(`${a} needs a value`);
      flags.set(a, args[++i]);
    } else if (a.startsWith("--")) flags.set(a, true);
    else positional.push(a);
  }
  return { flags, positional };
}

function usageError(message: string): KernelError {
  return new KernelError({
    errno: ERRNO.EINVAL,
    syscall: "kernelkit xdp",
    message,
    hint: "see `kernelkit help`",
  });
}

function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

function num(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw usageError(`${name} wants a number, got "${v}"`);
  return n;
}

function dev(p: Parsed): string {
  const d = str(p, "--dev");
  if (!d) throw usageError("--dev IF is required");
  return d;
}

const fmt = (n: number): string => n.toLocaleString("en-US");

/** Runs `kernelkit xdp <sub> ...`; returns the exit code. */
export function runXdp(args: readonly string[], print: (s: string) => void): number {
  const [sub, ...rest] = args;
  const p = parse(rest);
  const json = p.flags.has("--json");
  switch (sub) {
    case "attach": {
      const ifname = dev(p);
      const mode = (str(p, "--mode") ?? "auto") as XdpMode;
      if (!["auto", "native", "generic"].includes(mode)) {
        throw usageError(`--mode is auto, native or generic, not "${mode}"`);
      }
      const hadBpffs = bpffsMounted(BPFFS_ROOT);
      const fw = XdpFirewall.attach(ifname, { mode, persist: true, replace: p.flags.has("--replace") });
      try {
        if (!hadBpffs) print(`mounted bpffs at ${BPFFS_ROOT} (it was not mounted)`);
        if (fw.link.fallback) print(`note: ${fw.link.fallback}`);
        print(
          `attached the kernelkit XDP firewall to ${ifname} in ${fw.link.mode} mode (link ${fw.link.id}), pinned at ${fw.pinDir}`,
        );
      } finally {
        fw.close();
      }
      return 0;
    }
    case "detach": {
      const ifname = dev(p);
      if (!XdpFirewall.isPersisted(ifname)) {
        // Leftover map pins without a link (a crash between pins): clean them up.
        const dir = pinDirFor(ifname);
        if (existsSync(dir)) {
          rmSync(dir, { recursive: true, force: true });
          print(`removed leftover pins in ${dir}`);
          return 0;
        }
        throw new KernelError({
          errno: ERRNO.ENOENT,
          syscall: "bpf_obj_get",
          message: `no kernelkit firewall is attached to ${ifname}`,
          hint: `kernelkit xdp query --dev ${ifname} shows what is attached`,
        });
      }
      XdpFirewall.open(ifname).detach();
      print(`detached the kernelkit XDP firewall from ${ifname} and removed ${pinDirFor(ifname)}`);
      return 0;
    }
    case "block":
    case "unblock": {
      const ifname = dev(p);
      if (p.positional.length === 0) throw usageError(`xdp ${sub} needs at least one CIDR`);
      using fw = XdpFirewall.open(ifname);
      for (const cidr of p.positional) {
        const changed = sub === "block" ? fw.block(cidr) : fw.unblock(cidr);
        print(
          `${
            sub === "block"
              ? (changed ? "blocked" : "already blocked")
              : changed
              ? "unblocked"
              : "was not blocked"
          } ${cidr}`,
        );
      }
      return 0;
    }
    case "list": {
      using fw = XdpFirewall.open(dev(p));
      const ranges = fw.list();
      if (json) print(JSON.stringify(ranges));
      else if (ranges.length === 0) print("no ranges blocked");
      else {
        const w = Math.max(...ranges.map((r) => r.cidr.length));
        for (const r of ranges) {
          print(`${r.cidr.padEnd(w)}  ${fmt(r.packets)} packets, ${fmt(r.bytes)} bytes dropped`);
        }
      }
      return 0;
    }
    case "stats": {
      using fw = XdpFirewall.open(dev(p));
      const s = fw.stats();
      if (json) print(JSON.stringify(s));
      else {
        print(`passed   ${fmt(s.passed.packets)} packets, ${fmt(s.passed.bytes)} bytes`);
        print(`dropped  ${fmt(s.dropped.packets)} packets, ${fmt(s.dropped.bytes)} bytes`);
        for (const [reason, c] of Object.entries(s.reasons)) {
          print(`  ${reason.padEnd(13)} ${fmt(c.packets)} packets, ${fmt(c.bytes)} bytes`);
        }
      }
      return 0;
    }
    case "query": {
      const q = queryXdp(dev(p));
      if (json) print(JSON.stringify(q));
      else if (q.attachments.length === 0) print(`${q.ifname}: no XDP program attached`);
      else {
        for (const a of q.attachments) {
          const how = a.linkId === undefined ? "netlink" : `link ${a.linkId}`;
          print(`${q.ifname}: ${a.mode} program ${a.programName || "?"} (id ${a.programId}), ${how}`);
        }
      }
      return 0;
    }
    case "flood": {
      const ifname = dev(p);
      const method = (str(p, "--method") ?? "auto") as "auto" | FloodMethod;
      const frame = udpFrame({
        src: str(p, "--src"),
        dst: str(p, "--dst"),
        size: num(p, "--size"),
        dstMac: str(p, "--dst-mac"),
      });
      const r = flood(ifname, { frame, method, count: num(p, "--count"), seconds: num(p, "--seconds") });
      if (json) print(JSON.stringify(r));
      else {
        if (r.fallback) print(`note: ${r.fallback}; used AF_PACKET instead`);
        print(
          `${fmt(r.packets)} frames of ${frame.length} bytes out of ${r.ifname} in ${
            r.seconds.toFixed(2)
          } s by ${r.method}: ${(r.pps / 1e6).toFixed(2)} Mpps`,
        );
      }
      return 0;
    }
    default:
      throw usageError(sub === undefined ? "xdp needs a subcommand" : `unknown xdp subcommand "${sub}"`);
  }
}
