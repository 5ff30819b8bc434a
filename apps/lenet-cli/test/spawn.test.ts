import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { loadSafetensors } from "@tessera/nn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The compiled CLI as a real process; only when it was built (pnpm --filter lenet-cli build).
const main = join(__dirname, "..", "dist", "main.js");
const repoRoot = join(__dirname, "..", "..", "..");
const built = existsSync(main);

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI; `onStdout` sees the stdout so far after each chunk and may signal the child.
 * A child still running after `timeoutMs` (far more than any run here needs, even on a loaded
 * machine) is killed, so a hang fails the test instead of stalling the suite.
 */
function run(args: string[], onStdout?: (stdout: string, sigint: () => void) => void, timeoutMs = 240_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [main, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const sigint = () => child.kill("SIGINT");
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      onStdout?.(stdout, sigint);
    });
    child.stderr!.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe("the lenet-cli command (bin/lenet-cli.mjs)", () => {
  it("is executable, and says how to build the CLI when dist/ is missing", async () => {
    const bin = join(__dirname, "..", "bin", "lenet-cli.mjs");
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    // a copy next to an empty package folder: no dist/main.js there
    const dir = await mkdtemp(join(tmpdir(), "lenet-cli-bin-"));
    try {
      await mkdir(join(dir, "bin"));
      await copyFile(bin, join(dir, "bin", "lenet-cli.mjs"));
      const r = spawnSync(process.execPath, [join(dir, "bin", "lenet-cli.mjs"), "--version"], { encoding: "utf8", timeout: 120_000 });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toMatch(/^lenet-cli: the CLI is not built yet: run `pnpm build`/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!built)("dist/main.js", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "lenet-cli-spawn-"));
  });
  afterAll(async () => rm(tmp, { recursive: true, force: true }));

  it("prints the help and exits 0", () => {
    const r = spawnSync(process.execPath, [main, "--help"], { encoding: "utf8", timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^lenet-cli: trains and runs LeNet-5/);
    expect(r.stdout).toContain("--limit-train N");
  });

  it("is executable, as the lenet-cli command, and pnpm exec finds it at the repository root", () => {
    expect(statSync(main).mode & 0o111).not.toBe(0);
    const direct = spawnSync(main, ["--version"], { encoding: "utf8", timeout: 120_000 });
    expect(direct.status).toBe(0);
    expect(direct.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const viaPnpm = spawnSync("pnpm", ["exec", "lenet-cli", "--version"], { cwd: repoRoot, encoding: "utf8", timeout: 120_000 });
    expect(viaPnpm.stderr).toBe("");
    expect(viaPnpm.stdout.trim()).toBe(direct.stdout.trim());
  });

  it("resolves a relative path against INIT_CWD when pnpm's start script runs it, and shows where it led", () => {
    const env = { ...process.env, npm_lifecycle_event: "start", npm_package_name: "lenet-cli", INIT_CWD: tmp };
    const r = spawnSync(process.execPath, [main, "evaluate", "runs/nothing"], { cwd: join(__dirname, ".."), env, encoding: "utf8", timeout: 120_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`lenet-cli: runs/nothing (${join(tmp, "runs", "nothing")}): no such checkpoint file or run directory`);
  });

  it("exits 2 with one error line and the usage on a bad flag", () => {
    const r = spawnSync(process.execPath, [main, "--epochs", "zero"], { encoding: "utf8", timeout: 120_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toBe('lenet-cli: --epochs: expected a positive integer, got "zero"');
    expect(r.stderr.split("\n")[1]).toMatch(/^Usage: lenet-cli/);
  });

  // 400 training images in 20 minibatches of 20, 60 epochs (1200 iterations): several seconds on
  // an idle machine, so the Ctrl-C sent when training starts always lands before the end.
  const SMALL = ["--limit-train", "400", "--batch-size", "20", "--limit-valid", "100", "--limit-test", "100", "--epochs", "60"];

  it("on a real SIGINT during training: finishes the step, saves last.safetensors, exits 130; --resume continues to the end", async () => {
    const out = join(tmp, "interrupted");
    let sent = false;
    const first = await run([...SMALL, "--out", out], (stdout, sigint) => {
      // Press Ctrl-C once, as soon as the training loop starts.
      if (!sent && stdout.includes("... training:")) {
        sent = true;
        sigint();
      }
    });
    expect(sent).toBe(true);
    expect(first.signal).toBeNull();
    expect(first.code).toBe(130);
    const err = first.stderr.trim().split("\n");
    expect(err[0]).toBe("lenet-cli: stopping after the current step (Ctrl-C again to quit now)");
    const said = err[1]!.match(/^Interrupted in epoch \d after \d+\/20 minibatches \((\d+) iterations\): saved (.+); continue with --resume (.+)$/);
    expect(said?.slice(2)).toEqual([join(out, "last.safetensors"), out]);
    expect(err).toHaveLength(2);
    const last = await loadSafetensors(join(out, "last.safetensors"));
    const state = JSON.parse(last.metadata.run!);
    const stepsBefore = state.totals.steps as number;
    expect(stepsBefore).toBe(Number(said![1]));
    expect(stepsBefore).toBeLessThan(1200);
    expect(JSON.parse(last.metadata.optimizer!)).toMatchObject({ type: "SGD", scalars: { stepCount: stepsBefore } });
    expect(JSON.parse(await readFile(join(out, "summary.json"), "utf8"))).toMatchObject({ status: "interrupted", iterations: stepsBefore });

    const second = await run(["--resume", out]);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`... resuming from ${join(out, "last.safetensors")}`);
    expect(second.stdout).toContain("Optimization complete.");
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ status: "finished", stop_reason: "epochs", iterations: 1200, images_trained: 24_000, last_epoch: 60 });
    const config = JSON.parse(await readFile(join(out, "config.json"), "utf8"));
    expect(config.resumed).toHaveLength(1);
  }, 600_000);

  it("through `pnpm -s --filter lenet-cli start` at the repository root: paths from the root, the app's lines first, a quiet Ctrl-C", async () => {
    const out = join(tmp, "via-pnpm");
    // its own process group, signalled as a whole: what a terminal does on Ctrl-C
    const child = spawn("pnpm", ["-s", "--filter", "lenet-cli", "start", ...SMALL, "--out", relative(repoRoot, out)], {
      cwd: repoRoot,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let sent = false;
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 240_000);
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      if (!sent && stdout.includes("... training:")) {
        sent = true;
        process.kill(-child.pid!, "SIGINT");
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
    clearTimeout(timer);
    expect(sent).toBe(true);
    // pnpm ends the way a shell reports as 130: by the SIGINT it got too, once the CLI exited
    expect([code, signal], `${stdout}\n${stderr}`).toEqual(signal === null ? [130, null] : [null, "SIGINT"]);
    // nothing from turbo or pnpm before the app's first line, nor after it
    expect(stdout.split("\n")[0]).toBe("... loading data");
    expect(stderr).not.toContain("ERR_PNPM");
    expect(stderr.trim().split("\n").at(-1)).toMatch(/^Interrupted in epoch \d+ after \d+\/20 minibatches .*; continue with --resume /);
    // --out was taken relative to where pnpm was run, not apps/lenet-cli
    expect(existsSync(join(out, "last.safetensors"))).toBe(true);
  }, 600_000);

  it("ends evaluate on the first SIGINT with exit code 130, without finishing the evaluation", async () => {
    const checkpoint = join(tmp, "interrupted", "last.safetensors");
    expect(existsSync(checkpoint)).toBe(true);
    let sent = false;
    // The whole validation and test sets (20,000 images) one image at a time: far more work
    // than it takes the Ctrl-C, sent as the evaluation starts, to arrive.
    const r = await run(["evaluate", checkpoint, "--batch-size", "1"], (stdout, sigint) => {
      if (!sent && stdout.includes(`checkpoint ${checkpoint}`)) {
        sent = true;
        sigint();
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr.trim()).toBe("lenet-cli: interrupted");
    expect(r.stdout).not.toContain("test error");
    expect(r.stdout).not.toContain("confusion matrix");
  }, 600_000);
});
