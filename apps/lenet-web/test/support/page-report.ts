import type { Page } from "puppeteer-core";

/**
 * Waits for a test page's report (`window[key]`, an object with `done`) to say it is done, by
 * short polls: one long wait inside the page would outlast the DevTools protocol's timeout.
 */
export async function pageReport<R extends { done: boolean }>(page: Page, key: string, intervalMs = 500): Promise<R> {
  for (;;) {
    const report = await page.evaluate((k: string) => (window as unknown as Record<string, unknown>)[k], key);
    if ((report as R | undefined)?.done) return report as R;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
