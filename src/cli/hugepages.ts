/**
 * `kernelkit hugepages status|reserve|release` and `kernelkit thp status|set`:
 * the host's huge page pools and THP policy, read and set.
 *
 * Writes are idempotent (a setting that already holds is not written) and take
 * `--dry-run`. They need root; without it they fail with a KernelError that
 * says so, and exit 1.
 *
 * @module
 */
import { type HugePageReservation, hugePages, pageSizeName, parseSize } from "../system/hugepages.ts";
import { thp, type ThpDefrag, type ThpEnabled } from "../system/thp.ts";

const usageLines: readonly (readonly [string, string])[] = [
  ["hugepages status [--json]", "the hugetlb pools: total, free, reserved, surplus"],
  ["hugepages reserve <count> [--size 2MB] [--dry-run]", "set a pool to <count> pages (root)"],
  ["hugepages release [--size 2MB] [--dry-run]", "empty a pool (root)"],
  ["thp status [--json]", "the transparent huge page policy"],
  ["thp set [--enabled MODE] [--defrag MODE] [--dry-run]", "change it (root)"],
];

/** Usage of the two commands, for the CLI's help. */
export const HUGEPAGES_USAGE: string = usageLines.map(([cmd, what]) => `  ${cmd.padEnd(52)} ${what}`).join(
  "\n",
);

interface Parsed {
  readonly positional: string[];
  readonly options: Map<string, string>;
  readonly flags: Set<string>;
}

const VALUED = new Set(["--size", "--enabled", "--defrag"]);

/** A mistake on the command line: reported with the usage, exit code 2. */
class UsageError extends Error {}

function usageError(message: string): UsageError {
  return new UsageError(message);
}

function withUsage(command: string, run: () => number): number {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`kernelkit ${command}: ${e.message}\n\nusage:\n${HUGEPAGES_USAGE}`);
    return 2;
  }
}

function parse(args: readonly string[]): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (VALUED.has(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) throw usageError(`${name} needs a value`);
      options.set(name, value);
    } else if (a === "--json" || a === "--dry-run") flags.add(a);
    else if (a.startsWith("--")) throw usageError(`unknown option ${a}`);
    else positional.push(a);
  }
  return { positional, options, flags };
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd()
  )
    .join("\n");
}

function showStatus(json: boolean, print: (s: string) => void): number {
  const s = hugePages.status();
  if (json) {
    print(JSON.stringify(s, null, 2));
    return 0;
  }
  if (s.pools.length === 0) {
    print("no hugetlb pools: this kernel was built without CONFIG_HUGETLBFS");
    return 0;
  }
  const rows = [[
    "size",
    "total",
    "free",
    "reserved",
    "surplus",
    "in use",
    "default",
    "per node (total/free)",
  ]];
  for (const p of s.pools) {
    rows.push([
      p.size,
      String(p.total),
      String(p.free),
      String(p.reserved),
      String(p.surplus),
      String(p.inUse),
      p.isDefault ? "yes" : "",
      p.nodes.map((n) => `node${n.node} ${n.total}/${n.free}`).join(", "),
    ]);
  }
  print(table(rows));
  return 0;
}

function showReservation(r: HugePageReservation, json: boolean, print: (s: string) => void): number {
  if (json) print(JSON.stringify(r, null, 2));
  else if (r.dryRun) print(`dry run: ${r.size} pool: ${r.reason}`);
  else if (!r.changed) print(`${r.size} pool: unchanged, it already has ${r.total} pages (${r.free} free)`);
  else {
    print(`${r.size} pool: ${r.before} -> ${r.total} pages (${r.free} free), asked for ${r.requested}`);
    if (r.reason) print(r.reason);
  }
  if (!r.ok && !r.dryRun && !json) {
    console.error(`kernelkit hugepages: ${r.reason ?? "the pool does not have the size asked for"}`);
  }
  return r.ok || r.dryRun ? 0 : 1;
}

function sizeOption(p: Parsed): string {
  const given = p.options.get("--size");
  if (given !== undefined) return pageSizeName(parseSize(given));
  const fallback = hugePages.status().defaultSize;
  if (fallback === undefined) {
    throw usageError("this kernel has no hugetlb pools (built without CONFIG_HUGETLBFS)");
  }
  return pageSizeName(fallback);
}

/** Runs `kernelkit hugepages <sub> ...`; returns the exit code. */
export function runHugePages(args: readonly string[], print: (s: string) => void): number {
  return withUsage("hugepages", () => hugePagesCommand(args, print));
}

function hugePagesCommand(args: readonly string[], print: (s: string) => void): number {
  const [sub, ...rest] = args;
  const p = parse(rest);
  const json = p.flags.has("--json");
  const dryRun = p.flags.has("--dry-run");
  switch (sub) {
    case "status":
    case undefined:
      return showStatus(json, print);
    case "reserve": {
      const n = Number(p.positional[0]);
      if (p.positional.length !== 1 || !Number.isSafeInteger(n) || n < 0) {
        throw usageError(
          `hugepages reserve needs one page count, 0 or more (got ${p.positional.join(" ") || "none"})`,
        );
      }
      return showReservation(hugePages.reserve(sizeOption(p), n, { dryRun }), json, print);
    }
    case "release":
      if (p.positional.length) {
        throw usageError(`hugepages release takes no count (got ${p.positional.join(" ")})`);
      }
      return showReservation(hugePages.release(sizeOption(p), { dryRun }), json, print);
    default:
      throw usageError(`unknown hugepages command "${sub}": use status, reserve or release`);
  }
}

/** Runs `kernelkit thp <sub> ...`; returns the exit code. */
export function runThp(args: readonly string[], print: (s: string) => void): number {
  return withUsage("thp", () => thpCommand(args, print));
}

function thpCommand(args: readonly string[], print: (s: string) => void): number {
  const [sub, ...rest] = args;
  const p = parse(rest);
  const json = p.flags.has("--json");
  switch (sub) {
    case "status":
    case undefined: {
      const s = thp.status();
      if (json) print(JSON.stringify(s, null, 2));
      else {
        const rows = [
          ["enabled", s.enabled, `choices: ${s.choices.enabled.join(" ")}`],
          ["defrag", s.defrag, `choices: ${s.choices.defrag.join(" ")}`],
          ["shmem_enabled", s.shmemEnabled ?? "-", "for tmpfs and shared memfds"],
          ["page size", `${s.pageSize / 2 ** 20} MiB`, "hpage_pmd_size"],
        ];
        for (const [k, v, note] of rows) print(`${k.padEnd(14)} ${v.padEnd(14)} ${note}`);
      }
      return 0;
    }
    case "set": {
      const enabled = p.options.get("--enabled") as ThpEnabled | undefined;
      const defrag = p.options.get("--defrag") as ThpDefrag | undefined;
      if (enabled === undefined && defrag === undefined) {
        throw usageError("thp set needs --enabled MODE, --defrag MODE or both");
      }
      if (p.positional.length) {
        throw usageError(`thp set takes no arguments besides options (got ${p.positional.join(" ")})`);
      }
      const r = thp.set({ enabled, defrag }, { dryRun: p.flags.has("--dry-run") });
      if (json) print(JSON.stringify(r, null, 2));
      else if (r.changes.length === 0) {
        print(`unchanged: enabled ${r.status.enabled}, defrag ${r.status.defrag}`);
      } else {
        for (const c of r.changes) {
          print(`${r.dryRun ? "dry run: would set" : "set"} ${c.setting}: ${c.from} -> ${c.to} (${c.file})`);
        }
      }
      return 0;
    }
    default:
      throw usageError(`unknown thp command "${sub}": use status or set`);
  }
}
