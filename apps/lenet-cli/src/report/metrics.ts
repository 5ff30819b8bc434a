/** One validation of a training run: a row of metrics.csv. */
export interface MetricsRow {
  /** Epoch of the validation (1-based). */
  epoch: number;
  /** Minibatch index (0-based) after which the validation ran. */
  minibatch: number;
  /** The tutorial's iteration number: (epoch - 1) * n_train_batches + minibatch. */
  iteration: number;
  /** Mean training loss (cross-entropy) of the minibatches since the previous validation. */
  trainLoss: number;
  /** Validation error, a fraction. */
  validationError: number;
  /** Test error (a fraction) when the validation improved on the best and the test set was measured, else null. */
  testError: number | null;
  /** Seconds since the run started (across resumes). */
  elapsedSeconds: number;
  /** Training images per second since the previous validation (training steps only, evaluation excluded). */
  imagesPerSecond: number;
}

/** The columns of metrics.csv; the last two are timings. */
export const METRICS_COLUMNS = ["epoch", "iteration", "train_loss", "validation_error", "test_error", "elapsed_seconds", "images_per_second"] as const;

/** A fraction as the percentage the tutorial prints (`%f` of error * 100). */
export function percent(fraction: number): string {
  return (fraction * 100).toFixed(6);
}

/** metrics.csv: a header and one row per validation; errors in percent, test_error empty when not measured. */
export function metricsCsv(rows: readonly MetricsRow[]): string {
  const lines = [METRICS_COLUMNS.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.epoch,
        r.iteration,
        r.trainLoss.toFixed(6),
        percent(r.validationError),
        r.testError === null ? "" : percent(r.testError),
        r.elapsedSeconds.toFixed(3),
        r.imagesPerSecond.toFixed(2),
      ].join(","),
    );
  }
  return lines.join("\n") + "\n";
}
