/** A line chart on a canvas: one series of (x, y) points, axes scaled to the data. */
export class LineChart {
  private readonly points: Array<[number, number]> = [];
  private scheduled = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly colour: string,
    /** Formats the y axis labels. */
    private readonly label: (y: number) => string = (y) => y.toFixed(2),
  ) {}

  /** Adds a point; the chart redraws at the next animation frame. */
  add(x: number, y: number): void {
    if (!Number.isFinite(y)) return;
    this.points.push([x, y]);
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => {
        this.scheduled = false;
        this.draw();
      });
    }
  }

  /** Forgets every point. */
  clear(): void {
    this.points.length = 0;
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext("2d")!;
    const { width: w, height: h } = this.canvas;
    const pad = { left: 40, right: 8, top: 8, bottom: 16 };
    ctx.clearRect(0, 0, w, h);
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillStyle = "#666";
    if (this.points.length === 0) return;
    const xs = this.points.map((p) => p[0]);
    const ys = this.points.map((p) => p[1]);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
    const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys, 1e-9)];
    const px = (x: number) => pad.left + ((x - x0) / (x1 - x0)) * (w - pad.left - pad.right);
    const py = (y: number) => h - pad.bottom - ((y - y0) / (y1 - y0)) * (h - pad.top - pad.bottom);
    ctx.fillText(this.label(y1), 2, pad.top + 8);
    ctx.fillText(this.label(y0), 2, h - pad.bottom);
    ctx.fillText(String(x1), w - pad.right - ctx.measureText(String(x1)).width, h - 3);
    ctx.strokeStyle = "#ccc";
    ctx.beginPath();
    ctx.moveTo(pad.left, pad.top);
    ctx.lineTo(pad.left, h - pad.bottom);
    ctx.lineTo(w - pad.right, h - pad.bottom);
    ctx.stroke();
    ctx.strokeStyle = this.colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    this.points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(px(x), py(y)) : ctx.lineTo(px(x), py(y))));
    if (this.points.length === 1) ctx.arc(px(xs[0]!), py(ys[0]!), 2, 0, 2 * Math.PI);
    ctx.stroke();
  }
}
