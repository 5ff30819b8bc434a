/**
 * A canvas to draw a digit on with a mouse, a pen or a finger (pointer events cover all three):
 * white ink on black, like MNIST. `onChange` is called when a stroke ends.
 */
export class DrawPad {
  private drawing = false;
  private last: { x: number; y: number } | undefined;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onChange: () => void,
  ) {
    this.ctx = canvas.getContext("2d", { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener("pointerdown", (e) => this.begin(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", () => this.end());
    canvas.addEventListener("pointercancel", () => this.end());
    canvas.addEventListener("pointerleave", () => this.end());
  }

  /** Blank black canvas. */
  clear(): void {
    this.ctx.fillStyle = "#000";
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** The pixels drawn so far. */
  image(): ImageData {
    return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }

  private at(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * this.canvas.width) / r.width, y: ((e.clientY - r.top) * this.canvas.height) / r.height };
  }

  private begin(e: PointerEvent): void {
    this.drawing = true;
    this.canvas.setPointerCapture?.(e.pointerId);
    this.last = this.at(e);
    this.stroke(this.last);
  }

  private move(e: PointerEvent): void {
    if (!this.drawing) return;
    this.stroke(this.at(e));
  }

  private stroke(p: { x: number; y: number }): void {
    const ctx = this.ctx;
    ctx.strokeStyle = "#fff";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = this.canvas.width / 14;
    ctx.beginPath();
    ctx.moveTo(this.last!.x, this.last!.y);
    ctx.lineTo(p.x + 0.01, p.y);
    ctx.stroke();
    this.last = p;
  }

  private end(): void {
    if (!this.drawing) return;
    this.drawing = false;
    this.onChange();
  }
}
