/**
 * The tour's progress: one line per step. On a terminal the current step
 * carries a spinner that turns while it runs; anywhere else each step is one
 * plain line, so logs stay readable.
 *
 * @module
 */

/** Where progress goes: a text sink and whether it is a terminal. */
export interface ProgressSink {
  /** Writes text as is (no newline added). */
  write(text: string): void;
  /** True on a terminal: draw a spinner and rewrite the current line. */
  readonly tty: boolean;
}

/** The tour's progress reporter. */
export interface Progress {
  /** Starts a step: ends the previous one and shows `label`. */
  step(label: string): void;
  /** Lets the spinner turn; cheap enough to call from a measuring loop. */
  tick(): void;
  /** Ends the current step with a result ("1.2 GB/s") or a mark. */
  done(result?: string): void;
  /** A line of its own, outside the steps (a skipped row, a note). */
  note(text: string): void;
  /** Ends the current step and stops the spinner. */
  stop(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A reporter that prints nothing (for `runTour` without progress). */
export const silentProgress: Progress = {
  step() {},
  tick() {},
  done() {},
  note() {},
  stop() {},
};

/** A reporter writing to `sink`: a spinner on a terminal, plain lines otherwise. */
export function createProgress(sink: ProgressSink): Progress {
  const start = performance.now();
  const stamp = () => `${((performance.now() - start) / 1000).toFixed(1).padStart(5)}s`;
  let label: string | undefined;
  let frame = 0;
  let lastDraw = 0;
  let calls = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  const draw = () => {
    if (label === undefined) return;
    frame = (frame + 1) % FRAMES.length;
    lastDraw = performance.now();
    sink.write(`\r\x1b[K${FRAMES[frame]} ${stamp()} ${label}`);
  };
  // Off a terminal, a step's line is written when it starts and finished
  // (with its result) when it ends, so a log shows what is running now.
  const end = (mark: string, result?: string) => {
    if (label === undefined) return;
    if (sink.tty) sink.write(`\r\x1b[K${mark} ${stamp()} ${label}${result ? `: ${result}` : ""}\n`);
    else sink.write(result ? `: ${result}\n` : "\n");
    label = undefined;
  };

  return {
    step(next: string) {
      end("✓");
      label = next;
      if (!sink.tty) sink.write(`tour: ${stamp()} ${next}`);
      else {
        draw();
        // Turns the spinner while the event loop runs (awaits, child processes);
        // measuring loops that block it call tick().
        timer ??= setInterval(() => draw(), 100);
        (timer as { unref?: () => void }).unref?.();
      }
    },
    tick() {
      if (!sink.tty || label === undefined || (++calls & 1023) !== 0) return;
      if (performance.now() - lastDraw >= 100) draw();
    },
    done(result?: string) {
      end("✓", result);
    },
    note(text: string) {
      end("✓");
      sink.write(sink.tty ? `\r\x1b[K  ${text}\n` : `tour: ${text}\n`);
    },
    stop() {
      end("✓");
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
