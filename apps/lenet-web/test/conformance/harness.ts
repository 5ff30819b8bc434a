/**
 * The WebGPU conformance cases in a browser page: every op case of the catalogue against the
 * float64 reference, and every differentiable one against numeric gradients, with the same
 * checks the vitest suites run in Node (`@tessera/*\/testing/portable`). Results go to
 * `window.__conformance` for the test that opened the page.
 */
import "@tessera/autograd";
import { checkGradientCase, differentiableInputs } from "@tessera/autograd/testing/portable";
import { createWebGPUBackend } from "@tessera/backend-webgpu";
import { registerBackend, setBackend } from "@tessera/tensor";
import { checkForwardCase, conformanceCases, conformanceSeed } from "@tessera/tensor/testing/portable";

/** One check's outcome. */
export interface CaseResult {
  name: string;
  /** The case's op, and whether this was its gradient check. */
  op: string;
  gradient: boolean;
  status: "passed" | "failed";
  message?: string;
  /** Milliseconds the check took. */
  ms: number;
}

/** What the page reports. */
export interface ConformanceReport {
  adapter: string;
  done: boolean;
  results: CaseResult[];
  error?: string;
}

const report: ConformanceReport = { adapter: "", done: false, results: [] };
(window as unknown as { __conformance: ConformanceReport }).__conformance = report;

async function run(result: Pick<CaseResult, "name" | "op" | "gradient">, check: () => Promise<void>): Promise<void> {
  const start = performance.now();
  try {
    await check();
    report.results.push({ ...result, status: "passed", ms: performance.now() - start });
  } catch (e) {
    report.results.push({ ...result, status: "failed", message: e instanceof Error ? e.message : String(e), ms: performance.now() - start });
  }
}

/** `?only=text` runs the cases whose name contains the text (for looking into one op). */
const only = new URLSearchParams(location.search).get("only");

async function main(): Promise<void> {
  const gpu = await createWebGPUBackend();
  const a = gpu.adapter;
  report.adapter = `${[a.vendor, a.architecture, a.description].filter((s) => s).join(" ")}${a.isFallbackAdapter ? " (fallback)" : ""}`;
  registerBackend("conformance-webgpu", () => gpu, -100);
  const backend = await setBackend("conformance-webgpu");
  const seed = conformanceSeed();
  const cases = conformanceCases();
  for (const [index, c] of cases.entries()) {
    if (gpu.gaps[c.name] ?? gpu.gaps[c.op]) continue;
    if (only && !c.name.includes(only)) continue;
    await run({ name: c.name, op: c.op, gradient: false }, () => checkForwardCase(backend, c, index, seed, "webgpu in a browser"));
    if (differentiableInputs(c).length > 0) {
      await run({ name: `d/dx ${c.name}`, op: c.op, gradient: true }, () => checkGradientCase(backend, c, index, seed, "webgpu in a browser"));
    }
  }
}

main()
  .catch((e: unknown) => {
    report.error = e instanceof Error ? e.message : String(e);
  })
  .finally(() => {
    report.done = true;
  });
