/**
 * Names of BPF map and program types, from the constants in ffi/structs/bpf.ts.
 *
 * @module
 */
import * as uapi from "../../ffi/structs/bpf.ts";

function table(prefix: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const [name, value] of Object.entries(uapi)) {
    if (name.startsWith(prefix) && typeof value === "number" && !out.has(value)) {
      out.set(value, name.slice(prefix.length).toLowerCase());
    }
  }
  return out;
}

const mapTypes = table("BPF_MAP_TYPE_");
const progTypes = table("BPF_PROG_TYPE_");

/** "hash", "lpm_trie", "percpu_array" ... for a BPF_MAP_TYPE_* value ("type 42" when unknown). */
export function mapTypeName(type: number): string {
  return mapTypes.get(type) ?? `type ${type}`;
}

/** "xdp", "socket_filter" ... for a BPF_PROG_TYPE_* value ("type 42" when unknown). */
export function progTypeName(type: number): string {
  return progTypes.get(type) ?? `type ${type}`;
}
