/** A fenced code block of a markdown page. */
export interface CodeBlock {
  /** The fence's language (`sh`, `ts`, `json`...). */
  lang: string;
  /** The block's text, ending with a newline. */
  code: string;
  /** The file the block is, when the line before it is exactly `` `path`: `` (else undefined). */
  file?: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The fenced code blocks of `markdown`, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^```(\S*)\s*$/);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && lines[end] !== "```") end++;
    if (end === lines.length) throw new Error(`unclosed code block at line ${i + 1}`);
    // the paragraph line before the fence (skipping one blank line) may name the file
    const before = lines[i - 1] === "" ? lines[i - 2] : lines[i - 1];
    const file = before?.match(/^`([^`]+)`:$/)?.[1];
    blocks.push({ lang: open[1]!, code: `${lines.slice(i + 1, end).join("\n")}\n`, line: i + 1, ...(file ? { file } : {}) });
    i = end;
  }
  return blocks;
}
