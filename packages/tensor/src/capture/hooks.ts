/**
 * What a capture in progress needs to hear from the core. Kept free of imports, like the
 * autograd hooks, so that `Tensor` can call it without an import cycle.
 */

/** A tensor's buffer replaced by `assign`, identified by the buffers (see recorder.ts). */
export interface AssignEvent {
  readonly tensor: object;
  readonly from: object;
  readonly to: object;
}

/** Installed by a capture while its function runs. */
export const captureHooks: {
  onAssign?: (event: AssignEvent) => void;
  /** True while a captured function records: what it does then is all a replay will do. */
  recording?: boolean;
} = {};
