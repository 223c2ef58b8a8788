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

/** Levels of objects and arrays a scenario file may nest (the deepest sample nests under 15). */
export const MAX_NESTING = 64;

const LITERAL = /^(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?|true|false|null)/;

/** A JSON parser that records where each value (and each object member's key) starts. */
class PositionalParser {
  readonly positions = new Map<string, Position>();
  private i = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.i = 1; // a BOM that some editors write
  }

  parseDocument(): unknown {
    const value = this.parseValue([]);
    this.skipSpace();
    if (this.i < this.text.length) this.fail('unexpected text after the end of the JSON value');
    return value;
  }

  private here(): Position {
    return { line: this.line, column: this.i - this.lineStart + 1 };
  }

  private fail(what: string): never {
    throw new JsonSyntaxError(what, this.here());
  }

  private skipSpace(): void {
    const { text } = this;
    while (this.i < text.length) {
      const c = text.charCodeAt(this.i);
      if (c === 10) {
        this.line++;
        this.i++;
        this.lineStart = this.i;
      } else if (c === 32 || c === 9 || c === 13) this.i++;
      else break;
    }
  }

  /** The next character after white space is `c`: consume it. */
  private take(c: string): boolean {
    this.skipSpace();
    if (this.text[this.i] !== c) return false;
    this.i++;
    return true;
  }

  private parseString(): string {
    const { text } = this;
    const start = this.i;
    this.i++; // opening quote
    while (this.i < text.length && text[this.i] !== '"') {
      if (text[this.i] === '\\') this.i++;
      else if (text[this.i] === '\n') this.fail('a string cannot span lines: close it with " or write \\n');
      this.i++;
    }
    if (this.i >= text.length) this.fail('unterminated string: add the closing "');
    this.i++;
    try {
      return JSON.parse(text.slice(start, this.i)) as string;
    } catch {
      return this.fail('invalid escape in string');
    }
  }

  private parseValue(path: JsonPath): unknown {
    this.skipSpace();
    // Refused here, as an issue at its line: the parser and the checks after it recurse, and
    // a file nested thousands deep would overflow the stack instead.
    if (path.length > MAX_NESTING)
      this.fail(`the JSON nests deeper than ${MAX_NESTING} levels; a scenario never needs that many: flatten it`);
    const at = JSON.stringify(path);
    this.positions.set(at, this.positions.get(at) ?? this.here());
    const c = this.text[this.i];
    if (c === '{') return this.parseObject(path);
    if (c === '[') return this.parseArray(path);
    if (c === '"') return this.parseString();
    const literal = LITERAL.exec(this.text.slice(this.i, this.i + 400));
    if (!literal)
      return this.fail(
        this.i >= this.text.length ? 'unexpected end of file' : `unexpected character ${JSON.stringify(c)}`,
      );
    this.i += literal[0].length;
    return JSON.parse(literal[0]);
  }

  private parseObject(path: JsonPath): Record<string, unknown> {
    this.i++;
    const obj: Record<string, unknown> = {};
    if (this.take('}')) return obj;
    for (;;) {
      this.skipSpace();
      if (this.text[this.i] !== '"')
        this.fail(
          this.text[this.i] === '}'
            ? 'trailing comma before }: remove the last ","'
            : 'expected a property name in double quotes',
        );
      const keyPos = this.here();
      const key = this.parseString();
      if (Object.hasOwn(obj, key)) this.fail(`duplicate property "${key}": keep only one`);
      this.positions.set(JSON.stringify([...path, key]), keyPos);
      if (!this.take(':')) this.fail(`expected ":" after "${key}"`);
      // An own property even for "__proto__", as JSON.parse makes it.
      Object.defineProperty(obj, key, {
        value: this.parseValue([...path, key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      if (this.take(',')) continue;
      if (this.take('}')) return obj;
      this.fail('expected "," or "}" (is a comma missing between properties?)');
    }
  }

  private parseArray(path: JsonPath): unknown[] {
    this.i++;
    const arr: unknown[] = [];
    if (this.take(']')) return arr;
    for (;;) {
      arr.push(this.parseValue([...path, arr.length]));
      if (this.take(',')) {
        this.skipSpace();
        if (this.text[this.i] === ']') this.fail('trailing comma before ]: remove the last ","');
        continue;
      }
      if (this.take(']')) return arr;
      this.fail('expected "," or "]" (is a comma missing between items?)');
    }
  }
}

export function parseJsonWithPositions(text: string): ParsedJson {
  const parser = new PositionalParser(text);
  const value = parser.parseDocument();
  const { positions } = parser;
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
