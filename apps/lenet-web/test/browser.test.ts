/**
 * The built app (dist/) in headless Chromium, on `webgpu` (SwiftShader) and on `cpu` with and
 * without cross-origin isolation: the page loads with no console errors; a short training run's
 * loss falls while the step count advances and the page answers Stop and Continue; the model it
 * saves predicts a digit drawn into the canvas exactly as the same weights do in Node; and a
 * checkpoint made by lenet-cli gives the test error that `lenet-cli evaluate` prints.
 * Skipped, saying why, only where no Chromium binary exists.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { noGrad } from "@tessera/autograd";
import "@tessera/backend-cpu";
import { loadMnist, toMnistDigit } from "@tessera/datasets";
import { decodeCheckpoint, LeNet5 } from "@tessera/nn";
import * as T from "@tessera/tensor";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectErrors, findChromium, type LaunchedBrowser, launchChromium } from "./support/chromium.js";
import { type StaticServer, serveStatic } from "./support/static-server.js";

const run = promisify(execFile);
const dist = fileURLToPath(new URL("../dist", import.meta.url));
const lenetCli = fileURLToPath(new URL("../../lenet-cli/dist/main.js", import.meta.url));
const chromium = findChromium();

/** The page's text for a `data-testid`. */
const text = (page: Page, id: string) => page.$eval(`[data-testid="${id}"]`, (e) => e.textContent ?? "");

/** Waits until the status is one of `states` (failing at once on an error shown by the page). */
async function waitForStatus(page: Page, states: string[], timeout = 600_000): Promise<string> {
  await page.waitForFunction(
    (wanted: string[]) => {
      const status = document.querySelector('[data-testid="status"]')!.textContent!;
      return wanted.includes(status) || status === "error" || !(document.querySelector('[data-testid="error"]') as HTMLElement).hidden;
    },
    { timeout, polling: 200 },
    states,
  );
  const error = await text(page, "error");
  if (error) throw new Error(`the page reports: ${error}`);
  return text(page, "status");
}

/** Records every (steps, loss) the page shows, from the first script on. */
async function recordLosses(page: Page): Promise<void> {
  await page.evaluateOnNewDocument(() => {
    const seen: Array<[number, number]> = [];
    (window as unknown as { __losses: typeof seen }).__losses = seen;
    document.addEventListener("DOMContentLoaded", () => {
      const loss = document.querySelector('[data-testid="loss"]')!;
      new MutationObserver(() => {
        const steps = Number(document.querySelector('[data-testid="steps"]')!.textContent);
        seen.push([steps, Number(loss.textContent)]);
      }).observe(loss, { childList: true, characterData: true, subtree: true });
    });
  });
}

/** Clicks Save and returns the downloaded checkpoint's bytes. */
async function saveCheckpoint(page: Page, dir: string): Promise<Uint8Array> {
  const session = await page.createCDPSession();
  await session.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: dir });
  await page.click('[data-testid="save"]');
  const deadline = Date.now() + 120_000;
  for (;;) {
    const done = readdirSync(dir).find((f) => f.endsWith(".safetensors"));
    if (done) return new Uint8Array(readFileSync(join(dir, done)));
    if (Date.now() > deadline) throw new Error(`no checkpoint was downloaded into ${dir}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Probabilities of a picture under `weights`, in Node, as the page computes them. */
async function nodeProbabilities(weights: Uint8Array, picture: { width: number; height: number; data: Uint8Array }): Promise<number[]> {
  const model = new LeNet5();
  decodeCheckpoint(weights, model);
  const digit = toMnistDigit(picture)!;
  const x = T.tensor(digit, { shape: [1, 1, 28, 28] });
  const p = noGrad(() => T.tidy(() => T.softmax(model.forward(x), 1)));
  const out = Array.from(await p.data());
  T.dispose([x, p]);
  model.dispose();
  return out;
}

/** The 28x28 MNIST test image `index`, scaled 10x into the 280x280 pad as white ink on black. */
async function drawMnistDigit(page: Page, index: number): Promise<void> {
  const { test } = await loadMnist({ validation: 0 });
  const image = Array.from(test.image(index));
  await page.evaluate((pixels: number[]) => {
    const pad = document.querySelector<HTMLCanvasElement>('[data-testid="pad"]')!;
    const ctx = pad.getContext("2d")!;
    const scale = pad.width / 28;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const v = pixels[y * 28 + x]!;
        ctx.fillStyle = `rgb(${v},${v},${v})`;
        ctx.fillRect(x * scale, y * scale, scale, scale);
      }
    }
  }, image);
  // a tap ends a stroke, which asks for a prediction; it lands on ink already there
  const pad = (await page.$('[data-testid="pad"]'))!;
  const box = (await pad.boundingBox())!;
  const at = image.indexOf(Math.max(...image));
  await page.mouse.click(box.x + ((at % 28) + 0.5) * (box.width / 28), box.y + (Math.floor(at / 28) + 0.5) * (box.height / 28));
}

/** The page's probabilities (full precision) once a prediction is shown. */
async function pageProbabilities(page: Page): Promise<number[]> {
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="probabilities"] li').length === 10, { timeout: 120_000 });
  return page.$$eval('[data-testid="probabilities"] li', (items) => items.map((li) => Number((li as HTMLElement).dataset.probability)));
}

const MODES = [
  { backend: "cpu", isolated: true, threads: "2 threads", limitTrain: 1000 },
  { backend: "cpu", isolated: false, threads: "1 thread", limitTrain: 1000 },
  { backend: "webgpu", isolated: true, threads: "", limitTrain: 200 },
] as const;

if (!chromium) {
  describe.skip("lenet-web in headless Chromium (skipped: no Chromium binary; install Debian's chromium-headless-shell or set TESSERA_CHROMIUM)", () => {
    it("trains and predicts in a real browser", () => {});
  });
} else {
  describe("lenet-web in headless Chromium", () => {
    let launched: LaunchedBrowser;
    const servers = new Map<boolean, StaticServer>();
    const temp = mkdtempSync(join(tmpdir(), "lenet-web-test-"));
    /** The weights each CPU mode ended with, to compare one thread with two. */
    const cpuWeights = new Map<boolean, Uint8Array>();
    let cliCheckpoint: string;
    let cliTest: { wrong: number; count: number };

    beforeAll(async () => {
      if (!existsSync(join(dist, "index.html")))
        throw new Error(`${dist} has no build: run \`pnpm --filter lenet-web build\` (turbo builds it before the tests)`);
      launched = await launchChromium(chromium);
      for (const isolated of [true, false]) servers.set(isolated, await serveStatic(dist, { isolated }));
      // a small lenet-cli run, and what `lenet-cli evaluate` says of its best checkpoint
      const out = join(temp, "cli-run");
      const flags = ["--limit-valid", "200", "--limit-test", "500"];
      await run(process.execPath, [lenetCli, "train", "--preset", "quick", "--limit-train", "500", "--epochs", "1", ...flags, "--out", out], {
        timeout: 300_000,
      });
      cliCheckpoint = join(out, "best.safetensors");
      const { stdout } = await run(process.execPath, [lenetCli, "evaluate", cliCheckpoint, ...flags], { timeout: 300_000 });
      const m = /test error [\d.]+ % \((\d+) of (\d+) images\)/.exec(stdout);
      if (!m) throw new Error(`lenet-cli evaluate printed no test error:\n${stdout}`);
      cliTest = { wrong: Number(m[1]), count: Number(m[2]) };
    });

    afterAll(async () => {
      await launched?.close();
      for (const s of servers.values()) await s.close();
      rmSync(temp, { recursive: true, force: true });
    });

    for (const mode of MODES) {
      const label = `${mode.backend}${mode.backend === "cpu" ? (mode.isolated ? ", cross-origin isolated" : ", not isolated") : ""}`;

      describe(label, () => {
        let page: Page;
        let errors: string[];

        beforeAll(async () => {
          page = await launched.browser.newPage();
          errors = collectErrors(page);
          await recordLosses(page);
        });
        afterAll(async () => {
          await page?.close();
        });

        it("loads with no console errors and starts the backend asked for", async () => {
          const query = `?preset=quick&limitTrain=${mode.limitTrain}&limitValid=200&limitTest=500&backend=${mode.backend}`;
          await page.goto(`${servers.get(mode.isolated)!.url}${query}`);
          await waitForStatus(page, ["ready"]);
          expect(await text(page, "backend")).toBe(mode.backend);
          expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(mode.isolated);
          if (mode.threads) expect(await text(page, "backend-detail")).toContain(mode.threads);
          else expect(await text(page, "backend-detail")).toMatch(/^WebGPU on /);
          expect(errors).toEqual([]);
        });

        it("trains: the steps advance, the page answers Stop and Continue, the loss falls", async () => {
          await page.click('[data-testid="train"]');
          await page.waitForFunction(() => Number(document.querySelector('[data-testid="steps"]')!.textContent) >= 2, { timeout: 300_000 });
          // the page handles a click while the worker trains
          await page.click('[data-testid="stop"]');
          const status = await waitForStatus(page, ["stopped", "done"]);
          const total = Number(await text(page, "total-steps"));
          expect(total).toBe(2 * (mode.limitTrain / 20));
          if (status === "stopped") {
            const at = Number(await text(page, "steps"));
            expect(at).toBeLessThan(total);
            await new Promise((r) => setTimeout(r, 500));
            expect(Number(await text(page, "steps"))).toBe(at);
            await page.click('[data-testid="continue"]');
          }
          await waitForStatus(page, ["done"]);
          expect(Number(await text(page, "steps"))).toBe(total);
          const shown = await page.evaluate(() => (window as unknown as { __losses: Array<[number, number]> }).__losses);
          // the page rewrites the same loss until it reads a new one (every step on the CPU, every 10 on a GPU)
          const losses = shown.filter(([, l], i) => Number.isFinite(l) && (i === 0 || l !== shown[i - 1]![1]));
          const steps = losses.map(([s]) => s);
          expect(steps).toEqual([...steps].sort((a, b) => a - b));
          expect(losses.length, JSON.stringify(shown)).toBeGreaterThanOrEqual(2);
          expect(losses.at(-1)![1], JSON.stringify(losses)).toBeLessThan(0.8 * losses[0]![1]);
          expect(await text(page, "test-error")).toMatch(/^\d+\.\d\d %$/);
          expect(errors).toEqual([]);
        });

        it("predicts a digit drawn into the canvas as the saved weights do in Node", async () => {
          const dir = mkdtempSync(join(temp, "download-"));
          const weights = await saveCheckpoint(page, dir);
          if (mode.backend === "cpu") cpuWeights.set(mode.isolated, weights);
          await drawMnistDigit(page, 0);
          const shown = await pageProbabilities(page);
          const picture = await page.evaluate(() => {
            const pad = document.querySelector<HTMLCanvasElement>('[data-testid="pad"]')!;
            const { width, height, data } = pad.getContext("2d")!.getImageData(0, 0, pad.width, pad.height);
            return { width, height, data: Array.from(data) };
          });
          const expected = await nodeProbabilities(weights, { ...picture, data: Uint8Array.from(picture.data) });
          const tol = mode.backend === "cpu" ? 1e-6 : 1e-4;
          for (let i = 0; i < 10; i++) expect(Math.abs(shown[i]! - expected[i]!)).toBeLessThanOrEqual(tol);
          expect(Number(await text(page, "prediction"))).toBe(expected.indexOf(Math.max(...expected)));
          expect(errors).toEqual([]);
        });

        it("gives a lenet-cli checkpoint the test error lenet-cli evaluate prints", async () => {
          const input = (await page.$('[data-testid="load"]'))!;
          await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(cliCheckpoint);
          await page.waitForFunction(() => document.querySelector('[data-testid="test-error"]')!.getAttribute("title")?.includes("best.safetensors"), {
            timeout: 300_000,
          });
          await waitForStatus(page, ["done"]);
          const title = await page.$eval('[data-testid="test-error"]', (e) => e.getAttribute("title")!);
          expect(title).toBe(`${cliTest.wrong} of ${cliTest.count} test images wrong (best.safetensors)`);
          expect(await text(page, "test-error")).toBe(`${((100 * cliTest.wrong) / cliTest.count).toFixed(2)} %`);
          expect(errors).toEqual([]);
        });
      });
    }

    it("cpu: one thread (no isolation) and two threads train to bit-identical weights", () => {
      const [two, one] = [cpuWeights.get(true), cpuWeights.get(false)];
      if (!two || !one) throw new Error("a CPU run above failed before saving its weights");
      const weightsOf = (bytes: Uint8Array) => {
        const model = new LeNet5();
        decodeCheckpoint(bytes, model);
        const out = [...model.stateDict()].map(([name, t]) => [name, Array.from(t.dataSync())] as const);
        model.dispose();
        return out;
      };
      expect(weightsOf(one)).toEqual(weightsOf(two));
    });

    it("draws with touch as with a mouse", async () => {
      const page = await launched.browser.newPage();
      const errors = collectErrors(page);
      await page.setViewport({ width: 1000, height: 1200, hasTouch: true });
      await page.goto(`${servers.get(true)!.url}?backend=cpu&limitTrain=100`);
      await waitForStatus(page, ["ready"]);
      const box = (await (await page.$('[data-testid="pad"]'))!.boundingBox())!;
      await page.touchscreen.touchStart(box.x + box.width / 2, box.y + box.height * 0.2);
      for (let i = 1; i <= 10; i++) await page.touchscreen.touchMove(box.x + box.width / 2, box.y + box.height * (0.2 + 0.06 * i));
      await page.touchscreen.touchEnd();
      const probabilities = await pageProbabilities(page);
      expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(await text(page, "prediction")).toMatch(/^\d$/);
      expect(errors).toEqual([]);
      await page.close();
    });
  });
}
