/**
 * XDP: attaching a program at an interface's receive path with a bpf_link,
 * and asking what is attached.
 *
 * A link (BPF_LINK_CREATE, what libbpf's bpf_program__attach_xdp does) belongs
 * to the fds that refer to it: it detaches when the last one closes, which
 * includes the process exiting or being killed. Pinning it on bpffs
 * (`persist`) keeps it until the pin is removed. Programs attached the older
 * way, through netlink (`ip link set dev X xdp obj ...`, bpf_xdp_attach),
 * stay until someone removes them.
 *
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { bpf_link_info, BPF_LINK_TYPE_XDP, BPF_XDP } from "../../ffi/structs/bpf.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import {
  XDP_ATTACHED_DRV,
  XDP_ATTACHED_HW,
  XDP_ATTACHED_MULTI,
  XDP_ATTACHED_SKB,
  XDP_FLAGS_DRV_MODE,
  XDP_FLAGS_SKB_MODE,
} from "../../ffi/structs/if_link.ts";
import { bpf_link_create_opts, bpf_xdp_query_opts } from "../../ffi/structs/libbpf.ts";
import { KernelError } from "../errors.ts";
import { cString, libbpf, sys } from "../native.ts";
import { interfaceByName, type NetInterface } from "../net/interfaces.ts";
import { checkLibbpf, libbpfError } from "./libbpf_call.ts";
import { BPFFS_ROOT, ensureBpffs, pinDirFor } from "./pin.ts";
import { programInfo } from "./program.ts";

/** Where an XDP program runs: in the driver (native), after the skb is built (generic), or on the NIC (offload). */
export type XdpAttachMode = "native" | "generic" | "offload";

/** The mode asked for: "auto" tries native and falls back to generic. */
export type XdpMode = "native" | "generic" | "auto";

/** Options of {@link attachXdp}. */
export interface XdpAttachOptions {
  /**
   * "native" (in the driver, before an skb exists), "generic" (any device,
   * after the skb is built), or "auto" (the default): native, and generic when
   * the driver has no XDP support; the link's `fallback` then says why.
   */
  readonly mode?: XdpMode;
  /**
   * When the interface already has an XDP program: swap it for this one.
   * A program held by a link is swapped atomically (BPF_LINK_UPDATE) and the
   * link keeps its pins and owners; one attached through netlink is detached
   * first. Without `replace`, an occupied interface is an EBUSY error naming
   * the holder.
   */
  readonly replace?: boolean;
  /**
   * Pin the link on bpffs so that it outlives this process: `true` pins it at
   * `/sys/fs/bpf/kernelkit/<ifname>/link`, a string at that path. Only
   * `detach()` (or removing the pin) detaches it then.
   */
  readonly persist?: boolean | string;
}

/** The parts of a loaded program an attach needs. */
export interface AttachableProgram {
  /** The program's fd. */
  readonly fd: number;
  /** Its name, for messages. */
  readonly name: string;
}

const modeFlags: Record<"native" | "generic", number> = {
  native: XDP_FLAGS_DRV_MODE,
  generic: XDP_FLAGS_SKB_MODE,
};

/** One program attached to an interface, as {@link queryXdp} reports it. */
export interface XdpAttachment {
  /** Where it runs. */
  readonly mode: XdpAttachMode;
  /** The program's id. */
  readonly programId: number;
  /** The program's name (cut to 15 characters by the kernel), or "" when it can't be read. */
  readonly programName: string;
  /** The id of the bpf_link holding it, or undefined when it was attached through netlink. */
  readonly linkId: number | undefined;
}

/** What {@link queryXdp} found on an interface. */
export interface XdpQueryResult {
  /** The interface's name. */
  readonly ifname: string;
  /** Its index. */
  readonly ifindex: number;
  /** The attached programs: none, or one per mode in use. */
  readonly attachments: readonly XdpAttachment[];
}

/** The XDP links on this host, by program id and ifindex, from bpf_link_get_next_id. */
function xdpLinks(): Array<{ id: number; programId: number; ifindex: number }> {
  const lib = libbpf().symbols;
  const next = new Uint32Array(1);
  const out: Array<{ id: number; programId: number; ifindex: number }> = [];
  const info = bpf_link_info.alloc();
  const v = new DataView(info.buffer);
  const len = new Uint32Array(1);
  for (let id = 0; lib.bpf_link_get_next_id(id, next) === 0;) {
    id = next[0];
    const fd = lib.bpf_link_get_fd_by_id(id);
    if (fd < 0) continue;
    try {
      info.fill(0);
      len[0] = info.length;
      if (lib.bpf_obj_get_info_by_fd(fd, info, len) !== 0) continue;
      if (bpf_link_info.read(v, 0, "type") !== BPF_LINK_TYPE_XDP) continue;
      out.push({
        id,
        programId: bpf_link_info.read(v, 0, "prog_id"),
        ifindex: bpf_link_info.read(v, 0, "xdp.ifindex"),
      });
    } finally {
      sys().close(fd);
    }
  }
  return out;
}

function programNameById(id: number): string {
  const fd = libbpf().symbols.bpf_prog_get_fd_by_id(id);
  if (fd < 0) return "";
  try {
    return programInfo(fd).name;
  } catch {
    return "";
  } finally {
    sys().close(fd);
  }
}

function queryIndex(iface: NetInterface): XdpQueryResult {
  const opts = bpf_xdp_query_opts.alloc();
  const v = new DataView(opts.buffer);
  bpf_xdp_query_opts.write(v, 0, "sz", opts.length);
  checkLibbpf(libbpf().symbols.bpf_xdp_query(iface.index, 0, opts), "bpf_xdp_query", { subject: iface.name });
  const r = (f: string) => bpf_xdp_query_opts.read(v, 0, f);
  const found: Array<[XdpAttachMode, number]> = [];
  const attachMode = r("attach_mode");
  if (attachMode === XDP_ATTACHED_MULTI) {
    if (r("drv_prog_id")) found.push(["native", r("drv_prog_id")]);
    if (r("skb_prog_id")) found.push(["generic", r("skb_prog_id")]);
    if (r("hw_prog_id")) found.push(["offload", r("hw_prog_id")]);
  } else if (attachMode !== 0) {
    const mode: XdpAttachMode = attachMode === XDP_ATTACHED_DRV
      ? "native"
      : attachMode === XDP_ATTACHED_SKB
      ? "generic"
      : attachMode === XDP_ATTACHED_HW
      ? "offload"
      : "native";
    found.push([mode, r("prog_id")]);
  }
  const links = found.length ? xdpLinks() : [];
  return {
    ifname: iface.name,
    ifindex: iface.index,
    attachments: found.map(([mode, programId]) => ({
      mode,
      programId,
      programName: programNameById(programId),
      linkId: links.find((l) => l.programId === programId && l.ifindex === iface.index)?.id,
    })),
  };
}

/** What XDP programs are attached to `ifname`: mode, program id and name, and the link holding each. */
export function queryXdp(ifname: string): XdpQueryResult {
  return queryIndex(interfaceByName(ifname));
}

/** The processes holding an fd of bpf link `linkId`, from /proc/PID/fdinfo (readable as root). */
export function linkHolders(linkId: number): Array<{ pid: number; command: string }> {
  const out: Array<{ pid: number; command: string }> = [];
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
        const text = readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8");
        if (new RegExp(`^link_id:\\s*${linkId}$`, "m").test(text)) {
          out.push({ pid: Number(pid), command: readFileSync(`/proc/${pid}/comm`, "utf8").trim() });
          break;
        }
      }
    } catch {
      // The process exited, or we may not look.
    }
  }
  return out;
}

/** A sentence naming who holds the XDP hook of an interface. */
export function describeHolder(ifname: string, a: XdpAttachment): string {
  const prog = `program ${a.programName ? `"${a.programName}" ` : ""}(id ${a.programId}) in ${a.mode} mode`;
  if (a.linkId === undefined) {
    return `${ifname} already has XDP ${prog}, attached through netlink: remove it with \`ip link set dev ${ifname} xdp off\``;
  }
  const holders = linkHolders(a.linkId).map((h) => `${h.command} (pid ${h.pid})`);
  const who = holders.length ? `held by ${holders.join(", ")}` : "held by a pin on bpffs or another process";
  return `${ifname} already has XDP ${prog} through bpf_link ${a.linkId}, ${who}: detach it first (kernelkit xdp detach --dev ${ifname} for kernelkit's), or pass replace: true`;
}

/**
 * An XDP program attached to an interface through a bpf_link.
 *
 * `close()` releases this process's fd: the program detaches then, unless the
 * link is pinned. The kernel also detaches it when the process exits, even on
 * SIGKILL. A pinned link stays until `detach()` or until its pin is removed.
 *
 * Keep a reference for as long as the program should stay attached: an
 * unpinned XdpLink that is garbage-collected is closed by its finalizer, and
 * the program detaches then.
 */
export class XdpLink {
  /** The interface. */
  readonly ifname: string;
  /** Its index. */
  readonly ifindex: number;
  /** Where the program runs. */
  readonly mode: XdpAttachMode;
  /** The link's id. */
  readonly id: number;
  /** With mode "auto": why native mode was refused and generic used instead. */
  readonly fallback: string | undefined;
  #fd: number;
  #pinnedAt: string | undefined;

  /** Created by {@link attachXdp} and {@link XdpLink.openPinned}. */
  constructor(fd: number, iface: NetInterface, mode: XdpAttachMode, fallback?: string, pinnedAt?: string) {
    this.#fd = fd;
    this.ifname = iface.name;
    this.ifindex = iface.index;
    this.mode = mode;
    this.fallback = fallback;
    this.#pinnedAt = pinnedAt;
    const info = bpf_link_info.alloc();
    const len = new Uint32Array([info.length]);
    checkLibbpf(libbpf().symbols.bpf_obj_get_info_by_fd(fd, info, len), "bpf_obj_get_info_by_fd", {
      subject: `link on ${iface.name}`,
    });
    this.id = bpf_link_info.read(new DataView(info.buffer), 0, "id");
    registry.register(this, fd, this);
  }

  /**
   * Opens a link pinned on bpffs (by `persist`, or by `kernelkit xdp attach`).
   * Closing the returned XdpLink leaves it attached; `detach()` removes it.
   */
  static openPinned(path: string): XdpLink {
    const lib = libbpf().symbols;
    const fd = checkLibbpf(lib.bpf_obj_get(cString(path, "bpf_obj_get")), "bpf_obj_get", {
      subject: path,
      hint: "nothing is pinned there: check the path, and that bpffs is mounted",
    });
    const info = bpf_link_info.alloc();
    const len = new Uint32Array([info.length]);
    try {
      checkLibbpf(lib.bpf_obj_get_info_by_fd(fd, info, len), "bpf_obj_get_info_by_fd", { subject: path });
      const v = new DataView(info.buffer);
      if (bpf_link_info.read(v, 0, "type") !== BPF_LINK_TYPE_XDP) {
        throw new KernelError({
          errno: ERRNO.EINVAL,
          syscall: "bpf_obj_get",
          message: `${path} is not an XDP link`,
        });
      }
      const ifindex = bpf_link_info.read(v, 0, "xdp.ifindex");
      const ifname = interfaceNameOf(ifindex);
      const q = queryIndex({ name: ifname, index: ifindex });
      const progId = bpf_link_info.read(v, 0, "prog_id");
      const mode = q.attachments.find((a) => a.programId === progId)?.mode ?? "native";
      return new XdpLink(fd, { name: ifname, index: ifindex }, mode, undefined, path);
    } catch (e) {
      sys().close(fd);
      throw e;
    }
  }

  /** The link's fd; throws EBADF after close. */
  get fd(): number {
    if (this.#fd < 0) {
      throw new KernelError({
        errno: ERRNO.EBADF,
        syscall: "bpf_link",
        message: `the XDP link on ${this.ifname} is closed`,
      });
    }
    return this.#fd;
  }

  /** The bpffs path the link is pinned at, if any. */
  get pinnedAt(): string | undefined {
    return this.#pinnedAt;
  }

  /** Pins the link at `path` on bpffs (bpf_obj_pin): it then outlives this process. */
  pin(path: string): void {
    checkLibbpf(libbpf().symbols.bpf_obj_pin(this.fd, cString(path, "bpf_obj_pin")), "bpf_obj_pin", {
      subject: path,
      hint: "bpffs must be mounted there (mount -t bpf bpf /sys/fs/bpf) and the path must not exist yet",
    });
    this.#pinnedAt = path;
  }

  /** Swaps the attached program for another, atomically (BPF_LINK_UPDATE): no packet goes unfiltered. */
  update(program: AttachableProgram): void {
    checkLibbpf(libbpf().symbols.bpf_link_update(this.fd, program.fd, null), "bpf_link_update", {
      subject: `${this.ifname} to ${program.name}`,
    });
  }

  /**
   * Detaches the program now, even if the link is pinned or other processes
   * hold it (BPF_LINK_DETACH), removes the pin, and closes the fd.
   */
  detach(): void {
    const fd = this.fd;
    const ret = libbpf().symbols.bpf_link_detach(fd);
    if (this.#pinnedAt) rmSync(this.#pinnedAt, { force: true });
    this.#pinnedAt = undefined;
    this.close();
    // ENOLINK: already detached (the interface went away).
    if (ret < 0 && ret !== -ERRNO.ENOLINK) {
      throw libbpfError(-ret, "bpf_link_detach", { subject: this.ifname });
    }
  }

  /**
   * Releases this process's fd. An unpinned link detaches now; a pinned one
   * stays attached. Closing twice is harmless.
   */
  close(): void {
    if (this.#fd < 0) return;
    registry.unregister(this);
    sys().close(this.#fd);
    this.#fd = -1;
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

const registry = new FinalizationRegistry<number>((fd) => {
  try {
    sys().close(fd);
  } catch {
    // Best effort: the backstop must never throw.
  }
});

function interfaceNameOf(index: number): string {
  const buf = new Uint8Array(16);
  if (sys().if_indextoname(index, buf) === 0) return `ifindex ${index}`;
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end));
}

function createLink(program: AttachableProgram, iface: NetInterface, flags: number): number {
  const opts = bpf_link_create_opts.alloc();
  const v = new DataView(opts.buffer);
  bpf_link_create_opts.write(v, 0, "sz", opts.length);
  bpf_link_create_opts.write(v, 0, "flags", flags);
  return libbpf().symbols.bpf_link_create(program.fd, iface.index, BPF_XDP, opts);
}

function notNative(iface: NetInterface): KernelError {
  return new KernelError({
    errno: ERRNO.EOPNOTSUPP,
    syscall: "bpf_link_create",
    feature: `native XDP on ${iface.name}`,
    message: `the driver of ${iface.name} does not support native XDP (bpf_link_create: EOPNOTSUPP)`,
    hint: 'use mode "generic" (runs after the skb is built, on any device) or "auto"',
  });
}

/**
 * Attaches an XDP program to `ifname` with a bpf_link and returns it.
 *
 * Errors: an unknown interface is ENODEV; an interface that already has a
 * program is EBUSY naming the holder (unless `replace`); native mode on a
 * driver without XDP is EOPNOTSUPP; missing CAP_NET_ADMIN is EPERM.
 */
export function attachXdp(
  program: AttachableProgram,
  ifname: string,
  options: XdpAttachOptions = {},
): XdpLink {
  const wanted = options.mode ?? "auto";
  if (wanted !== "auto" && wanted !== "native" && wanted !== "generic") {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "bpf_link_create",
      subject: `XDP mode ${JSON.stringify(wanted)}`,
      hint: 'mode is "native" (in the driver), "generic" (after the skb is built, on any device) or "auto"',
    });
  }
  const iface = interfaceByName(ifname);
  const pinPath = options.persist === true
    ? `${pinDirFor(iface.name)}/link`
    : typeof options.persist === "string"
    ? options.persist
    : undefined;

  const current = queryIndex(iface).attachments;
  if (current.length > 0) {
    if (!options.replace) {
      throw new KernelError({
        errno: ERRNO.EBUSY,
        syscall: "bpf_link_create",
        message: describeHolder(iface.name, current[0]),
        hint: "pass replace: true to swap the program, or detach the holder first",
      });
    }
    const held = current.find((a) => a.linkId !== undefined);
    if (held) {
      const fd = checkLibbpf(libbpf().symbols.bpf_link_get_fd_by_id(held.linkId!), "bpf_link_get_fd_by_id", {
        subject: `link ${held.linkId} on ${iface.name}`,
      });
      const link = new XdpLink(fd, iface, held.mode);
      try {
        link.update(program);
        if (pinPath) pinLink(link, pinPath);
      } catch (e) {
        link.close();
        throw e;
      }
      return link;
    }
    for (const a of current) {
      const flag = a.mode === "native" ? XDP_FLAGS_DRV_MODE : a.mode === "generic" ? XDP_FLAGS_SKB_MODE : 0;
      checkLibbpf(libbpf().symbols.bpf_xdp_detach(iface.index, flag, null), "bpf_xdp_detach", {
        subject: iface.name,
      });
    }
  }

  let mode: "native" | "generic" = wanted === "generic" ? "generic" : "native";
  let fallback: string | undefined;
  let fd = createLink(program, iface, modeFlags[mode]);
  if (fd === -ERRNO.EOPNOTSUPP && mode === "native") {
    if (wanted === "native") throw notNative(iface);
    fallback =
      `the driver of ${iface.name} does not support native XDP (EOPNOTSUPP): attached in generic mode`;
    mode = "generic";
    fd = createLink(program, iface, modeFlags[mode]);
  }
  if (fd < 0) {
    const err = -fd;
    if (err === ERRNO.EBUSY) {
      const again = queryIndex(iface).attachments;
      throw new KernelError({
        errno: err,
        syscall: "bpf_link_create",
        message: again.length ? describeHolder(iface.name, again[0]) : `${iface.name} is busy`,
        hint: "pass replace: true to swap the program, or detach the holder first",
      });
    }
    throw libbpfError(err, "bpf_link_create", {
      subject: `XDP ${program.name} on ${iface.name}, ${mode} mode`,
      hint: err === ERRNO.EPERM || err === ERRNO.EACCES
        ? "attaching XDP needs CAP_NET_ADMIN (and CAP_BPF to load): run as root or grant both"
        : undefined,
    });
  }
  const link = new XdpLink(fd, iface, mode, fallback);
  if (pinPath) {
    try {
      pinLink(link, pinPath);
    } catch (e) {
      link.close();
      throw e;
    }
  }
  return link;
}

function pinLink(link: XdpLink, path: string): void {
  if (path.startsWith(`${BPFFS_ROOT}/`)) ensureBpffs();
  mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  link.pin(path);
}

/** XDP in one object, as the issue and the README spell it: `xdp.query(ifname)`, `xdp.attach(program, ifname)`. */
export const xdp: {
  /** What is attached to an interface: see {@link queryXdp}. */
  readonly query: typeof queryXdp;
  /** Attach a program with a bpf_link: see {@link attachXdp}. */
  readonly attach: typeof attachXdp;
} = { query: queryXdp, attach: attachXdp };
