/**
 * What the host does for the GPU, counted. A training step on a GPU is bound by host work per
 * dispatch long before the GPU is busy, so these are the figures to watch (`stats()`, and the
 * HOST line of the LeNet benchmark); on Dawn's null backend they are all the work there is.
 */

/** Running totals since the backend was created. */
export class HostCounters {
  /** Compute dispatches recorded. */
  dispatches = 0;
  /** Bind groups created (a dispatch whose buffers were bound before reuses its group). */
  bindGroupsCreated = 0;
  /** Host-to-GPU transfers: `queue.writeBuffer` calls, the parameter block's one per submit included. */
  writes = 0;
  /** Staging buffers created, for uploads or for readbacks (pooled readback buffers not counted again). */
  stagingBuffers = 0;
  /** Command buffers submitted. */
  submits = 0;
  /** Times the host waited for the GPU (reads and syncs). */
  waits = 0;
}
