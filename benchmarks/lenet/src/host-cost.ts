/**
 * Host work per LeNet-5 training step on the WebGPU backend: what the backend's counters say a
 * steady-state step records (dispatches, bind groups created, buffer writes, staging buffers,
 * submits, waits on the GPU) and how long the main thread takes to record it. Steps are recorded
 * back to back without reading anything, as a training loop that reads its loss now and then does
 * (captured with `T.capture`, or eager with --eager);
 * on Dawn's null backend (TESSERA_WEBGPU_DAWN_FLAGS=backend=null), which runs no shaders, the time
 * is all host work.
 */
import type { WebGPUBackend } from "@tessera/backend-webgpu";
import type { ImageSplit } from "@tessera/datasets";
import * as T from "@tessera/tensor";
import { lenetTraining } from "./workload.js";

/** Per-step averages over the measured steps (the HOST line's fields). */
export interface HostCost {
  dispatches: number;
  bind_groups_created: number;
  writes: number;
  staging_buffers: number;
  submits: number;
  waits: number;
  host_ms: number;
}

/** `HostCost` plus the process's CPU time per step (all threads: under load, steadier than wall time). */
export interface HostCostDetail extends HostCost {
  cpu_ms: number;
}

/** The active backend if it is a WebGPU backend (it has the host-work counters), else null. */
export function activeWebGPU(): WebGPUBackend | null {
  const b = T.getBackend() as Partial<WebGPUBackend>;
  return typeof b.stats === "function" && b.adapter !== undefined ? (b as WebGPUBackend) : null;
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Host work of a training step at `batch`, recorded back to back in `reps` runs of `steps`. */
export interface HostCostOptions {
  batch: number;
  /** Steps per timed run. */
  steps: number;
  /** Timed runs; host_ms is their median (the machine may be shared: medians resist its spikes). */
  reps: number;
  /** Steps before timing, each read back: kernels compile, pools and caches fill, V8 optimises. */
  warmup: number;
  /** Run the step eagerly instead of captured (see workload.ts). */
  eager?: boolean;
}

/** Counters are totals over every timed step divided by their number; host_ms is the median run's per-step time. */
export async function measureHostCost(backend: WebGPUBackend, train: ImageSplit, o: HostCostOptions): Promise<HostCostDetail> {
  const training = lenetTraining(train, o.batch, 4, { eager: o.eager ?? false });
  try {
    for (let i = 0; i < o.warmup; i++) {
      const loss = training.step(i);
      await loss.data();
      loss.dispose();
    }
    await backend.sync();
    const sums = { dispatches: 0, bindGroupsCreated: 0, writes: 0, stagingBuffers: 0, submits: 0, waits: 0 };
    const times: number[] = [];
    const cpu: number[] = [];
    let last: T.Tensor | null = null;
    for (let r = 0; r < o.reps; r++) {
      const before = backend.stats();
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      for (let i = 0; i < o.steps; i++) {
        last?.dispose();
        last = training.step(i);
      }
      times.push((performance.now() - start) / o.steps);
      const used = process.cpuUsage(cpuStart);
      cpu.push((used.user + used.system) / 1000 / o.steps);
      // Counted before the read below: its wait and readback belong to no step.
      const after = backend.stats();
      for (const k of Object.keys(sums) as Array<keyof typeof sums>) sums[k] += after[k] - before[k];
      await last?.data();
    }
    last?.dispose();
    const per = (k: keyof typeof sums) => round(sums[k] / (o.reps * o.steps), 2);
    return {
      dispatches: per("dispatches"),
      bind_groups_created: per("bindGroupsCreated"),
      writes: per("writes"),
      staging_buffers: per("stagingBuffers"),
      submits: per("submits"),
      waits: per("waits"),
      host_ms: round(median(times), 3),
      cpu_ms: round(median(cpu), 3),
    };
  } finally {
    training.dispose();
  }
}
