/**
 * The page: reads the settings from the address, hands the work to the training worker and
 * shows what it reports. Nothing here touches a tensor, so the page never waits on training.
 */
import type { FromWorker, ToWorker } from "./protocol.js";
import { settingsFromQuery, type WebSettings } from "./settings.js";
import { LineChart } from "./ui/chart.js";
import { DrawPad } from "./ui/draw-pad.js";
import { drawFilters } from "./ui/filters.js";
import { showDigit, showProbabilities } from "./ui/probabilities.js";

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const testId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`)!;
const setText = (id: string, text: string) => {
  testId(id).textContent = text;
};

const buttons = {
  train: byId<HTMLButtonElement>("train"),
  stop: byId<HTMLButtonElement>("stop"),
  continue: byId<HTMLButtonElement>("continue"),
  save: byId<HTMLButtonElement>("save"),
};
const lossChart = new LineChart(byId("loss-chart"), "#3b6fd6", (y) => y.toFixed(2));
const errorChart = new LineChart(byId("error-chart"), "#d6453b", (y) => `${y.toFixed(1)}`);

function showError(message: string): void {
  const el = testId("error");
  el.textContent = message;
  el.hidden = false;
}

const percent = (fraction: number) => `${(100 * fraction).toFixed(2)} %`;

let settings: WebSettings;
try {
  settings = settingsFromQuery(location.search);
} catch (err) {
  showError((err as Error).message);
  setText("status", "error");
  throw err;
}
setText("preset", settings.preset);

const worker = new Worker(new URL("./worker/training-worker.ts", import.meta.url), { type: "module", name: "lenet-training" });
const send = (message: ToWorker, transfer: Transferable[] = []) => worker.postMessage(message, transfer);

const pad = new DrawPad(byId("pad"), () => predict());
let drawn = false;
function predict(): void {
  drawn = true;
  const { width, height, data } = pad.image();
  send({ type: "predict", image: { width, height, data } }, [data.buffer]);
}
byId("clear").addEventListener("click", () => {
  pad.clear();
  drawn = false;
  setText("prediction", "–");
  testId("probabilities").replaceChildren();
  showDigit(byId("digit"), null);
});

function onStatus(state: string, text: string): void {
  setText("status", state);
  testId("status").title = text;
  const training = state === "training" || state === "evaluating";
  buttons.train.disabled = training || state === "loading" || state === "stopped";
  buttons.stop.disabled = !training;
  buttons.continue.disabled = state !== "stopped";
  buttons.save.disabled = state === "loading";
  if ((state === "done" || state === "stopped") && drawn) predict();
}

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case "backend":
      setText("backend", m.backend.name);
      setText("backend-detail", m.backend.detail);
      return;
    case "status":
      onStatus(m.state, m.text);
      return;
    case "progress":
      setText("steps", String(m.step));
      setText("total-steps", String(m.steps));
      // before the first read of the loss (a GPU run reads it every few steps) it is NaN
      if (Number.isFinite(m.loss)) setText("loss", m.loss.toFixed(4));
      setText("images-per-second", Math.round(m.imagesPerSecond).toLocaleString("en"));
      lossChart.add(m.step, m.loss);
      return;
    case "validation":
      setText("validation-error", percent(m.error));
      errorChart.add(m.epoch, 100 * m.error);
      return;
    case "filters":
      drawFilters(byId("filters"), m.weights, m.shape);
      return;
    case "test":
      setText("test-error", percent(m.error));
      testId("test-error").title = `${m.wrong} of ${m.count} test images wrong (${m.source})`;
      return;
    case "prediction": {
      const best = m.probabilities.indexOf(Math.max(...m.probabilities));
      setText("prediction", best < 0 ? "–" : String(best));
      showProbabilities(testId("probabilities"), m.probabilities);
      showDigit(byId("digit"), m.digit);
      return;
    }
    case "saved": {
      const url = URL.createObjectURL(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = m.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return;
    }
    case "error":
      showError(m.message);
      return;
  }
};
worker.onerror = (event) => {
  showError(`the training worker failed: ${event.message}`);
  setText("status", "error");
};

buttons.train.addEventListener("click", () => {
  lossChart.clear();
  errorChart.clear();
  setText("test-error", "–");
  setText("validation-error", "–");
  send({ type: "train" });
});
buttons.stop.addEventListener("click", () => send({ type: "stop" }));
buttons.continue.addEventListener("click", () => send({ type: "continue" }));
buttons.save.addEventListener("click", () => send({ type: "save" }));

async function load(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  send({ type: "load", name: file.name, bytes }, [bytes.buffer]);
}
const picker = byId<HTMLInputElement>("load");
picker.addEventListener("change", () => {
  const file = picker.files?.[0];
  if (file) void load(file);
  picker.value = "";
});
document.body.addEventListener("dragover", (e) => {
  e.preventDefault();
  document.body.classList.add("dragging");
});
document.body.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
document.body.addEventListener("drop", (e) => {
  e.preventDefault();
  document.body.classList.remove("dragging");
  const file = e.dataTransfer?.files[0];
  if (file) void load(file);
});

// MNIST lives beside the page (gzip-compressed at build time; see scripts/mnist-assets.ts)
send({ type: "init", settings, dataUrl: new URL("./mnist/", location.href).href });
worker.addEventListener("message", function autostart(event: MessageEvent<FromWorker>) {
  if (event.data.type === "status" && event.data.state === "ready") {
    worker.removeEventListener("message", autostart);
    if (settings.autostart) buttons.train.click();
  }
});
