// Locating a JSON syntax error (RFC 8259) by offset and rule, so errors can name the line and
// column without quoting the input: JSON.parse's own messages may embed the offending text.

export interface JsonSyntaxError {
  /** UTF-16 offset of the first character that breaks the grammar (text length at end of input). */
  readonly offset: number;
  readonly rule: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipWs(text: string, i: number): number {
  let j = i;
  while (WS.has(text.charCodeAt(j))) j++;
  return j;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** End of the string starting at the '"' at `i`, or an error. */
function scanString(text: string, i: number): number | JsonSyntaxError {
  let j = i + 1;
  for (;;) {
    if (j >= text.length) return { offset: text.length, rule: 'unterminated string' };
    const c = text.charCodeAt(j);
    if (c === 34) return j + 1;
    if (c < 0x20) return { offset: j, rule: 'control character in string' };
    if (c === 92) {
      const e = text[j + 1] ?? '';
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6)))
          return { offset: j, rule: 'invalid \\u escape' };
        j += 6;
        continue;
      }
      if (!'"\\/bfnrt'.includes(e) || e === '') return { offset: j, rule: 'invalid escape' };
      j += 2;
      continue;
    }
    j++;
  }
}

/** End of the number starting at `i`, or an error. */
function scanNumber(text: string, i: number): number | JsonSyntaxError {
  const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  m.lastIndex = i;
  if (!m.test(text)) return { offset: i, rule: 'invalid number' };
  const end = m.lastIndex;
  if (isDigit(text.charCodeAt(end)) || text[end] === '.') return { offset: end, rule: 'invalid number' };
  return end;
}

/** End of a scalar value (string, number, literal) at `i`, or an error. */
function scanScalar(text: string, i: number): number | JsonSyntaxError {
  const c = text.charCodeAt(i);
  if (c === 34) return scanString(text, i);
  if (c === 45 || isDigit(c)) return scanNumber(text, i);
  for (const lit of ['true', 'false', 'null']) {
    if (text.startsWith(lit, i)) return i + lit.length;
  }
  if (i >= text.length) return { offset: i, rule: 'unexpected end of input' };
  return { offset: i, rule: 'unexpected character' };
}

/**
 * The first syntax error in `text`, or undefined when it is valid JSON. Iterative, so deeply
 * nested input cannot exhaust the stack.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const stack: ('[' | '{')[] = [];
  let i = skipWs(text, 0);
  // The state loop: expect a value, then what may follow it in the current container.
  for (;;) {
    // --- a value is expected at i
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      const open = c === 91 ? '[' : '{';
      const j = skipWs(text, i + 1);
      const close = open === '[' ? 93 : 125;
      if (text.charCodeAt(j) === close) {
        i = j + 1;
      } else {
        stack.push(open);
        if (open === '{') {
          const k = expectKey(text, j);
          if (typeof k !== 'number') return k;
          i = k;
        } else {
          i = j;
        }
        continue;
      }
    } else {
      const end = scanScalar(text, i);
      if (typeof end !== 'number') return end;
      i = end;
    }
    // --- after a value
    for (;;) {
      i = skipWs(text, i);
      const top = stack.at(-1);
      if (top === undefined) {
        return i === text.length ? undefined : { offset: i, rule: 'unexpected content after the value' };
      }
      const d = text.charCodeAt(i);
      if (i >= text.length) return { offset: i, rule: 'unexpected end of input' };
      if (d === 44) {
        i = skipWs(text, i + 1);
        if (top === '{') {
          const k = expectKey(text, i);
          if (typeof k !== 'number') return k;
          i = k;
        }
        break;
      }
      if ((top === '[' && d === 93) || (top === '{' && d === 125)) {
        stack.pop();
        i++;
        continue;
      }
      return { offset: i, rule: top === '[' ? "expected ',' or ']'" : "expected ',' or '}'" };
    }
  }
}

/** A member name and its ':' at `i`; returns where the value starts. */
function expectKey(text: string, i: number): number | JsonSyntaxError {
  if (text.charCodeAt(i) !== 34) {
    return { offset: i, rule: i >= text.length ? 'unexpected end of input' : 'expected a member name' };
  }
  const end = scanString(text, i);
  if (typeof end !== 'number') return end;
  const j = skipWs(text, end);
  if (text.charCodeAt(j) !== 58) return { offset: j, rule: "expected ':'" };
  return skipWs(text, j + 1);
}

/** 1-based line and column (UTF-16 units) of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}
