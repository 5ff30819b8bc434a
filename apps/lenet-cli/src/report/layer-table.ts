import { lenet5Geometry } from "@tessera/nn";
import type { NetworkOptions } from "../model/network.js";

/** One line of the layer table: a stage of the network for one image. */
export interface LayerRow {
  /** The tutorial's name of the layer the stage belongs to ("" for a layer's second stage). */
  layer: string;
  what: string;
  /** Feature maps [channels, height, width] or units [n] after the stage. */
  output: number[];
  /** Weights and biases the stage owns. */
  parameters: number;
  /** Multiply-adds the stage costs per image (0 for pooling and activations, which multiply nothing). */
  multiplyAdds: number;
}

/**
 * LeNet-5's stages with their output shapes, parameters and multiply-adds per image. A
 * convolutional layer costs the chapter's K(l) x (M-m+1)(N-n+1) x m x n x K(l-1): K(l) maps,
 * each an m x n filter over K(l-1) input maps at every position where it fits. (The chapter
 * writes (M-m) x (N-n) positions; a valid convolution has one more in each direction: a 5x5
 * filter fits 24x24 times in 28x28.) A dense layer costs n_in x n_out.
 */
export function layerRows(net: NetworkOptions): LayerRow[] {
  const g = lenet5Geometry(net);
  const f = net.filterSize;
  const p = net.poolSize;
  const conv = (layer: string, input: number[], output: number[]): LayerRow => {
    const [k, h, w] = output as [number, number, number];
    const inMaps = input[0]!;
    return { layer, what: `conv ${f}x${f}, ${k} filters`, output, parameters: k * inMaps * f * f + k, multiplyAdds: k * h * w * f * f * inMaps };
  };
  const pool = (output: number[]): LayerRow => ({ layer: "", what: `max-pool ${p}x${p}, + bias, tanh`, output, parameters: 0, multiplyAdds: 0 });
  const dense = (layer: string, what: string, nIn: number, nOut: number): LayerRow => ({
    layer,
    what,
    output: [nOut],
    parameters: nIn * nOut + nOut,
    multiplyAdds: nIn * nOut,
  });
  return [
    { layer: "input", what: "MNIST image", output: g.input, parameters: 0, multiplyAdds: 0 },
    conv("layer0", g.input, g.conv1),
    pool(g.pool1),
    conv("layer1", g.pool1, g.conv2),
    pool(g.pool2),
    dense("layer2", `dense ${g.flat} -> ${net.hidden}, tanh`, g.flat, net.hidden),
    dense("layer3", `dense ${net.hidden} -> ${net.classes}, softmax`, net.hidden, net.classes),
  ];
}

/** The whole network's parameters and multiply-adds per image. */
export function networkCost(net: NetworkOptions): { parameters: number; multiplyAdds: number } {
  const rows = layerRows(net);
  return { parameters: rows.reduce((a, r) => a + r.parameters, 0), multiplyAdds: rows.reduce((a, r) => a + r.multiplyAdds, 0) };
}

/** What each `init` means, in a few words. */
const INIT_WORDS: Record<NetworkOptions["init"], string> = {
  "theano-conv": "the drawn filters flipped, as Theano's convolution applied them: the tutorial's exact start",
  "as-drawn": "the drawn filters used as cross-correlation weights unflipped: the tutorial's start mirrored",
};

const count = (n: number) => (n === 0 ? "" : n.toLocaleString("en-US"));

/** The table printed at the start of every training run. */
export function layerTable(net: NetworkOptions): string[] {
  const rows = layerRows(net);
  const total = networkCost(net);
  const cells = [
    ["layer", "what", "output", "parameters", "multiply-adds"],
    ...rows.map((r) => [r.layer, r.what, r.output.join("x"), count(r.parameters), count(r.multiplyAdds)]),
    ["total", "", "", count(total.parameters), count(total.multiplyAdds)],
  ];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) => `  ${row.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ")}`.trimEnd();
  return [
    `... network: LeNet-5, init ${net.init} (${INIT_WORDS[net.init]}); per image:`,
    ...cells.map(line),
    "  (a convolution costs K(l) x (M-m+1)(N-n+1) x m x n x K(l-1) multiply-adds, the chapter's formula; a dense layer n_in x n_out)",
  ];
}

/** The network in one line, as `evaluate` prints it; `recorded`: whether the checkpoint said what it holds. */
export function networkLine(net: NetworkOptions, recorded: boolean): string {
  const cost = networkCost(net);
  const origin = recorded ? `trained from --init ${net.init}` : "the file records no architecture: taken for the tutorial's";
  return (
    `network: LeNet-5 with --kernels ${net.kernels.join(",")} --filter-size ${net.filterSize} --pool-size ${net.poolSize} --hidden ${net.hidden}, ` +
    `${cost.parameters.toLocaleString("en-US")} parameters, ${cost.multiplyAdds.toLocaleString("en-US")} multiply-adds per image (${origin})`
  );
}
