/** An error raised while reading a dataset: names the file (when there is one) and what is wrong with it. */
export class DatasetError extends Error {
  /** The file (or directory) that was refused, when the error concerns one. */
  readonly file: string | undefined;
  /** What is wrong, without the file name. */
  readonly reason: string;
  constructor(file: string | undefined, reason: string, options?: { cause?: unknown }) {
    super(file === undefined ? reason : `${file}: ${reason}`, options);
    this.name = "DatasetError";
    this.file = file;
    this.reason = reason;
  }
}
