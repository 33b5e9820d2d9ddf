/**
 * `doctor`: what this host lets kernelkit do, each answer measured, not assumed.
 *
 * Every row says how it was found out. A row that can't be measured says why
 * and is marked not ok; it never stops the report.
 *
 * @module
 */
import { statSync } from "node:fs";
import { runtime } from "../../ffi/runtime/mod.ts";
import { RLIMIT_MEMLOCK, rlimit } from "../../ffi/structs/resource.ts";
import { loadTrivialProgram } from "../bpf/probe.ts";
import { KernelError } from "../errors.ts";
import { check, libbpf, liburing, sys } from "../native.ts";
import { probeIoUring } from "../uring/support.ts";
import { privileges } from "./capabilities.ts";
import { HUGEPAGES_SYSFS, hugePages } from "./hugepages.ts";
import { mounts, readKernelFile } from "./procfs.ts";
import { thp, THP_SYSFS, type ThpStatus } from "./thp.ts";

/** One finding of the doctor. */
export interface DoctorRow {
  /** The area: "host", "io_uring", "liburing", "libbpf", "bpf", "memory", "privileges". */
  readonly area: string;
  /** What was checked. */
  readonly item: string;
  /** What was found. */
  readonly value: string;
  /** true: usable; false: not usable (value says why); null: informational. */
  readonly ok: boolean | null;
  /** How it was found out: the file read or the call made. */
  readonly how: string;
  /** Longer detail, such as the list of supported opcodes. */
  readonly detail?: string;
}

/** The doctor's report. */
export interface DoctorReport {
  /** The findings, in a fixed order. */
  readonly rows: readonly DoctorRow[];
}

type Finding = Omit<DoctorRow, "area" | "item" | "how">;

function failure(e: unknown): Finding {
  if (e instanceof KernelError) return { value: `no: ${e.message}`, ok: false };
  return { value: `unknown: ${e instanceof Error ? e.message : String(e)}`, ok: false };
}

function row(area: string, item: string, how: string, measure: () => Finding): DoctorRow {
  try {
    return { area, item, how, ...measure() };
  } catch (e) {
    return { area, item, how, ...failure(e) };
  }
}

const mib = (bytes: bigint): string =>
  bytes === 0xffff_ffff_ffff_ffffn ? "unlimited" : `${Number(bytes) / 1024 / 1024} MiB`;

function ioUringRows(): DoctorRow[] {
  const rows: DoctorRow[] = [];
  rows.push(row("io_uring", "sysctl kernel.io_uring_disabled", "read /proc/sys/kernel/io_uring_disabled", () => {
    const v = readKernelFile("/proc/sys/kernel/io_uring_disabled");
    if (v === undefined) return { value: "absent (kernel before 6.6: io_uring is enabled for all)", ok: true };
    const meaning = ["enabled for all", "only root and kernel.io_uring_group may create rings", "disabled"][
      Number(v)
    ] ?? "unknown value";
    return { value: `${v} (${meaning})`, ok: v !== "2" };
  }));
  let probe: ReturnType<typeof probeIoUring> | undefined;
  rows.push(row("io_uring", "ring setup", "new Ring({ entries: 4 }), then close", () => {
    probe = probeIoUring();
    return { value: `yes (features 0x${probe.features.toString(16)})`, ok: true };
  }));
  rows.push(row("io_uring", "SQPOLL", "new Ring({ sqpoll: { idleMs: 1 } }), then close", () => {
    if (!probe) return { value: "unknown: no ring could be set up", ok: false };
    return probe.sqpollError ? failure(probe.sqpollError) : { value: "allowed", ok: true };
  }));
  rows.push(row("io_uring", "opcodes", "ring.probe(): IORING_REGISTER_PROBE", () => {
    if (!probe) return { value: "unknown: no ring could be set up", ok: false };
    const supported = probe.opcodes.filter((o) => o.supported);
    return {
      value: `${supported.length} of ${probe.opcodes.length} supported`,
      ok: supported.length > 0,
      detail: supported.map((o) => o.name).join(" "),
    };
  }));
  return rows;
}

function libraryRows(): DoctorRow[] {
  return [
    row("liburing", "library", "dlopen liburing.so.2; file from /proc/self/maps; version from the file name", () => {
      const lib = liburing();
      const major = lib.symbols.io_uring_major_version?.();
      const minor = lib.symbols.io_uring_minor_version?.();
      const version = major !== undefined ? `${major}.${minor}` : /\.so\.(\d+(?:\.\d+)*)$/.exec(lib.file)?.[1];
      return { value: `${lib.file} (version ${version ?? "unknown"})`, ok: true };
    }),
    row("libbpf", "library", "dlopen libbpf.so.1; libbpf_version_string()", () => {
      const lib = libbpf();
      const version = runtime().cstring(lib.symbols.libbpf_version_string());
      return { value: `${lib.file} (version ${version})`, ok: true };
    }),
  ];
}

function bpfRows(): DoctorRow[] {
  const all = mounts();
  const mountRow = (item: string, type: string, fix: string): DoctorRow =>
    row("bpf", item, `look for type ${type} in /proc/self/mounts`, () => {
      const m = all.filter((e) => e.type === type).map((e) => e.target);
      return m.length ? { value: `mounted at ${m.join(", ")}`, ok: true } : { value: `not mounted: ${fix}`, ok: false };
    });
  return [
    row("bpf", "load a program", "bpf_prog_load(SOCKET_FILTER, r0 = 0; exit), then close", () => {
      loadTrivialProgram("socket_filter");
      return { value: "yes", ok: true };
    }),
    row("bpf", "load an XDP program", "bpf_prog_load(XDP, r0 = 0; exit), then close", () => {
      loadTrivialProgram("xdp");
      return { value: "yes", ok: true };
    }),
    row("bpf", "kernel BTF", "stat /sys/kernel/btf/vmlinux", () => {
      const st = statSync("/sys/kernel/btf/vmlinux");
      return { value: `/sys/kernel/btf/vmlinux (${(st.size / 1024 / 1024).toFixed(1)} MiB)`, ok: true };
    }),
    mountRow("bpffs", "bpf", "mount -t bpf bpf /sys/fs/bpf (needed to pin maps and links)"),
    mountRow("tracefs", "tracefs", "mount -t tracefs tracefs /sys/kernel/tracing (needed for tracepoints)"),
  ];
}

function memoryRows(): DoctorRow[] {
  const rows: DoctorRow[] = [];
  let policy: ThpStatus | undefined;
  let policyError: unknown;
  try {
    policy = thp.status();
  } catch (e) {
    policyError = e;
  }
  for (const setting of ["enabled", "defrag"] as const) {
    rows.push(row("memory", `THP ${setting}`, `thp.status(): read ${THP_SYSFS}/${setting}`, () => {
      if (!policy) {
        return policyError instanceof KernelError && policyError.code === "ENOTSUP"
          ? { value: "not available (kernel built without THP)", ok: false }
          : failure(policyError);
      }
      return { value: `${policy[setting]} (choices: ${policy.choices[setting].join(" ")})`, ok: null };
    }));
  }
  const pools = hugePages.status().pools;
  if (pools.length === 0) {
    rows.push({
      area: "memory",
      item: "hugetlb pools",
      value: "none: kernel built without HUGETLBFS",
      ok: false,
      how: `hugePages.status(): list ${HUGEPAGES_SYSFS}`,
    });
  }
  for (const p of pools) {
    const label = p.bytes >= 2 ** 30 ? `${p.bytes / 2 ** 30} GiB` : `${p.bytes / 2 ** 20} MiB`;
    const how = `hugePages.status(): read ${p.path}/{nr,free,resv,surplus}_hugepages`;
    rows.push(row("memory", `hugetlb ${label} pool`, how, () => {
      const counts = `total ${p.total}, free ${p.free}, reserved ${p.reserved}, surplus ${p.surplus}`;
      const detail = p.nodes.length > 1
        ? p.nodes.map((n) => `node${n.node}: total ${n.total}, free ${n.free}, surplus ${n.surplus}`).join("; ")
        : undefined;
      return p.total > 0
        ? { value: counts, ok: true, detail }
        : {
          value: `empty (${counts}): reserve pages as root with kernelkit hugepages reserve N --size ${p.size}`,
          ok: false,
          detail,
        };
    }));
  }
  rows.push(row("memory", "RLIMIT_MEMLOCK", "getrlimit(RLIMIT_MEMLOCK)", () => {
    const buf = rlimit.alloc();
    check(sys().getrlimit(RLIMIT_MEMLOCK, buf), "getrlimit", { subject: "RLIMIT_MEMLOCK" });
    const view = new DataView(buf.buffer);
    const cur = rlimit.readBigInt(view, 0, "rlim_cur");
    const max = rlimit.readBigInt(view, 0, "rlim_max");
    return { value: `soft ${mib(cur)}, hard ${mib(max)}`, ok: null };
  }));
  return rows;
}

function privilegeRows(): DoctorRow[] {
  const p = privileges();
  const rows: DoctorRow[] = [{
    area: "privileges",
    item: "user",
    value: p.root ? "root (euid 0)" : `euid ${p.euid} (not root)`,
    ok: p.root,
    how: "geteuid()",
  }];
  for (const [name, held] of Object.entries(p.held)) {
    rows.push({
      area: "privileges",
      item: name,
      value: held ? "held" : "missing",
      ok: held,
      how: "CapEff in /proc/self/status",
    });
  }
  return rows;
}

/** Measures what this host lets kernelkit do. Never throws for a missing capability. */
export function doctor(): DoctorReport {
  const rows: DoctorRow[] = [
    row("host", "kernel release", "read /proc/sys/kernel/osrelease", () => ({
      value: readKernelFile("/proc/sys/kernel/osrelease") ?? "unknown",
      ok: null,
    })),
    row("host", "JS runtime", "the FFI adapter in use", () => ({
      value: `${runtime().name} ${runtime().version}`,
      ok: true,
    })),
    row("host", "libc", "gnu_get_libc_version()", () => ({
      value: `glibc ${runtime().cstring(sys().gnu_get_libc_version())}`,
      ok: true,
    })),
    ...ioUringRows(),
    ...libraryRows(),
    ...bpfRows(),
    ...memoryRows(),
    ...privilegeRows(),
  ];
  return { rows };
}
