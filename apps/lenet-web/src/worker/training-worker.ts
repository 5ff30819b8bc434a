/**
 * The training worker: owns the backend, MNIST and the model, so the page never waits on a
 * kernel (and the CPU backend may block in `Atomics.wait`, which a page's main thread may not).
 */
import "@tessera/autograd";
import "@tessera/backend-cpu";
import "@tessera/backend-webgpu";
import { loadMnistFromUrls, type MnistSplits, toMnistDigit } from "@tessera/datasets";
import { encodeCheckpoint } from "@tessera/nn";
import type { BackendInfo, FromWorker, ToWorker } from "../protocol.js";
import type { WebSettings } from "../settings.js";
import { startBackend } from "./backend.js";
import { classProbabilities } from "./evaluate.js";
import { TrainingSession } from "./session.js";

const post = (message: FromWorker, transfer: Transferable[] = []) => self.postMessage(message, { transfer });

let backend: BackendInfo | undefined;
let data: Promise<MnistSplits> | undefined;
let session: TrainingSession | undefined;
let running = false;

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

let config: { settings: WebSettings; dataUrl: string } | undefined;

/** Starts the backend and loads MNIST (once), then makes a fresh model. */
async function prepare(): Promise<TrainingSession> {
  if (!config) throw new Error("the page has not initialised the worker");
  const { settings, dataUrl } = config;
  if (!backend) {
    post({ type: "status", state: "loading", text: "starting the backend" });
    backend = await startBackend(settings.backend);
    post({ type: "backend", backend });
  }
  post({ type: "status", state: "loading", text: "loading MNIST" });
  const base = new URL(dataUrl, self.location.href).href.replace(/\/?$/, "/");
  data ??= loadMnistFromUrls({
    trainImages: `${base}train-images-idx3-ubyte.gz`,
    trainLabels: `${base}train-labels-idx1-ubyte.gz`,
    testImages: `${base}t10k-images-idx3-ubyte.gz`,
    testLabels: `${base}t10k-labels-idx1-ubyte.gz`,
  }).catch((e: unknown) => {
    data = undefined;
    throw e;
  });
  const splits = await data;
  session?.abandon();
  session?.dispose();
  session = new TrainingSession(settings, splits, post, backend.name === "webgpu" ? 10 : 1);
  await session.postFilters();
  return session;
}

/** Trains a fresh model (one run at a time). */
async function train(): Promise<void> {
  if (running) return;
  running = true;
  try {
    const s = await prepare();
    if (await s.run()) post({ type: "status", state: "done", text: "done" });
  } finally {
    running = false;
  }
}

/** Loads a checkpoint into the model (ending a stopped run) and measures its test error. */
async function load(name: string, bytes: Uint8Array): Promise<void> {
  if (running && !session?.isStopped) throw new Error("stop training before loading a checkpoint");
  if (!session) await prepare();
  const s = session!;
  if (running) s.abandon();
  s.load(bytes, name);
  await s.postFilters();
  post({ type: "status", state: "evaluating", text: `measuring the test error of ${name}` });
  const { wrong, count } = await s.testError();
  post({ type: "test", error: wrong / count, wrong, count, source: name });
  post({ type: "status", state: "done", text: `loaded ${name}` });
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case "init":
      config = { settings: message.settings, dataUrl: message.dataUrl };
      await prepare();
      post({ type: "status", state: "ready", text: "ready" });
      return;
    case "train":
      return train();
    case "stop":
      session?.stop();
      return;
    case "continue":
      session?.continue();
      return;
    case "predict": {
      if (!session) throw new Error("no model yet: wait for the page to load");
      const digit = toMnistDigit(message.image);
      const probabilities = digit ? await classProbabilities(session.model, digit) : [];
      post({ type: "prediction", probabilities, digit });
      return;
    }
    case "load":
      return load(message.name, message.bytes);
    case "save": {
      if (!session) throw new Error("no model yet: wait for the page to load");
      const bytes = await encodeCheckpoint(session.model, { metadata: { source: "lenet-web", backend: backend?.name } });
      post({ type: "saved", bytes, name: "lenet5.safetensors" }, [bytes.buffer as ArrayBuffer]);
      return;
    }
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  handle(event.data).catch((err: unknown) => {
    post({ type: "error", message: describe(err) });
  });
};
