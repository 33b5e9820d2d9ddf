/**
 * Everything the tour creates on the host (network namespaces, veth pairs,
 * iptables rules, XDP links, hugepage reservations, child processes, temp
 * files) is registered here as it is made, and undone in reverse order: when
 * its step ends, when the tour ends, and on SIGINT or SIGTERM.
 *
 * @module
 */
import process from "node:process";

/** A stack of undo actions; each runs at most once. */
export class Cleanups {
  readonly #actions: Array<{ readonly what: string; readonly undo: () => void; done: boolean }> = [];

  /**
   * Registers an undo action and returns a function that runs it now (and
   * takes it off the stack). Actions must be synchronous: a signal handler
   * runs them before the process exits.
   */
  add(what: string, undo: () => void): () => void {
    const entry = { what, undo, done: false };
    this.#actions.push(entry);
    return () => {
      if (entry.done) return;
      entry.done = true;
      const i = this.#actions.indexOf(entry);
      if (i >= 0) this.#actions.splice(i, 1);
      undo();
    };
  }

  /** How many actions are still pending. */
  get pending(): number {
    return this.#actions.length;
  }

  /** Runs every pending action, newest first; returns the failures as text, never throws. */
  runAll(): string[] {
    const failures: string[] = [];
    while (this.#actions.length > 0) {
      const entry = this.#actions.pop()!;
      if (entry.done) continue;
      entry.done = true;
      try {
        entry.undo();
      } catch (e) {
        failures.push(`${entry.what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return failures;
  }
}

/**
 * Runs `cleanups.runAll()` and then `onSignal` when SIGINT or SIGTERM
 * arrives. Returns a function that removes the handlers.
 */
export function cleanUpOnSignals(cleanups: Cleanups, onSignal: (signal: string, failures: string[]) => void): () => void {
  const handle = (signal: string) => () => onSignal(signal, cleanups.runAll());
  const onInt = handle("SIGINT");
  const onTerm = handle("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return () => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  };
}
