/**
 * Transparent huge pages (THP): the host's policy, and changing it.
 *
 * THP backs ordinary anonymous memory with 2 MiB pages when the kernel can
 * find them, with no pool to reserve. `enabled` says for which memory
 * ("always", only ranges advised with MADV_HUGEPAGE: "madvise", or "never");
 * `defrag` says how hard a page fault tries to find a huge page. A setting made
 * here lasts until reboot.
 *
 * @module
 */
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError, notSupported } from "../errors.ts";
import { readKernelFile, selectedChoice, writeKernelFile } from "./procfs.ts";

/** Where the kernel keeps the THP settings. */
export const THP_SYSFS = "/sys/kernel/mm/transparent_hugepage";

/** THP `enabled` modes: for all anonymous memory, only MADV_HUGEPAGE ranges, or none. */
export type ThpEnabled = "always" | "madvise" | "never";

/**
 * THP `defrag` modes: on a fault without a free huge page, compact at once
 * ("always"), wake kswapd/kcompactd and fall back ("defer"), compact for
 * MADV_HUGEPAGE ranges and defer for others ("defer+madvise"), compact for
 * MADV_HUGEPAGE ranges only ("madvise"), or never.
 */
export type ThpDefrag = "always" | "defer" | "defer+madvise" | "madvise" | "never";

/** The THP policy of this host. */
export interface ThpStatus {
  /** The selected `enabled` mode. */
  readonly enabled: ThpEnabled;
  /** The selected `defrag` mode. */
  readonly defrag: ThpDefrag;
  /** The modes this kernel offers, per setting. */
  readonly choices: { readonly enabled: readonly string[]; readonly defrag: readonly string[] };
  /** The policy for shared memory (tmpfs, memfd), or undefined when the kernel has none. */
  readonly shmemEnabled: string | undefined;
  /** The THP size in bytes (hpage_pmd_size), 2 MiB on x86-64. */
  readonly pageSize: number;
  /** The sysfs directory. */
  readonly path: string;
}

/** A change for {@link Thp.set}; absent settings are left alone. */
export interface ThpSettings {
  /** The `enabled` mode to select. */
  readonly enabled?: ThpEnabled;
  /** The `defrag` mode to select. */
  readonly defrag?: ThpDefrag;
}

/** One setting {@link Thp.set} changed (or would change). */
export interface ThpChange {
  /** Which setting. */
  readonly setting: "enabled" | "defrag";
  /** The mode before. */
  readonly from: string;
  /** The mode asked for. */
  readonly to: string;
  /** The file written. */
  readonly file: string;
}

/** The outcome of {@link Thp.set}. */
export interface ThpSetResult {
  /** The settings that differed from what was asked, and were written unless in a dry run. */
  readonly changes: readonly ThpChange[];
  /** True when nothing was written because a dry run was asked for. */
  readonly dryRun: boolean;
  /** The policy afterwards (unchanged in a dry run). */
  readonly status: ThpStatus;
}

/** The host's THP policy: see {@link thp}. */
export interface Thp {
  /** Reads the policy. Throws a KernelError (ENOTSUP) on a kernel built without THP. */
  status(): ThpStatus;
  /**
   * Selects modes. Needs root. Idempotent: a setting that already has the
   * mode is not written. A mode the kernel doesn't offer is a KernelError (EINVAL).
   */
  set(settings: ThpSettings, options?: { readonly dryRun?: boolean }): ThpSetResult;
}

function read(file: "enabled" | "defrag"): { selected: string; choices: string[] } {
  const text = readKernelFile(`${THP_SYSFS}/${file}`);
  if (text === undefined) {
    throw notSupported(
      "transparent huge pages",
      "open",
      `this kernel has no ${THP_SYSFS} (built without CONFIG_TRANSPARENT_HUGEPAGE): use hugetlb pages ("2MB") instead`,
    );
  }
  return {
    selected: selectedChoice(text) ?? text,
    choices: text.replace(/[[\]]/g, "").split(/\s+/).filter(Boolean),
  };
}

function status(): ThpStatus {
  const enabled = read("enabled");
  const defrag = read("defrag");
  const shmem = readKernelFile(`${THP_SYSFS}/shmem_enabled`);
  return {
    enabled: enabled.selected as ThpEnabled,
    defrag: defrag.selected as ThpDefrag,
    choices: { enabled: enabled.choices, defrag: defrag.choices },
    shmemEnabled: shmem === undefined ? undefined : selectedChoice(shmem) ?? shmem,
    pageSize: Number(readKernelFile(`${THP_SYSFS}/hpage_pmd_size`) ?? 2 * 1024 * 1024),
    path: THP_SYSFS,
  };
}

function set(settings: ThpSettings, options: { readonly dryRun?: boolean } = {}): ThpSetResult {
  const before = status();
  const changes: ThpChange[] = [];
  for (const setting of ["enabled", "defrag"] as const) {
    const to = settings[setting];
    if (to === undefined) continue;
    const file = `${THP_SYSFS}/${setting}`;
    if (!before.choices[setting].includes(to)) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "write",
        subject: file,
        message: `${JSON.stringify(to)} is not a THP ${setting} mode of this kernel`,
        hint: `choose one of: ${before.choices[setting].join(", ")}`,
      });
    }
    if (before[setting] !== to) changes.push({ setting, from: before[setting], to, file });
  }
  const dryRun = options.dryRun === true;
  if (!dryRun) {
    for (const c of changes) {
      writeKernelFile(
        c.file,
        c.to,
        `changing the THP policy needs root: run \`sudo kernelkit thp set --${c.setting} ${c.to}\``,
      );
    }
  }
  return { changes, dryRun, status: dryRun || changes.length === 0 ? before : status() };
}

/**
 * The host's transparent huge page policy.
 *
 * ```ts
 * if (thp.status().enabled === "never") thp.set({ enabled: "madvise" }); // needs root
 * ```
 */
export const thp: Thp = { status, set };
