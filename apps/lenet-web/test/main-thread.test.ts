/**
 * The CPU backend on a browser page's main thread (test/main-thread/page.ts): where
 * `Atomics.wait` throws, the caller spins for the worker's last chunks. In a cross-origin
 * isolated page two threads share the jobs; without isolation one runs them; the weights after
 * three LeNet-5 training steps are bit-identical either way. Skipped, saying why, only where no
 * Chromium binary exists.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundlePage } from "./support/bundle-page.js";
import { collectErrors, findChromium, type LaunchedBrowser, launchChromium } from "./support/chromium.js";
import { pageReport } from "./support/page-report.js";
import { serveStatic } from "./support/static-server.js";
import type { MainThreadReport } from "./main-thread/page.js";

const chromium = findChromium();

if (!chromium) {
  describe.skip("the CPU backend on a page's main thread (skipped: no Chromium binary; install Debian's chromium-headless-shell or set TESSERA_CHROMIUM)", () => {
    it("trains on the main thread", () => {});
  });
} else {
  describe("the CPU backend on a page's main thread", () => {
    const dir = mkdtempSync(join(tmpdir(), "lenet-web-main-thread-"));
    let launched: LaunchedBrowser;
    const reports = new Map<boolean, MainThreadReport>();

    beforeAll(async () => {
      await bundlePage(fileURLToPath(new URL("./main-thread/page.ts", import.meta.url)), dir);
      launched = await launchChromium(chromium);
    });
    afterAll(async () => {
      await launched?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const isolated of [true, false]) {
      it(`trains with WebAssembly SIMD ${isolated ? "on two threads (cross-origin isolated)" : "on one thread (not isolated)"}`, async () => {
        const server = await serveStatic(dir, { isolated });
        const page = await launched.browser.newPage();
        const errors = collectErrors(page);
        try {
          await page.goto(server.url);
          const report = await pageReport<MainThreadReport>(page, "__mainThread");
          expect(report.error).toBeUndefined();
          const [asked2, asked1] = report.runs;
          expect([asked2!.engine, asked1!.engine]).toEqual(["wasm", "wasm"]);
          expect([asked2!.threads, asked1!.threads]).toEqual([isolated ? 2 : 1, 1]);
          if (isolated) expect(asked2!.jobsShared).toBeGreaterThan(0);
          expect(asked2!.weights).toEqual(asked1!.weights);
          expect(errors).toEqual([]);
          reports.set(isolated, report);
        } finally {
          await page.close();
          await server.close();
        }
      });
    }

    it("gives the same weights with and without isolation", () => {
      const [a, b] = [reports.get(true), reports.get(false)];
      if (!a || !b) throw new Error("a run above failed");
      expect(a.runs[0]!.weights).toEqual(b.runs[0]!.weights);
    });
  });
}
