/**
 * Arrays printed the way numpy (before 1.14, the chapter's) printed float64 arrays with its default
 * print options: 8 digits of precision; scientific notation when the smallest non-zero magnitude is
 * below 1e-4, the largest is 1e8 or more, or they span more than a factor 1000; otherwise fixed
 * notation with trailing zeros turned into spaces; every element right-aligned to one width
 * (with room for a sign) and separated by a space.
 */

const PRECISION = 8;

function useScientific(values: readonly number[]): boolean {
  const mags = values.map(Math.abs).filter((v) => v > 0 && Number.isFinite(v));
  if (mags.length === 0) return false;
  const max = Math.max(...mags);
  const min = Math.min(...mags);
  return max >= 1e8 || min < 1e-4 || max / min > 1000;
}

/** Digits after the point needed to show `v` with at most `precision` decimals (numpy's `_digits`). */
function digits(v: number, precision: number): number {
  const s = Math.abs(v).toFixed(precision);
  const frac = s.split(".")[1] ?? "";
  return frac.replace(/0+$/, "").length;
}

/** The element formatter numpy picks for all of `values`. */
export function numpyFormatter(values: readonly number[]): (v: number) => string {
  if (useScientific(values)) {
    const width = PRECISION + 7;
    return (v) => {
      const [mant, exp] = v.toExponential(PRECISION).split("e");
      const e = Number(exp);
      const s = `${mant}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
      return s.padStart(width);
    };
  }
  const finite = values.filter(Number.isFinite);
  const max = finite.length ? Math.max(...finite.map(Math.abs)) : 0;
  const precision = Math.max(0, ...finite.filter((v) => v !== 0).map((v) => digits(v, PRECISION)));
  // numpy: len(str(int(max))) + precision + 2, room for the point and a sign (or its blank).
  const width = String(Math.trunc(max)).length + precision + 2;
  return (v) => {
    const s = v.toFixed(precision).padStart(width);
    const stripped = s.replace(/0+$/, "");
    // numpy keeps at least one digit after the point ("1." would be "1.0")
    const kept = stripped.endsWith(".") ? stripped + "0" : stripped;
    return kept.padEnd(s.length);
  };
}

/** A 2-D array as numpy prints it: `[[ a  b]\n [ c  d]]`. */
export function formatMatrix(rows: readonly (readonly number[])[]): string {
  const fmt = numpyFormatter(rows.flat());
  return rows.map((row, i) => `${i === 0 ? "[[" : " ["}${row.map(fmt).join(" ")}]${i === rows.length - 1 ? "]" : ""}`).join("\n");
}
