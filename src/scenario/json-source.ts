// Parses JSON and remembers where each value starts, so that an error found on the
// parsed value can name the line and column of the file. JSON.parse gives no positions.
export type JsonPath = (string | number)[];

export interface Position {
  line: number;
  column: number;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: Position,
  ) {
    super(message);
  }
}

export interface ParsedJson {
  value: unknown;
  /** Position of the value at a JSON path (of the key, for object members). */
  positionOf(path: JsonPath): Position;
}

export function parseJsonWithPositions(text: string): ParsedJson {
  const positions = new Map<string, Position>();
  let i = 0;
  let line = 1;
  let lineStart = 0;

  const here = (): Position => ({ line, column: i - lineStart + 1 });
  const fail = (what: string): never => {
    throw new JsonSyntaxError(what, here());
  };
  const skipSpace = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        line++;
        i++;
        lineStart = i;
      } else if (c === 32 || c === 9 || c === 13) i++;
      else break;
    }
  };

  const parseString = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text[i] === '\n') fail('a string cannot span lines: close it with " or write \\n');
      i++;
    }
    if (i >= text.length) fail('unterminated string: add the closing "');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('invalid escape in string');
    }
  };

  const parseValue = (path: JsonPath): unknown => {
    skipSpace();
    positions.set(JSON.stringify(path), positions.get(JSON.stringify(path)) ?? here());
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      skipSpace();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skipSpace();
        if (text[i] !== '"')
          fail(
            text[i] === '}'
              ? 'trailing comma before }: remove the last ","'
              : 'expected a property name in double quotes',
          );
        const keyPos = here();
        const key = parseString();
        if (Object.hasOwn(obj, key)) fail(`duplicate property "${key}": keep only one`);
        positions.set(JSON.stringify([...path, key]), keyPos);
        skipSpace();
        if (text[i] !== ':') fail(`expected ":" after "${key}"`);
        i++;
        obj[key] = parseValue([...path, key]);
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('expected "," or "}" (is a comma missing between properties?)');
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      skipSpace();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue([...path, arr.length]));
        skipSpace();
        if (text[i] === ',') {
          i++;
          skipSpace();
          if (text[i] === ']') fail('trailing comma before ]: remove the last ","');
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected "," or "]" (is a comma missing between items?)');
      }
    }
    if (c === '"') return parseString();
    const literal = /^(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!literal)
      return fail(i >= text.length ? 'unexpected end of file' : `unexpected character ${JSON.stringify(c)}`);
    i += literal[0].length;
    return JSON.parse(literal[0]);
  };

  if (text.charCodeAt(0) === 0xfeff) i = 1; // a BOM that some editors write
  const value = parseValue([]);
  skipSpace();
  if (i < text.length) fail('unexpected text after the end of the JSON value');

  return {
    value,
    positionOf(path: JsonPath): Position {
      // Fall back to the nearest enclosing value that has a position.
      for (let n = path.length; n >= 0; n--) {
        const p = positions.get(JSON.stringify(path.slice(0, n)));
        if (p) return p;
      }
      return { line: 1, column: 1 };
    },
  };
}

/** $.steps[2].messages[0].text */
export function formatJsonPath(path: JsonPath): string {
  let out = '$';
  for (const part of path) {
    out +=
      typeof part === 'number'
        ? `[${part}]`
        : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(part)
          ? `.${part}`
          : `[${JSON.stringify(part)}]`;
  }
  return out;
}
