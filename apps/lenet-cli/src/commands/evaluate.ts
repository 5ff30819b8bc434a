import type { ParsedArgs } from "../cli/args.js";
import { EXIT } from "../cli/errors.js";
import { type CliIo, println } from "../cli/io.js";
import { PRESETS } from "../config/settings.js";
import { useBackend } from "../backend/select.js";
import { loadRunData } from "../data/load.js";
import { networkLine } from "../report/layer-table.js";
import { percent } from "../report/metrics.js";
import { confusionMatrix, predictClasses } from "../train/evaluate.js";
import { checkpointPath, loadModel } from "./model-file.js";
import { resolve } from "node:path";

/** The confusion matrix as text: rows are the true digits, columns the predicted ones. */
export function formatConfusion(m: number[][]): string[] {
  const width = Math.max(5, ...m.flat().map((v) => String(v).length + 1));
  const head = "true\\pred" + m.map((_, j) => String(j).padStart(width)).join("") + "   error";
  return [
    head,
    ...m.map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0);
      const wrong = total - row[i]!;
      return `${String(i).padStart(9)}${row.map((v) => String(v).padStart(width)).join("")}${(total ? ((100 * wrong) / total).toFixed(2) : "-").padStart(8)} %`;
    }),
  ];
}

/** `lenet-cli evaluate CHECKPOINT`: validation and test error and the test confusion matrix. */
export async function evaluateCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const path = await checkpointPath(args.positionals[0]!, io.cwd);
  const active = await useBackend(args.flags.backend ?? "cpu");
  const data = await loadRunData(args.flags.data !== undefined ? resolve(io.cwd, args.flags.data) : null, args.flags);
  const { model, metadata, network, recorded } = await loadModel(path);
  try {
    const batchSize = args.flags.batchSize ?? PRESETS.tutorial.evalBatchSize;
    const out = io.stdout;
    const where = typeof metadata.iteration === "number" ? ` (saved at epoch ${metadata.epoch}, iteration ${metadata.iteration})` : "";
    println(out, `checkpoint ${path}${where}, backend ${active.name}`);
    println(out, networkLine(network, recorded));
    const results: Array<[string, number[][]]> = [];
    for (const split of [data.valid, data.test]) {
      const pred = await predictClasses(model, split, batchSize);
      const m = confusionMatrix(split.labels, pred);
      const wrong = split.count - m.reduce((a, row, i) => a + row[i]!, 0);
      const label = split.name === "valid" ? "validation" : "test";
      println(out, `${label} error ${percent(split.count ? wrong / split.count : 0)} % (${wrong} of ${split.count} images)`);
      results.push([label, m]);
    }
    const [, testMatrix] = results[1]!;
    println(out, "");
    println(out, `confusion matrix of the test set (${data.test.count} images; rows: true digit, columns: predicted digit):`);
    for (const line of formatConfusion(testMatrix)) println(out, line);
    return EXIT.ok;
  } finally {
    model.dispose();
  }
}
