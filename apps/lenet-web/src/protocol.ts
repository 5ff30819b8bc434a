/** The messages between the page and the training worker, which owns every tensor. */
import type { WebSettings } from "./settings.js";

/** Page → worker. */
export type ToWorker =
  | { type: "init"; settings: WebSettings; dataUrl: string }
  | { type: "train" }
  | { type: "stop" }
  | { type: "continue" }
  | { type: "predict"; image: { width: number; height: number; data: Uint8ClampedArray } }
  | { type: "load"; name: string; bytes: Uint8Array }
  | { type: "save" };

/** What the worker runs on. */
export interface BackendInfo {
  /** `webgpu` or `cpu`. */
  name: string;
  /** For people: the adapter, or the CPU kernels and threads. */
  detail: string;
  /** CPU kernel threads (1 or 2); absent for WebGPU. */
  threads?: number;
}

/** Worker → page. */
export type FromWorker =
  | { type: "backend"; backend: BackendInfo }
  | { type: "status"; state: "loading" | "ready" | "training" | "stopped" | "evaluating" | "done" | "error"; text: string }
  | { type: "progress"; step: number; epoch: number; steps: number; loss: number; imagesPerSecond: number }
  | { type: "validation"; step: number; epoch: number; error: number }
  | { type: "filters"; weights: Float32Array; shape: number[] }
  | { type: "test"; error: number; wrong: number; count: number; source: string }
  | { type: "prediction"; probabilities: number[]; digit: Float32Array | null }
  | { type: "saved"; bytes: Uint8Array; name: string }
  | { type: "error"; message: string };
