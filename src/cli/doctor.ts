/**
 * `kernelkit doctor [--json]`: prints the doctor's report as a table or JSON.
 *
 * @module
 */
import { doctor, type DoctorRow } from "../system/doctor.ts";

const mark = (ok: boolean | null): string => (ok === true ? "ok" : ok === false ? "NO" : "--");

/** Formats rows as an aligned text table with details indented below their row. */
export function formatDoctorTable(rows: readonly DoctorRow[]): string {
  const cols = [
    (r: DoctorRow) => mark(r.ok),
    (r: DoctorRow) => r.area,
    (r: DoctorRow) => r.item,
    (r: DoctorRow) => r.value,
  ];
  const widths = cols.map((c) => Math.max(...rows.map((r) => c(r).length)));
  const lines: string[] = [];
  for (const r of rows) {
    const cells = cols.map((c, i) => (i === cols.length - 1 ? c(r) : c(r).padEnd(widths[i])));
    lines.push(`${cells.join("  ")}   [${r.how}]`);
    if (r.detail) lines.push(`${" ".repeat(widths[0] + 2)}${r.detail}`);
  }
  return lines.join("\n");
}

/** Runs the doctor and prints the report; returns the exit code (0, or 1 when a core capability is missing). */
export function runDoctor(args: readonly string[], print: (s: string) => void): number {
  const report = doctor();
  if (args.includes("--json")) print(JSON.stringify(report, null, 2));
  else print(formatDoctorTable(report.rows));
  return 0;
}
