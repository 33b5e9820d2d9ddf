/**
 * A packet generator that sends frames out of a veth as XDP frames: BPF_PROG_RUN
 * in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES, Linux 5.18) runs
 * bpf/xdp_flood.bpf.c on a template frame many times, and each run redirects a
 * copy out of the interface. The veth's peer receives xdp_frames, with no
 * sk_buff built, which is how a real NIC hands frames to XDP.
 *
 * When the kernel refuses that path, `flood` falls back to an AF_PACKET socket
 * (sendmmsg), whose frames reach the peer as ready-made sk_buffs, and says so.
 *
 * It floods only inside a network namespace that is not the host's, for a
 * bounded count and time: it is a tool for veth pairs in test namespaces.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { runtime } from "../../ffi/runtime/mod.ts";
import { BPF_F_TEST_XDP_LIVE_FRAMES } from "../../ffi/structs/bpf.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { ETH_P_IP, PACKET_QDISC_BYPASS, sockaddr_ll } from "../../ffi/structs/if_packet.ts";
import { bpf_test_run_opts } from "../../ffi/structs/libbpf.ts";
import { AF_PACKET, mmsghdr, SOCK_CLOEXEC, SOCK_RAW, SOL_PACKET } from "../../ffi/structs/socket.ts";
import { iovec } from "../../ffi/structs/uio.ts";
import { KernelError } from "../errors.ts";
import { check, errno, libbpf, sys } from "../native.ts";
import {
  interfaceByName,
  namedNetworkNamespace,
  type NetInterface,
  networkNamespace,
} from "../net/interfaces.ts";
import { udpFrame } from "../net/frames.ts";
import { codec } from "./codec.ts";
import { checkLibbpf, stableBytes } from "./libbpf_call.ts";
import { BpfObject } from "./object.ts";

/** How {@link flood} generated the frames. */
export type FloodMethod = "live-frames" | "af-packet";

/** Options of {@link flood}. */
export interface FloodOptions {
  /** The frame to send (default: a 60-byte UDP/IPv4 frame from `udpFrame()`). */
  readonly frame?: Uint8Array;
  /** How many frames at most (default 1 000 000; at most 1e9). */
  readonly count?: number;
  /** How long at most, in seconds (default 5; at most 60). */
  readonly seconds?: number;
  /** "auto" (default): live frames, falling back to AF_PACKET; or force one. */
  readonly method?: "auto" | FloodMethod;
  /** Frames per batch (live frames: the kernel's batch_size; AF_PACKET: per sendmmsg). Default 64. */
  readonly batchSize?: number;
  /** Another build of xdp_flood.bpf.o (a path or its bytes). */
  readonly object?: string | Uint8Array;
}

/** The outcome of {@link flood}. */
export interface FloodResult {
  /** How the frames were generated. */
  readonly method: FloodMethod;
  /** The interface they left through. */
  readonly ifname: string;
  /** Frames handed to the interface. */
  readonly packets: number;
  /** Wall time of the sending, in seconds (loading the generator not included). */
  readonly seconds: number;
  /** packets / seconds. */
  readonly pps: number;
  /** When "auto" fell back to AF_PACKET: the live-frames error. */
  readonly fallback: string | undefined;
}

const MAX_COUNT = 1e9;
const MAX_SECONDS = 60;

function shippedObject(): string {
  return fileURLToPath(new URL("../../bpf/xdp_flood.bpf.o", import.meta.url));
}

type Sent = { packets: number; seconds: number };

function liveFrames(
  iface: NetInterface,
  frame: Uint8Array,
  count: number,
  seconds: number,
  batch: number,
  obj: string | Uint8Array,
): Sent {
  using object = BpfObject.open(obj, { name: "xdp_flood" }).load();
  object.map("target", { key: codec.u32, value: codec.u32 }).set(0, iface.index);
  const prog = object.program("kk_flood");
  const data = stableBytes(frame.length);
  data.set(frame);
  const opts = bpf_test_run_opts.alloc();
  const v = new DataView(opts.buffer);
  const w = (f: string, x: number) => bpf_test_run_opts.write(v, 0, f, x);
  w("sz", opts.length);
  w("data_in", runtime().addressOf(data));
  w("data_size_in", data.length);
  w("flags", BPF_F_TEST_XDP_LIVE_FRAMES);
  w("batch_size", batch);
  const start = performance.now();
  const end = start + seconds * 1000;
  let sent = 0;
  while (sent < count && performance.now() < end) {
    const chunk = Math.min(count - sent, 262_144);
    w("repeat", chunk);
    checkLibbpf(libbpf().symbols.bpf_prog_test_run_opts(prog.fd, opts), "bpf_prog_test_run_opts", {
      subject: `live frames out of ${iface.name}`,
    });
    sent += chunk;
  }
  return { packets: sent, seconds: (performance.now() - start) / 1000 };
}

function afPacket(
  iface: NetInterface,
  frame: Uint8Array,
  count: number,
  seconds: number,
  batch: number,
): Sent {
  const s = sys();
  const fd = check(s.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0), "socket", {
    subject: "AF_PACKET",
    hint: "packet sockets need CAP_NET_RAW: run as root",
  });
  try {
    const addr = sockaddr_ll.alloc();
    const av = new DataView(addr.buffer);
    sockaddr_ll.write(av, 0, "sll_family", AF_PACKET);
    av.setUint16(sockaddr_ll.offsetof("sll_protocol"), ETH_P_IP, false);
    sockaddr_ll.write(av, 0, "sll_ifindex", iface.index);
    check(s.bind(fd, addr, addr.length), "bind", { subject: `AF_PACKET to ${iface.name}` });
    s.setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, new Int32Array([1]), 4);
    // One native block: the frame, one iovec, `batch` message headers all pointing at it.
    const iovAt = Math.ceil(frame.length / 8) * 8;
    const msgAt = iovAt + iovec.size;
    const mem = stableBytes(msgAt + mmsghdr.size * batch);
    mem.set(frame);
    const base = runtime().addressOf(mem);
    const mv = new DataView(mem.buffer);
    iovec.write(mv, iovAt, "iov_base", base);
    iovec.write(mv, iovAt, "iov_len", frame.length);
    for (let i = 0; i < batch; i++) {
      mmsghdr.write(mv, msgAt + i * mmsghdr.size, "msg_hdr.msg_iov", base + iovAt);
      mmsghdr.write(mv, msgAt + i * mmsghdr.size, "msg_hdr.msg_iovlen", 1);
    }
    const start = performance.now();
    const end = start + seconds * 1000;
    let sent = 0;
    while (sent < count) {
      if ((sent & 0xffff) < batch && performance.now() >= end) break;
      const n = s.sendmmsg(fd, base + msgAt, Math.min(batch, count - sent), 0);
      if (n < 0) {
        const e = errno();
        if (e === ERRNO.ENOBUFS || e === ERRNO.EAGAIN || e === ERRNO.EINTR) continue;
        throw new KernelError({ errno: e, syscall: "sendmmsg", subject: `AF_PACKET on ${iface.name}` });
      }
      sent += n;
    }
    return { packets: sent, seconds: (performance.now() - start) / 1000 };
  } finally {
    s.close(fd);
  }
}

/**
 * Sends `count` copies of a frame out of `ifname` (a veth, inside a network
 * namespace that is not the host's), for at most `seconds`. Returns how many
 * went, how fast, and by which method.
 *
 * Needs CAP_BPF and CAP_NET_ADMIN (live frames) or CAP_NET_RAW (AF_PACKET).
 * Refuses (EPERM) in the host's network namespace, so that it can't flood a
 * real network by mistake.
 */
export function flood(ifname: string, options: FloodOptions = {}): FloodResult {
  const count = options.count ?? 1_000_000;
  const seconds = options.seconds ?? 5;
  const batch = options.batchSize ?? 64;
  if (
    !(count >= 1 && count <= MAX_COUNT) || !(seconds > 0 && seconds <= MAX_SECONDS) ||
    !(batch >= 1 && batch <= 256)
  ) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "flood",
      message: `flood is bounded: count 1 to ${MAX_COUNT}, seconds up to ${MAX_SECONDS}, batchSize 1 to 256`,
    });
  }
  const ns = networkNamespace();
  if (ns.host === true || (ns.host === null && namedNetworkNamespace() === undefined)) {
    throw new KernelError({
      errno: ERRNO.EPERM,
      syscall: "flood",
      message: ns.host
        ? "flood refuses to run in the host's network namespace"
        : "flood could not tell that this network namespace is not the host's (pid 1's is unreadable and it is not one of `ip netns`)",
      hint:
        "run it inside a namespace of its own, on one end of a veth pair: ip netns exec NS kernelkit xdp flood --dev VETH",
    });
  }
  const iface = interfaceByName(ifname);
  const frame = options.frame ?? udpFrame();
  const method = options.method ?? "auto";
  let fallback: string | undefined;
  let sent: Sent = { packets: 0, seconds: 0 };
  let used: FloodMethod = "live-frames";
  if (method !== "af-packet") {
    try {
      sent = liveFrames(iface, frame, count, seconds, batch, options.object ?? shippedObject());
    } catch (e) {
      if (method === "live-frames" || !(e instanceof KernelError)) throw e;
      fallback = `live frames refused: ${e.message}`;
    }
  }
  if (method === "af-packet" || fallback) {
    used = "af-packet";
    sent = afPacket(iface, frame, count, seconds, batch);
  }
  const { packets, seconds: elapsed } = sent;
  return { method: used, ifname: iface.name, packets, seconds: elapsed, pps: packets / elapsed, fallback };
}
