import type { MetricsRow } from "./metrics.js";

/** A series of (x, y) points drawn in one colour. */
interface Series {
  label: string;
  colour: string;
  points: Array<[number, number]>;
  /** Draw a marker at every point (for sparse series). */
  markers?: boolean;
}

interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  top: number;
}

const WIDTH = 820;
const PANEL_HEIGHT = 260;
const MARGIN = { left: 70, right: 160, top: 36, bottom: 44 };

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** About `count` round tick values covering [lo, hi] (whole numbers only when `integers`). */
export function niceTicks(lo: number, hi: number, count = 5, integers = false): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  if (integers) step = Math.max(1, step === 2.5 * mag && mag <= 1 ? 5 * mag : step);
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 10_000) return `${(v / 1000).toFixed(a >= 100_000 ? 0 : 1)}k`;
  return Number(v.toPrecision(4)).toString();
}

function range(values: number[], padToZero: boolean): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (padToZero) lo = Math.min(0, lo);
  if (hi === lo) {
    hi = lo + (lo === 0 ? 1 : Math.abs(lo) * 0.1);
    if (!padToZero) lo -= hi - lo;
  }
  return [lo, hi + (hi - lo) * 0.05];
}

function drawPanel(p: Panel, xRange: [number, number]): string {
  const x0 = MARGIN.left;
  const x1 = WIDTH - MARGIN.right;
  const y0 = p.top + MARGIN.top;
  const y1 = p.top + PANEL_HEIGHT - MARGIN.bottom;
  const ys = p.series.flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
  const [ylo, yhi] = ys.length ? range(ys, true) : [0, 1];
  const [xlo, xhi] = xRange;
  const sx = (x: number) => x0 + ((x - xlo) / (xhi - xlo)) * (x1 - x0);
  const sy = (y: number) => y1 - ((y - ylo) / (yhi - ylo)) * (y1 - y0);
  const out: string[] = [];
  out.push(`<text x="${x0}" y="${p.top + 22}" font-size="15" font-weight="bold">${escapeXml(p.title)}</text>`);
  for (const t of niceTicks(ylo, yhi)) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${x0 - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(xlo, xhi, 8, true)) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y1}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x}" y="${y1 + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  }
  out.push(`<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${(x0 + x1) / 2}" y="${y1 + 34}" text-anchor="middle" font-size="12">iteration</text>`);
  out.push(`<text transform="translate(${x0 - 50} ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(p.yLabel)}</text>`);
  p.series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length > 1) {
      const d = pts.map(([x, y], k) => `${k === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"/>`);
    }
    if (s.markers || pts.length === 1) {
      for (const [x, y] of pts) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.colour}"/>`);
    }
    const ly = y0 + 14 + i * 20;
    out.push(`<line x1="${x1 + 14}" y1="${ly}" x2="${x1 + 38}" y2="${ly}" stroke="${s.colour}" stroke-width="2"/>`);
    out.push(`<text x="${x1 + 44}" y="${ly}" dominant-baseline="middle" font-size="12">${escapeXml(s.label)}</text>`);
  });
  return out.join("\n");
}

/**
 * The learning curves of a run as a stand-alone SVG: validation and test error (percent) against
 * iteration, and the mean training loss against iteration.
 */
export function learningCurvesSvg(rows: readonly MetricsRow[], title = "LeNet-5 on MNIST"): string {
  // the axis spans the validations (the first is at iteration 99 with batch 500, not at 0); a
  // lone point sits in the middle
  const xs = rows.map((r) => r.iteration);
  const [first, last] = [Math.min(...xs), Math.max(...xs)];
  const xRange: [number, number] = xs.length === 0 ? [0, 1] : last > first ? [first, last] : [first - Math.max(1, first / 2), first + Math.max(1, first / 2)];
  const errors: Panel = {
    title: `${title}: error`,
    yLabel: "error (%)",
    top: 0,
    series: [
      { label: "validation", colour: "#1f77b4", points: rows.map((r) => [r.iteration, r.validationError * 100]) },
      {
        label: "test (best model)",
        colour: "#d62728",
        markers: true,
        points: rows.filter((r) => r.testError !== null).map((r) => [r.iteration, r.testError! * 100]),
      },
    ],
  };
  const loss: Panel = {
    title: "training loss",
    yLabel: "cross-entropy",
    top: PANEL_HEIGHT,
    series: [{ label: "train loss", colour: "#2ca02c", points: rows.map((r) => [r.iteration, r.trainLoss]) }],
  };
  const height = 2 * PANEL_HEIGHT;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    drawPanel(errors, xRange),
    drawPanel(loss, xRange),
    rows.length === 0 ? `<text x="${WIDTH / 2}" y="${height / 2}" text-anchor="middle" font-size="14">no validation yet</text>` : "",
    "</svg>",
    "",
  ].join("\n");
}
