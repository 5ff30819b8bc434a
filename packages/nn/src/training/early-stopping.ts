/**
 * Early stopping by patience, the rule of the DeepLearningTutorials (`convolutional_mlp.py`, `evaluate_lenet5`):
 *
 *     validation_frequency = min(n_train_batches, patience // 2)
 *     iter = (epoch - 1) * n_train_batches + minibatch_index          # 0-based
 *     if (iter + 1) % validation_frequency == 0:
 *         if this_validation_loss < best_validation_loss:
 *             if this_validation_loss < best_validation_loss * improvement_threshold:
 *                 patience = max(patience, iter * patience_increase)
 *             best_validation_loss, best_iter = this_validation_loss, iter
 *             test_score = <test error>
 *     if patience <= iter: stop
 */

/** The constants of the rule. */
export interface EarlyStoppingOptions {
  /** Minibatches per epoch (the tutorial's n_train_batches). */
  nTrainBatches: number;
  /** Initial patience, in iterations (10000). */
  patience: number;
  /** Patience grows to iteration x this after a significant improvement (2). */
  patienceIncrease: number;
  /** An improvement is significant when error < best x this (0.995). */
  improvementThreshold: number;
}

/** What the rule remembers; plain JSON so a checkpoint can carry it. */
export interface EarlyStoppingState {
  /** Current patience, in iterations. */
  patience: number;
  /** Best validation error so far (a fraction), null before the first validation. */
  bestValidationError: number | null;
  /** Iteration (0-based, as `iter` above) of the best validation; -1 before any. */
  bestIter: number;
  /** Test error (a fraction) measured at the best validation, null before any. */
  testError: number | null;
}

/** What one validation did to the rule. */
export interface ValidationOutcome {
  /** The validation error beat the best so far: measure the test error and keep these weights. */
  improved: boolean;
  /** The improvement beat the threshold and patience was recomputed. */
  patienceUpdated: boolean;
}

/**
 * The tutorial's early stopping: validate every `validationFrequency` iterations, remember the
 * best validation error (and the test error measured then), extend the patience after a
 * significant improvement, and stop once the iteration reaches the patience.
 */
export class EarlyStopping {
  /** The rule's settings, as given. */
  readonly options: EarlyStoppingOptions;
  /** Validate every this many iterations: min(n_train_batches, patience // 2), at least 1. */
  readonly validationFrequency: number;
  private state: EarlyStoppingState;

  constructor(options: EarlyStoppingOptions, state?: EarlyStoppingState) {
    this.options = { ...options };
    this.validationFrequency = Math.max(1, Math.min(options.nTrainBatches, Math.floor(options.patience / 2)));
    this.state = state ? { ...state } : { patience: options.patience, bestValidationError: null, bestIter: -1, testError: null };
  }

  /** The iteration number of `minibatchIndex` (0-based) in `epoch` (1-based). */
  iteration(epoch: number, minibatchIndex: number): number {
    return (epoch - 1) * this.options.nTrainBatches + minibatchIndex;
  }

  /** Whether the model is validated after the step of iteration `iter`. */
  isValidationIteration(iter: number): boolean {
    return (iter + 1) % this.validationFrequency === 0;
  }

  /** Records the validation error (a fraction) measured after iteration `iter`. */
  observeValidation(iter: number, error: number): ValidationOutcome {
    const best = this.state.bestValidationError;
    if (best !== null && !(error < best)) return { improved: false, patienceUpdated: false };
    // numpy's best_validation_loss starts at inf, so the first validation always improves
    // (and always counts as significant: error < inf * 0.995).
    const significant = best === null || error < best * this.options.improvementThreshold;
    if (significant) this.state.patience = Math.max(this.state.patience, iter * this.options.patienceIncrease);
    this.state.bestValidationError = error;
    this.state.bestIter = iter;
    return { improved: true, patienceUpdated: significant };
  }

  /** Records the test error measured for the best model. */
  recordTestError(error: number): void {
    this.state.testError = error;
  }

  /** Whether training stops after iteration `iter` (patience <= iter). */
  shouldStop(iter: number): boolean {
    return this.state.patience <= iter;
  }

  /** Current patience, in iterations. */
  get patience(): number {
    return this.state.patience;
  }
  /** Best validation error so far (a fraction), null before the first validation. */
  get bestValidationError(): number | null {
    return this.state.bestValidationError;
  }
  /** Iteration of the best validation; -1 before any. */
  get bestIter(): number {
    return this.state.bestIter;
  }
  /** Test error (a fraction) measured at the best validation, null before any. */
  get testError(): number | null {
    return this.state.testError;
  }

  /** A copy of the state, for checkpoints. */
  snapshot(): EarlyStoppingState {
    return { ...this.state };
  }
}
