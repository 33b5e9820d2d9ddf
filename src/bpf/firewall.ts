/**
 * XdpFirewall: kernelkit's XDP program (bpf/xdp_firewall.bpf.c) that drops
 * packets from blocked IPv4 and IPv6 ranges in the driver, before the kernel
 * allocates an sk_buff, and counts every packet and byte per reason.
 *
 * ```ts
 * using fw = XdpFirewall.attach("eth0");
 * fw.block("203.0.113.0/24");
 * console.log(fw.stats().dropped);
 * ```
 *
 * With `persist: true` the link and the maps are pinned under
 * /sys/fs/bpf/kernelkit/<ifname>/, so that the firewall outlives the process
 * and later processes (`XdpFirewall.open`, the `kernelkit xdp` commands) share
 * its blocklists and counters.
 *
 * @module
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Struct, struct, u64 } from "../../ffi/layout.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import { interfaceByName } from "../net/interfaces.ts";
import { type Cidr, cidr4, cidr6, formatCidr, parseCidr } from "./cidr.ts";
import { type Codec, codec, type StructValue, sum } from "./codec.ts";
import { BpfMap, perCpuValue } from "./map.ts";
import { BpfObject } from "./object.ts";
import { BPFFS_ROOT, ensureBpffs, pinDirFor } from "./pin.ts";
import { XdpLink, type XdpMode } from "./xdp.ts";

/** `struct kk_counter` of xdp_firewall.bpf.c: packets and bytes. */
export const kk_counter: Struct = struct("kk_counter", [["packets", u64], ["bytes", u64]]);

/** Why the firewall passed or dropped a packet: the index into its `stats` map (enum kk_reason). */
export const FIREWALL_REASONS = [
  "ipv4",
  "ipv6",
  "other",
  "malformed",
  "blocked_ipv4",
  "blocked_ipv6",
] as const;

/**
 * A reason of {@link FIREWALL_REASONS}: passed IPv4 or IPv6, passed other
 * protocols (ARP ...), passed malformed or truncated frames, or dropped
 * because the IPv4 or IPv6 source was blocked.
 */
export type FirewallReason = typeof FIREWALL_REASONS[number];

/** Packets and bytes (bytes from the Ethernet header on). */
export interface Counter {
  /** Packets. */
  readonly packets: number;
  /** Bytes. */
  readonly bytes: number;
}

/** The firewall's counters, summed over CPUs. */
export interface FirewallStats {
  /** Everything passed on to the stack. */
  readonly passed: Counter;
  /** Everything dropped. */
  readonly dropped: Counter;
  /** Each reason on its own. */
  readonly reasons: Readonly<Record<FirewallReason, Counter>>;
}

/** A blocked range and the packets it dropped. */
export interface BlockedRange extends Counter {
  /** The range, canonical: "203.0.113.0/24", "2001:db8::/32". */
  readonly cidr: string;
}

/** Options of {@link XdpFirewall.attach}. */
export interface FirewallOptions {
  /** Where the program runs (default "auto": native, else generic, saying so in `link.fallback`). */
  readonly mode?: XdpMode;
  /**
   * Pin the link and the maps under /sys/fs/bpf/kernelkit/<ifname>/ (mounting
   * bpffs if needed), so that the firewall outlives this process. Remove it
   * with `detach()`.
   */
  readonly persist?: boolean;
  /** Swap out a program already on the interface (see XdpAttachOptions.replace). */
  readonly replace?: boolean;
  /** Another build of xdp_firewall.bpf.o (a path or its bytes); default: the one shipped in bpf/. */
  readonly object?: string | Uint8Array;
  /** Where to pin with `persist` (default /sys/fs/bpf/kernelkit/<ifname>). */
  readonly pinDir?: string;
}

const counterCodec: Codec<StructValue> = codec.struct(kk_counter);
const asCounter = (v: StructValue | undefined): Counter => ({
  packets: v?.packets ?? 0,
  bytes: v?.bytes ?? 0,
});

/** The path of the firewall object shipped with kernelkit. */
export function firewallObjectPath(): string {
  const url = new URL("../../bpf/xdp_firewall.bpf.o", import.meta.url);
  if (url.protocol !== "file:") {
    throw new KernelError({
      errno: ERRNO.ENOENT,
      syscall: "open",
      subject: url.href,
      message: `the shipped BPF object is not a local file (${url.href})`,
      hint: "pass `object` with the path or bytes of xdp_firewall.bpf.o",
    });
  }
  return fileURLToPath(url);
}

type Maps = {
  v4: BpfMap<Cidr, StructValue>;
  v6: BpfMap<Cidr, StructValue>;
  stats: BpfMap<number, StructValue[]>;
};

/**
 * An XDP firewall on one interface: blocklists of IPv4 and IPv6 ranges,
 * checked against each packet's source address, and per-CPU counters.
 *
 * A firewall that is not persistent lives as long as this object: keep a
 * reference (a collected one is closed by its finalizer, which detaches it).
 */
export class XdpFirewall {
  /** The interface. */
  readonly ifname: string;
  /** The link holding the program on the interface. */
  readonly link: XdpLink;
  /** Where the state is pinned, when it is persistent. */
  readonly pinDir: string | undefined;
  readonly #object: BpfObject | undefined;
  readonly #maps: Maps;

  private constructor(ifname: string, link: XdpLink, maps: Maps, object?: BpfObject, pinDir?: string) {
    this.ifname = ifname;
    this.link = link;
    this.#maps = maps;
    this.#object = object;
    this.pinDir = pinDir;
  }

  /**
   * Loads the firewall program and attaches it to `ifname`. Without
   * `persist`, it detaches on `close()` or when the process exits.
   */
  static attach(ifname: string, options: FirewallOptions = {}): XdpFirewall {
    interfaceByName(ifname);
    const pinDir = options.persist ? options.pinDir ?? pinDirFor(ifname) : undefined;
    if (pinDir) {
      if (pinDir.startsWith(`${BPFFS_ROOT}/`)) ensureBpffs();
      if (existsSync(`${pinDir}/link`) && !options.replace) {
        throw new KernelError({
          errno: ERRNO.EEXIST,
          syscall: "bpf_obj_pin",
          message: `a kernelkit firewall is already attached to ${ifname} (pinned at ${pinDir}/link)`,
          hint:
            `use it (XdpFirewall.open, kernelkit xdp block), or detach it first: kernelkit xdp detach --dev ${ifname}`,
        });
      }
    }
    const object = BpfObject.open(options.object ?? firewallObjectPath(), {
      pinRoot: pinDir,
      name: "xdp_firewall",
    });
    try {
      object.load();
      const program = object.program("kk_firewall");
      let link: XdpLink;
      if (pinDir && existsSync(`${pinDir}/link`)) {
        // replace: swap the program inside the pinned link; the maps were reused from their pins.
        link = XdpLink.openPinned(`${pinDir}/link`);
        link.update(program);
      } else {
        link = program.attachXdp(ifname, {
          mode: options.mode,
          replace: options.replace,
          persist: pinDir ? `${pinDir}/link` : undefined,
        });
      }
      const maps: Maps = {
        v4: object.map("blocklist_v4", { key: cidr4, value: counterCodec }),
        v6: object.map("blocklist_v6", { key: cidr6, value: counterCodec }),
        stats: object.map("stats", { key: codec.u32, value: perCpuValue(counterCodec) }),
      };
      return new XdpFirewall(ifname, link, maps, object, pinDir);
    } catch (e) {
      object.close();
      throw e;
    }
  }

  /**
   * Opens the persistent firewall on `ifname` that an earlier `attach({ persist:
   * true })` (or `kernelkit xdp attach`) left pinned. Throws ENOENT when there is none.
   */
  static open(ifname: string, options: { pinDir?: string } = {}): XdpFirewall {
    const pinDir = options.pinDir ?? pinDirFor(ifname);
    if (!existsSync(`${pinDir}/link`)) {
      throw new KernelError({
        errno: ERRNO.ENOENT,
        syscall: "bpf_obj_get",
        message: `no kernelkit firewall is attached to ${ifname} (nothing pinned at ${pinDir}/link)`,
        hint: `attach one first: kernelkit xdp attach --dev ${ifname}`,
      });
    }
    const opened: Array<{ close(): void }> = [];
    try {
      const link = XdpLink.openPinned(`${pinDir}/link`);
      opened.push(link);
      const v4 = BpfMap.openPinned(`${pinDir}/blocklist_v4`, { key: cidr4, value: counterCodec });
      opened.push(v4);
      const v6 = BpfMap.openPinned(`${pinDir}/blocklist_v6`, { key: cidr6, value: counterCodec });
      opened.push(v6);
      const stats = BpfMap.openPinned(`${pinDir}/stats`, {
        key: codec.u32,
        value: perCpuValue(counterCodec),
      });
      return new XdpFirewall(ifname, link, { v4, v6, stats }, undefined, pinDir);
    } catch (e) {
      opened.forEach((o) => o.close());
      throw e;
    }
  }

  /** True when a persistent kernelkit firewall is pinned for `ifname`. */
  static isPersisted(ifname: string, options: { pinDir?: string } = {}): boolean {
    return existsSync(`${options.pinDir ?? pinDirFor(ifname)}/link`);
  }

  #mapFor(c: Cidr): BpfMap<Cidr, StructValue> {
    return c.family === 4 ? this.#maps.v4 : this.#maps.v6;
  }

  /**
   * Blocks a range ("203.0.113.0/24", "198.51.100.7", "2001:db8::/32"); returns
   * false when it was already blocked. An invalid range is EINVAL.
   */
  block(cidr: string): boolean {
    const c = parseCidr(cidr);
    // Not has(): a lookup in an LPM trie is a longest-prefix match, so it finds a blocked range
    // that covers `c` (10.0.0.0/8 for 10.1.0.0/16). NOEXIST compares the exact prefix.
    try {
      this.#mapFor(c).set(c, { packets: 0, bytes: 0 }, "noexist");
      return true;
    } catch (e) {
      if (e instanceof KernelError && e.errno === ERRNO.EEXIST) return false;
      throw e;
    }
  }

  /** Unblocks a range; returns false when it wasn't blocked (an exact match is needed). */
  unblock(cidr: string): boolean {
    const c = parseCidr(cidr);
    return this.#mapFor(c).delete(c);
  }

  /** The blocked ranges, IPv4 first, each with the packets and bytes it dropped. */
  list(): BlockedRange[] {
    const out: BlockedRange[] = [];
    for (const map of [this.#maps.v4, this.#maps.v6]) {
      for (const [k, v] of map.entries()) out.push({ cidr: formatCidr(k), ...asCounter(v) });
    }
    return out;
  }

  /** The counters, summed over CPUs. */
  stats(): FirewallStats {
    const reasons = {} as Record<FirewallReason, Counter>;
    FIREWALL_REASONS.forEach((r, i) => (reasons[r] = asCounter(sum(this.#maps.stats.get(i) ?? []))));
    const add = (names: FirewallReason[]): Counter => ({
      packets: names.reduce((n, r) => n + reasons[r].packets, 0),
      bytes: names.reduce((n, r) => n + reasons[r].bytes, 0),
    });
    return {
      passed: add(["ipv4", "ipv6", "other", "malformed"]),
      dropped: add(["blocked_ipv4", "blocked_ipv6"]),
      reasons,
    };
  }

  /**
   * Detaches the program now and removes the pins (the maps go away with
   * their last reference). Then closes.
   */
  detach(): void {
    this.link.detach();
    this.close();
    if (this.pinDir) removePins(this.pinDir);
  }

  /**
   * Releases this process's fds. A persistent firewall stays attached; any
   * other detaches now. Closing twice is harmless.
   */
  close(): void {
    this.link.close();
    for (const m of Object.values(this.#maps)) m.close();
    this.#object?.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Removes a firewall's pins and its directory, and the kernelkit directory when it is left empty. */
function removePins(dir: string): void {
  for (const name of ["link", "blocklist_v4", "blocklist_v6", "stats"]) {
    rmSync(`${dir}/${name}`, { force: true });
  }
  try {
    rmdirSync(dir);
    const parent = dir.slice(0, dir.lastIndexOf("/"));
    if (parent.endsWith("/kernelkit") && readdirSync(parent).length === 0) rmdirSync(parent);
  } catch {
    // Something else lives there: leave it.
  }
}
