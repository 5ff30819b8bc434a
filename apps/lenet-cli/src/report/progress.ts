import { percent } from "./metrics.js";

/** Where training stands after a step. */
export interface ProgressInfo {
  epoch: number;
  epochs: number;
  /** Index (0-based) of the minibatch just trained. */
  minibatch: number;
  nTrainBatches: number;
  /** Training images per second in this session. */
  imagesPerSecond: number;
  /** Mean training loss since the last validation (null before any step). */
  loss: number | null;
  /** Best validation error so far (a fraction), null before the first validation. */
  bestValidationError: number | null;
  /** Seconds until the epochs or the current patience run out, null while unknown. */
  etaSeconds: number | null;
}

/** What the trainer prints: whole lines, and progress updates. */
export interface Reporter {
  /** A line that stays (validation results, messages). */
  line(text: string): void;
  /** The state after a step; shown as a redrawn bar on a terminal, as an occasional plain line otherwise. */
  progress(info: ProgressInfo): void;
  /** Removes the bar, if any. */
  done(): void;
}

/** The output stream the reporter writes to (process.stdout, or a test's capture). */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** "1h02m", "12m05s", "42s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

function bar(fraction: number, width: number): string {
  const full = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${"#".repeat(full)}${"-".repeat(width - full)}]`;
}

/** The one-line progress text of the terminal bar. */
export function progressBarText(p: ProgressInfo, columns = 100): string {
  const parts = [
    `epoch ${p.epoch}/${p.epochs} ${bar((p.minibatch + 1) / p.nTrainBatches, 20)} ${p.minibatch + 1}/${p.nTrainBatches}`,
    `${p.imagesPerSecond.toFixed(1)} img/s`,
    `loss ${p.loss === null ? "-" : p.loss.toFixed(4)}`,
    `best val ${p.bestValidationError === null ? "-" : `${(p.bestValidationError * 100).toFixed(2)} %`}`,
    `ETA ${p.etaSeconds === null ? "?" : formatDuration(p.etaSeconds)}`,
  ];
  const text = parts.join(" | ");
  return text.length >= columns ? text.slice(0, Math.max(10, columns - 1)) : text;
}

/** The plain progress line written when the output is not a terminal. */
export function progressPlainText(p: ProgressInfo): string {
  return [
    `progress: epoch ${p.epoch}/${p.epochs}, minibatch ${p.minibatch + 1}/${p.nTrainBatches}`,
    `${p.imagesPerSecond.toFixed(1)} images/s`,
    `loss ${p.loss === null ? "-" : p.loss.toFixed(6)}`,
    `best validation error ${p.bestValidationError === null ? "-" : `${percent(p.bestValidationError)} %`}`,
    `ETA ${p.etaSeconds === null ? "?" : formatDuration(p.etaSeconds)}`,
  ].join(", ");
}

/** Options of `createReporter`. */
export interface ReporterOptions {
  /** Draw the bar (default: the stream is a terminal). */
  tty?: boolean;
  /** Least milliseconds between plain progress lines when not on a terminal (30000; 0: never print them). */
  plainIntervalMs?: number;
  /** Least milliseconds between bar redraws (100). */
  redrawMs?: number;
  /** Clock in milliseconds (performance.now). */
  now?: () => number;
}

/**
 * A reporter for `out`: on a terminal, lines are printed above one bar redrawn in place with a
 * carriage return; elsewhere only plain lines are written (no control characters), with a
 * progress line at most every `plainIntervalMs`.
 */
export function createReporter(out: OutputStream, options: ReporterOptions = {}): Reporter {
  const tty = options.tty ?? out.isTTY === true;
  const now = options.now ?? (() => performance.now());
  const plainInterval = options.plainIntervalMs ?? 30_000;
  const redraw = options.redrawMs ?? 100;
  let shown = "";
  let lastDraw = Number.NEGATIVE_INFINITY;
  let lastPlain = now();
  let last: ProgressInfo | null = null;
  const clear = () => {
    if (shown) out.write("\r\x1b[K");
    shown = "";
  };
  const draw = (p: ProgressInfo) => {
    shown = progressBarText(p, out.columns || 100);
    out.write(`\r${shown}\x1b[K`);
    lastDraw = now();
  };
  return {
    line(text) {
      if (tty) {
        clear();
        out.write(`${text}\n`);
        if (last) draw(last);
      } else out.write(`${text}\n`);
    },
    progress(p) {
      last = p;
      if (tty) {
        if (now() - lastDraw >= redraw) draw(p);
      } else if (plainInterval > 0 && now() - lastPlain >= plainInterval) {
        lastPlain = now();
        out.write(`${progressPlainText(p)}\n`);
      }
    },
    done() {
      if (tty) clear();
      last = null;
    },
  };
}
