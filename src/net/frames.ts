/**
 * Building Ethernet frames byte by byte: UDP over IPv4 or IPv6, optionally
 * VLAN-tagged, with correct checksums. For packet generators and tests.
 *
 * @module
 */
import { ETH_HLEN, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6 } from "../../ffi/structs/if_packet.ts";
import { IPPROTO_UDP } from "../../ffi/structs/socket.ts";
import { parseCidr } from "../bpf/cidr.ts";

/** Options of {@link udpFrame}. */
export interface UdpFrameOptions {
  /** Source address (IPv4 or IPv6; both addresses must be the same family). Default 198.18.0.1. */
  readonly src?: string;
  /** Destination address. Default 198.18.0.2. */
  readonly dst?: string;
  /** UDP source port (default 9). */
  readonly srcPort?: number;
  /** UDP destination port (default 9, discard). */
  readonly dstPort?: number;
  /** Total frame length in bytes, Ethernet header included (default and minimum: the headers, padded to 60). */
  readonly size?: number;
  /** Source MAC "02:00:00:00:00:01" (default a locally administered one). */
  readonly srcMac?: string;
  /** Destination MAC (default broadcast; use the receiver's for the IP stack to take it as its own). */
  readonly dstMac?: string;
  /** An 802.1Q VLAN id to tag the frame with. */
  readonly vlan?: number;
}

function mac(text: string): Uint8Array {
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(`"${text}" is not a MAC address like 02:00:00:00:00:01`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

function onesComplement(bytes: Uint8Array, start = 0): number {
  let s = start;
  for (let i = 0; i + 1 < bytes.length; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length & 1) s += bytes[bytes.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The internet checksum (RFC 1071) of `bytes`, with `seed` added (a pseudo-header sum). */
export function internetChecksum(bytes: Uint8Array, seed = 0): number {
  const c = ~onesComplement(bytes, seed) & 0xffff;
  return c;
}

/**
 * A UDP datagram in an Ethernet frame: IPv4 (header checksum set, so that
 * the receiving stack and netfilter accept it) or IPv6 (UDP checksum set, as
 * IPv6 requires). The payload is zeros.
 */
export function udpFrame(options: UdpFrameOptions = {}): Uint8Array {
  const src = parseCidr(options.src ?? "198.18.0.1");
  const dst = parseCidr(options.dst ?? "198.18.0.2");
  if (src.family !== dst.family) {
    throw new RangeError("source and destination must both be IPv4 or both IPv6");
  }
  const v6 = src.family === 6;
  const l2 = ETH_HLEN + (options.vlan !== undefined ? 4 : 0);
  const l3 = v6 ? 40 : 20;
  const min = Math.max(60, l2 + l3 + 8);
  const size = Math.max(options.size ?? min, min);
  const f = new Uint8Array(size);
  const v = new DataView(f.buffer);
  f.set(mac(options.dstMac ?? "ff:ff:ff:ff:ff:ff"), 0);
  f.set(mac(options.srcMac ?? "02:6b:6b:00:00:01"), 6);
  let at = 12;
  if (options.vlan !== undefined) {
    v.setUint16(at, ETH_P_8021Q);
    v.setUint16(at + 2, options.vlan & 0x0fff);
    at += 4;
  }
  v.setUint16(at, v6 ? ETH_P_IPV6 : ETH_P_IP);
  const ip = at + 2;
  const udpLen = size - ip - l3;
  const udp = ip + l3;
  if (v6) {
    v.setUint32(ip, 0x60000000);
    v.setUint16(ip + 4, udpLen);
    f[ip + 6] = IPPROTO_UDP;
    f[ip + 7] = 64;
    f.set(src.address, ip + 8);
    f.set(dst.address, ip + 24);
  } else {
    f[ip] = 0x45;
    v.setUint16(ip + 2, size - ip);
    f[ip + 8] = 64;
    f[ip + 9] = IPPROTO_UDP;
    f.set(src.address, ip + 12);
    f.set(dst.address, ip + 16);
    v.setUint16(ip + 10, internetChecksum(f.subarray(ip, ip + 20)));
  }
  v.setUint16(udp, options.srcPort ?? 9);
  v.setUint16(udp + 2, options.dstPort ?? 9);
  v.setUint16(udp + 4, udpLen);
  if (v6) {
    // Pseudo-header: addresses, UDP length, next header.
    const seed = onesComplement(f.subarray(ip + 8, ip + 40)) + udpLen + IPPROTO_UDP;
    const sum = internetChecksum(f.subarray(udp, udp + udpLen), seed);
    v.setUint16(udp + 6, sum === 0 ? 0xffff : sum);
  }
  return f;
}
