/**
 * Notices a training loop that leaks: live tensors sampled every `window` optimizer steps that
 * rise at each of `windows` samples in a row. A loop that frees what it makes is flat from its
 * first steps (optimizer state is made once), so it never trips this; one that forgets `tidy`
 * or a batch's `dispose` grows by the same few tensors every step and trips it after
 * `window * windows` steps.
 */
export class GrowthWatch {
  private readonly samples: Array<{ step: number; tensors: number; bytes: number }> = [];
  private tripped = false;

  constructor(
    readonly window = 50,
    readonly windows = 4,
  ) {}

  /**
   * Records the counts after `step` (only every `window` steps reads them); returns a description
   * of the growth the first time it is sustained, else undefined.
   */
  check(step: number, read: () => { tensors: number; bytes: number }): string | undefined {
    if (this.tripped || step % this.window !== 0) return undefined;
    this.samples.push({ step, ...read() });
    if (this.samples.length > this.windows + 1) this.samples.shift();
    if (this.samples.length <= this.windows) return undefined;
    for (let i = 1; i < this.samples.length; i++) if (this.samples[i]!.tensors <= this.samples[i - 1]!.tensors) return undefined;
    this.tripped = true;
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const perStep = (last.tensors - first.tensors) / (last.step - first.step);
    return (
      `live tensors grew at each of the last ${this.windows} checks (every ${this.window} steps): ${first.tensors} after step ${first.step}, ` +
      `${last.tensors} after step ${last.step} (+${perStep.toFixed(1)} per step; ${(last.bytes / 2 ** 20).toFixed(1)} MiB live)`
    );
  }
}
