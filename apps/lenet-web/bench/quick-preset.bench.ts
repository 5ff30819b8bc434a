/**
 * The quick preset in headless Chromium, on each backend (`pnpm --filter lenet-web bench`, after
 * `vite build`): prints training images/s and the test error the page reports. A benchmark, not
 * a test: it prints figures. `LENET_WEB_BENCH=node,cpu,cpu-1,webgpu` picks the runs (default
 * `node,cpu,cpu-1`: `node` is the same preset in lenet-cli, the baseline of the sitting; `cpu-1`
 * is the CPU without cross-origin isolation, so one thread; `webgpu` takes about 15 minutes on
 * SwiftShader, Chromium's software adapter on a machine without a GPU).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { it } from "vitest";
import { findChromium, launchChromium } from "../test/support/chromium.js";
import { serveStatic } from "../test/support/static-server.js";

const dist = fileURLToPath(new URL("../dist", import.meta.url));
const RUNS = { cpu: { backend: "cpu", isolated: true }, "cpu-1": { backend: "cpu", isolated: false }, webgpu: { backend: "webgpu", isolated: true } } as const;
const chosen = (process.env.LENET_WEB_BENCH ?? "node,cpu,cpu-1").split(",") as Array<keyof typeof RUNS | "node">;

/** lenet-cli's quick preset in Node: training images/s (mean of its epochs) and test error. */
function nodeBaseline(): string {
  const out = mkdtempSync(join(tmpdir(), "lenet-web-bench-"));
  try {
    const cli = fileURLToPath(new URL("../../lenet-cli/dist/main.js", import.meta.url));
    const stdout = execFileSync(process.execPath, [cli, "train", "--preset", "quick", "--out", out], { encoding: "utf8" });
    const [header, ...rows] = readFileSync(join(out, "metrics.csv"), "utf8").trim().split("\n");
    const column = header!.split(",").indexOf("images_per_second");
    const ips = rows.map((r) => Number(r.split(",")[column]));
    const test = /test performance ([\d.]+) %/.exec(stdout)?.[1] ?? "?";
    return `${Math.round(ips.reduce((a, b) => a + b, 0) / ips.length).toLocaleString("en")} training images/s; test error ${Number(test).toFixed(2)} %`;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

it("quick preset in headless Chromium", async () => {
  const chromium = findChromium();
  if (!chromium) throw new Error("no Chromium binary (install chromium-headless-shell or set TESSERA_CHROMIUM)");
  const { browser, close } = await launchChromium(chromium);
  try {
    for (const name of chosen) {
      if (name === "node") {
        console.log(`node (lenet-cli): ${nodeBaseline()}`);
        continue;
      }
      const run = RUNS[name];
      const server = await serveStatic(dist, { isolated: run.isolated });
      const page = await browser.newPage();
      const start = Date.now();
      await page.goto(`${server.url}?preset=quick&backend=${run.backend}&autostart=1`);
      // short polls: a long wait inside the page would outlast the protocol's timeout
      const status = () => page.$eval('[data-testid="status"]', (e) => e.textContent);
      while (!["done", "error"].includes((await status()) ?? "")) await new Promise((r) => setTimeout(r, 2000));
      const text = (id: string) => page.$eval(`[data-testid="${id}"]`, (e) => e.textContent);
      const [detail, ips, testError, error] = await Promise.all([text("backend-detail"), text("images-per-second"), text("test-error"), text("error")]);
      console.log(
        `${name}: ${detail}; ${ips} training images/s; test error ${testError}; ${((Date.now() - start) / 1000).toFixed(0)} s in all${error ? `; ERROR ${error}` : ""}`,
      );
      await page.close();
      await server.close();
    }
  } finally {
    await close();
  }
}, 7_200_000);
