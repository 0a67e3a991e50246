/**
 * Fractional ordering keys: a task's place in its column is a string, and a key between any two keys can always
 * be made, so dropping a task between two others rewrites only that task's row. Keys compare byte-wise (the
 * column is COLLATE "C").
 *
 * A key is an integer part and an optional fraction. The integer part's first character says how many digits
 * follow (a: 1, b: 2, … z: 26; Z: 1, Y: 2, … A: 26 for the negative side), so appending to a column or putting
 * a task on top counts up or down and keys grow logarithmically; dropping between two neighbours bisects the
 * fraction. A fraction never ends in "0", which is what leaves room below every key.
 */

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ZERO = DIGITS[0]!;
const TOP = DIGITS[DIGITS.length - 1]!;
const SMALLEST_INTEGER = `A${ZERO.repeat(26)}`;

function digitCount(head: string): number {
  if (head >= "a" && head <= "z") return head.charCodeAt(0) - 96;
  if (head >= "A" && head <= "Z") return 91 - head.charCodeAt(0);
  throw new Error(`not a position key head: ${head}`);
}

function integerPart(key: string): string {
  const length = digitCount(key[0]!) + 1;
  if (key.length < length) throw new Error(`not a position key: ${key}`);
  return key.slice(0, length);
}

export function isPositionKey(key: string): boolean {
  if (!/^[0-9A-Za-z]+$/.test(key) || !/^[A-Za-z]/.test(key)) return false;
  const length = digitCount(key[0]!) + 1;
  if (key.length < length) return false;
  // Below the smallest integer with no fraction there is no room left.
  return key !== SMALLEST_INTEGER && !(key.length > length && key.endsWith(ZERO));
}

/** A key strictly between `before` and `after`; null means the start or the end of the column. */
export function keyBetween(before: string | null, after: string | null): string {
  if (before !== null && !isPositionKey(before)) throw new Error(`not a position key: ${before}`);
  if (after !== null && !isPositionKey(after)) throw new Error(`not a position key: ${after}`);
  if (before !== null && after !== null && before >= after) {
    throw new Error(`position keys out of order: ${before} >= ${after}`);
  }
  if (before === null && after === null) return `a${ZERO}`;
  if (before === null) {
    const int = integerPart(after!);
    const fraction = after!.slice(int.length);
    if (int === SMALLEST_INTEGER) return int + midpoint("", fraction);
    if (fraction) return int;
    return decrement(int)!;
  }
  const int = integerPart(before);
  const fraction = before.slice(int.length);
  if (after === null) return increment(int) ?? int + midpoint(fraction, null);
  const afterInt = integerPart(after);
  if (int === afterInt) return int + midpoint(fraction, after.slice(int.length));
  const next = increment(int);
  return next !== null && next < after ? next : int + midpoint(fraction, null);
}

/** The next integer part, or null past the largest. */
function increment(int: string): string | null {
  const head = int[0]!;
  const digits = [...int.slice(1)];
  for (let i = digits.length - 1; i >= 0; i--) {
    const d = DIGITS.indexOf(digits[i]!);
    if (d < DIGITS.length - 1) {
      digits[i] = DIGITS[d + 1]!;
      return head + digits.join("");
    }
    digits[i] = ZERO;
  }
  if (head === "z") return null;
  const nextHead = head === "Z" ? "a" : String.fromCharCode(head.charCodeAt(0) + 1);
  return nextHead + ZERO.repeat(digitCount(nextHead));
}

/** The previous integer part, or null below the smallest. */
function decrement(int: string): string | null {
  const head = int[0]!;
  const digits = [...int.slice(1)];
  for (let i = digits.length - 1; i >= 0; i--) {
    const d = DIGITS.indexOf(digits[i]!);
    if (d > 0) {
      digits[i] = DIGITS[d - 1]!;
      return head + digits.join("");
    }
    digits[i] = TOP;
  }
  if (head === "A") return null;
  const previousHead = head === "a" ? "Z" : String.fromCharCode(head.charCodeAt(0) - 1);
  return previousHead + TOP.repeat(digitCount(previousHead));
}

/** A fraction strictly between `a` and `b` (null: no upper bound). */
function midpoint(a: string, b: string | null): string {
  if (b !== null) {
    // Shared prefix (a missing digit of `a` counts as the smallest): the answer keeps it.
    let n = 0;
    while (n < b.length && (a[n] ?? ZERO) === b[n]) n++;
    if (n > 0) return b.slice(0, n) + midpoint(a.slice(n), b.slice(n));
  }
  const low = a.length > 0 ? DIGITS.indexOf(a[0]!) : 0;
  const high = b !== null ? DIGITS.indexOf(b[0]!) : DIGITS.length;
  if (high - low > 1) return DIGITS[(low + high) >> 1]!;
  // Adjacent first digits: b's first digit alone sorts below b itself when b is longer.
  if (b !== null && b.length > 1) return b[0]!;
  return DIGITS[low]! + midpoint(a.slice(1), null);
}
