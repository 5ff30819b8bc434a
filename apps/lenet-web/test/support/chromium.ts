/**
 * Headless Chromium for the browser tests, driven by puppeteer-core (which downloads nothing):
 * Debian's `chromium-headless-shell`, or the binary named by `TESSERA_CHROMIUM`. WebGPU runs on
 * its bundled SwiftShader with `--enable-unsafe-webgpu`; the network switches keep a closed
 * machine from waiting on connections; each launch gets a fresh profile.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type ConsoleMessage, type Page } from "puppeteer-core";

const CANDIDATES = ["/usr/bin/chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium"];

/** The Chromium binary to use, or undefined where none is installed. */
export function findChromium(): string | undefined {
  const explicit = process.env.TESSERA_CHROMIUM;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`TESSERA_CHROMIUM=${explicit}: no such file`);
    return explicit;
  }
  return CANDIDATES.find((p) => existsSync(p));
}

/** A launched browser and how to close it (removing its profile). */
export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Launches headless Chromium with WebGPU enabled and a fresh profile. */
export async function launchChromium(executablePath: string): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "lenet-web-chromium-"));
  const browser = await puppeteer.launch({
    executablePath,
    headless: "shell",
    protocolTimeout: 600_000,
    args: [
      "--no-sandbox",
      "--enable-unsafe-webgpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
      `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Console errors and uncaught exceptions of a page (of its workers too), as text. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
  page.on("workercreated", (w) => {
    w.on("console", (m: ConsoleMessage) => {
      if (m.type() === "error") errors.push(`worker console.error: ${m.text()}`);
    });
  });
  return errors;
}
