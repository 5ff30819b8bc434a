/** The ten class probabilities as bars, and the network's 28x28 input beside them. */
export function showProbabilities(list: HTMLElement, probabilities: readonly number[]): void {
  list.replaceChildren(
    ...probabilities.map((p, digit) => {
      const item = document.createElement("li");
      item.dataset.digit = String(digit);
      item.dataset.probability = String(p);
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = `${(100 * p).toFixed(1)}%`;
      const track = document.createElement("span");
      track.append(bar);
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = `${(100 * p).toFixed(1)} %`;
      item.append(String(digit), track, value);
      return item;
    }),
  );
}

/** Draws 784 values in [0, 1] as a 28x28 grey image. */
export function showDigit(canvas: HTMLCanvasElement, digit: Float32Array | null): void {
  const image = new ImageData(28, 28);
  if (digit) for (let i = 0; i < 784; i++) image.data.set([255 * digit[i]!, 255 * digit[i]!, 255 * digit[i]!, 255], 4 * i);
  canvas.getContext("2d")!.putImageData(image, 0, 0);
}
