/**
 * The kernel's BTF: which functions fentry/fexit can attach to and which
 * tracepoints have a BTF-typed (tp_btf) form, looked up by name in
 * /sys/kernel/btf/vmlinux and the modules' BTF, through libbpf.
 *
 * Lookups parse the BTF each time (some tens of milliseconds): they run when a
 * program is retargeted or an attach fails, not per event.
 *
 * @module
 */
import { existsSync, readdirSync } from "node:fs";
import { BTF_KIND_FUNC, BTF_KIND_TYPEDEF } from "../../ffi/structs/btf.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import { cString, libbpf } from "../native.ts";

/** Where the running kernel's own BTF is (CONFIG_DEBUG_INFO_BTF). */
export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

/** True when the kernel exposes its BTF, which fentry, fexit and tp_btf need. */
export function kernelBtfAvailable(): boolean {
  return existsSync(VMLINUX_BTF);
}

/**
 * The BTF objects to search, vmlinux first, then each module's on demand.
 * `visit` returns true to stop; every parsed BTF is freed before returning.
 */
function searchBtf(visit: (btf: number, where: string) => boolean): boolean {
  const lib = libbpf().symbols;
  const vmlinux = lib.btf__load_vmlinux_btf();
  if (vmlinux === 0) return false;
  try {
    if (visit(vmlinux, "vmlinux")) return true;
    let modules: string[] = [];
    try {
      modules = readdirSync("/sys/kernel/btf").filter((m) => m !== "vmlinux");
    } catch {
      return false;
    }
    for (const m of modules) {
      const btf = lib.btf__parse_split(cString(`/sys/kernel/btf/${m}`), vmlinux);
      if (btf === 0) continue;
      try {
        if (visit(btf, m)) return true;
      } finally {
        lib.btf__free(btf);
      }
    }
    return false;
  } finally {
    lib.btf__free(vmlinux);
  }
}

/** Where a kernel type of this name and BTF kind is: "vmlinux", a module's name, or undefined. */
export function findKernelType(name: string, kind: number): string | undefined {
  let found: string | undefined;
  const bytes = cString(name);
  searchBtf((btf, where) => {
    if (libbpf().symbols.btf__find_by_name_kind(btf, bytes, kind) > 0) found = where;
    return found !== undefined;
  });
  return found;
}

/** True when the kernel (or a loaded module) has a function of this name that fentry/fexit can attach to. */
export function kernelFunctionExists(name: string): boolean {
  return findKernelType(name, BTF_KIND_FUNC) !== undefined;
}

/** True when tracepoint `name` has a BTF-typed form (the typedef btf_trace_<name>) that tp_btf can attach to. */
export function btfTracepointExists(name: string): boolean {
  return findKernelType(`btf_trace_${name}`, BTF_KIND_TYPEDEF) !== undefined;
}

const syscallPrefixes = ["__x64_sys_", "__ia32_sys_", "__arm64_sys_", "__se_sys_", "__do_sys_", "ksys_", "sys_"];

/**
 * Kernel functions with names close to `name` that exist: the forms of a
 * system call's entry point (`__do_sys_getppid` for `getppid` or
 * `__x64_sys_getppid`, which BTF doesn't list when it is an alias).
 */
export function similarKernelFunctions(name: string): string[] {
  let base = name;
  for (const p of syscallPrefixes) {
    if (base.startsWith(p)) {
      base = base.slice(p.length);
      break;
    }
  }
  const candidates = [
    `__do_sys_${base}`,
    `__se_sys_${base}`,
    `__x64_sys_${base}`,
    `__arm64_sys_${base}`,
    `ksys_${base}`,
    `do_sys_${base}`,
    `do_${base}`,
    `vfs_${base}`,
    base,
  ].filter((c) => c !== name);
  const out: string[] = [];
  searchBtf((btf) => {
    for (const c of candidates) {
      if (!out.includes(c) && libbpf().symbols.btf__find_by_name_kind(btf, cString(c), BTF_KIND_FUNC) > 0) {
        out.push(c);
      }
    }
    return false;
  });
  return out;
}

/**
 * The KernelError (ENOENT) for a kernel function that BTF doesn't list, with
 * the close names that do exist.
 */
export function missingKernelFunction(name: string, syscall: string, what: string): KernelError {
  if (!kernelBtfAvailable()) {
    return new KernelError({
      errno: ERRNO.ENOENT,
      syscall,
      message: `${what}: this kernel has no BTF (${VMLINUX_BTF}), so it can't attach to "${name}"`,
      hint: "fentry, fexit and tp_btf need a kernel built with CONFIG_DEBUG_INFO_BTF",
    });
  }
  const similar = similarKernelFunctions(name);
  return new KernelError({
    errno: ERRNO.ENOENT,
    syscall,
    message: `${what}: the kernel has no function "${name}" (not in ${VMLINUX_BTF} or any module's BTF)`,
    hint: similar.length
      ? `did you mean ${similar.map((s) => `"${s}"`).join(" or ")}? (a system call's body is __do_sys_<name>)`
      : "list the functions with `bpftool btf dump file /sys/kernel/btf/vmlinux | grep \"FUNC '\"`; static functions that were inlined can't be traced",
  });
}
