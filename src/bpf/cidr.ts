/**
 * IPv4 and IPv6 address ranges (CIDR notation), and the LPM-trie keys that
 * hold them: `struct { __u32 prefixlen; __u8 addr[4 or 16]; }`, the address in
 * network byte order, as BPF_MAP_TYPE_LPM_TRIE expects.
 *
 * @module
 */
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import { formatIp, parseV4, parseV6 } from "../net/address.ts";
import type { Codec } from "./codec.ts";

/** An address range: family, network address bytes (host bits cleared) and prefix length. */
export interface Cidr {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The network address, 4 or 16 bytes in network order, host bits zero. */
  readonly address: Uint8Array;
  /** Prefix length in bits (0 to 32, or 0 to 128). */
  readonly prefix: number;
}

function invalid(text: string, why: string): KernelError {
  return new KernelError({
    errno: ERRNO.EINVAL,
    syscall: "parseCidr",
    message: `"${text}" is not a valid address range: ${why}`,
    hint:
      "write an IPv4 or IPv6 address with an optional prefix length, such as 203.0.113.0/24, 198.51.100.7 or 2001:db8::/32",
  });
}

/**
 * Parses "203.0.113.0/24", "198.51.100.7" (a /32), "2001:db8::/32" or "::1"
 * (a /128). Host bits past the prefix are cleared: "10.1.2.3/8" is 10.0.0.0/8.
 * Anything else is a KernelError with code EINVAL that says what is wrong.
 */
export function parseCidr(text: string): Cidr {
  const s = text.trim();
  const slash = s.indexOf("/");
  const addr = slash < 0 ? s : s.slice(0, slash);
  const family: 4 | 6 = addr.includes(":") ? 6 : 4;
  const parsed = family === 4 ? parseV4(addr) : parseV6(addr);
  if (typeof parsed === "string") throw invalid(text, parsed);
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw invalid(text, `the prefix length must be 0 to ${max}`);
    prefix = Number(p);
  }
  for (let bit = prefix; bit < max; bit++) parsed[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { family, address: parsed, prefix };
}

/** The canonical text of a range: "203.0.113.0/24", "2001:db8::/32". */
export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.address)}/${cidr.prefix}`;
}

/** The text of a 4- or 16-byte address; IPv6 in RFC 5952 form (longest zero run as "::"). */
export function formatAddress(address: Uint8Array): string {
  return formatIp(address);
}

/** True when `address` (4 or 16 bytes) lies in `cidr`. */
export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  if (address.length !== cidr.address.length) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((address[bit >> 3] & m) !== (cidr.address[bit >> 3] & m)) return false;
  }
  return true;
}

function lpmKey(family: 4 | 6): Codec<Cidr> {
  const len = family === 4 ? 4 : 16;
  return {
    size: 4 + len,
    encode(value, into) {
      if (value.family !== family) {
        throw new RangeError(`an IPv${value.family} range can't be a key of an IPv${family} LPM trie`);
      }
      new DataView(into.buffer, into.byteOffset, into.byteLength).setUint32(0, value.prefix, true);
      into.set(value.address, 4);
    },
    decode(bytes) {
      const prefix = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
      return { family, prefix, address: bytes.slice(4, 4 + len) };
    },
  };
}

/** LPM-trie key codec for IPv4 ranges: `struct { __u32 prefixlen; __u8 addr[4]; }`. */
export const cidr4: Codec<Cidr> = lpmKey(4);
/** LPM-trie key codec for IPv6 ranges: `struct { __u32 prefixlen; __u8 addr[16]; }`. */
export const cidr6: Codec<Cidr> = lpmKey(6);
