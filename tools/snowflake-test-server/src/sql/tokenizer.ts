/**
 * A Snowflake SQL tokenizer. It knows Snowflake's lexical rules (backslash escapes and
 * `''` in single-quoted strings, `$$…$$` strings, `"…"` identifiers, `--`, `//` and
 * `/* *\/` comments) so that the translator never rewrites the inside of a string or a
 * quoted identifier by accident.
 */
import { syntaxError } from '../errors.js';

export type TokenKind =
  | 'word' // unquoted identifier or keyword
  | 'qident' // "quoted identifier" (value is the unescaped name)
  | 'string' // string literal (value is the decoded text)
  | 'number'
  | 'param' // ? or :N bind placeholder (value is '?' or the number)
  | 'dollar' // $1-style positional column reference (not supported)
  | 'op'; // punctuation and operators

export interface Token {
  kind: TokenKind;
  /** Decoded value: the text of a word as written, an unescaped string, an operator. */
  value: string;
  /** Offset of the token's first character in the statement text. */
  start: number;
  end: number;
  /** Whitespace or a comment came before this token. */
  spaceBefore: boolean;
}

const MULTI_OPS = ['::', '||', '<=', '>=', '<>', '!=', '==', '->>', '->', '=>', '**'];

function isWordStart(c: string): boolean {
  return /[A-Za-z_]/.test(c) || c.charCodeAt(0) > 127;
}
function isWordPart(c: string): boolean {
  return /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) > 127;
}

/** 1-based line and 0-based-column position of an offset, as Snowflake reports them. */
export function lineAndPosition(text: string, offset: number): { line: number; position: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, position: offset - lineStart };
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let space = false;
  const n = text.length;
  const fail = (at: number, what: string): never => {
    const { line, position } = lineAndPosition(text, at);
    throw syntaxError(what, line, position);
  };
  const push = (kind: TokenKind, value: string, start: number, end: number): void => {
    tokens.push({ kind, value, start, end, spaceBefore: space });
    space = false;
  };
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1] ?? '';
    if (/\s/.test(c)) {
      space = true;
      i++;
      continue;
    }
    if ((c === '-' && next === '-') || (c === '/' && next === '/')) {
      const eol = text.indexOf('\n', i);
      i = eol === -1 ? n : eol + 1;
      space = true;
      continue;
    }
    if (c === '/' && next === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close === -1) fail(i, '/*');
      i = close + 2;
      space = true;
      continue;
    }
    const start = i;
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) fail(start, "'");
        const ch = text[i]!;
        if (ch === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (ch === '\\') {
          const e = text[i + 1];
          if (e === undefined) fail(start, "'");
          i += 2;
          switch (e) {
            case 'n':
              value += '\n';
              break;
            case 't':
              value += '\t';
              break;
            case 'r':
              value += '\r';
              break;
            case 'b':
              value += '\b';
              break;
            case 'f':
              value += '\f';
              break;
            case '0':
              value += '\0';
              break;
            case 'x': {
              const hex = text.slice(i, i + 2);
              if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail(i, '\\x');
              value += String.fromCharCode(parseInt(hex, 16));
              i += 2;
              break;
            }
            case 'u': {
              const hex = text.slice(i, i + 4);
              if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail(i, '\\u');
              value += String.fromCharCode(parseInt(hex, 16));
              i += 4;
              break;
            }
            default:
              value += e;
          }
          continue;
        }
        value += ch;
        i++;
      }
      push('string', value, start, i);
      continue;
    }
    if (c === '$' && next === '$') {
      const close = text.indexOf('$$', i + 2);
      if (close === -1) fail(i, '$$');
      push('string', text.slice(i + 2, close), start, close + 2);
      i = close + 2;
      continue;
    }
    if (c === '$' && /[0-9]/.test(next)) {
      i++;
      while (i < n && /[0-9]/.test(text[i]!)) i++;
      push('dollar', text.slice(start, i), start, i);
      continue;
    }
    if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) fail(start, '"');
        const ch = text[i]!;
        if (ch === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += ch;
        i++;
      }
      if (value === '') fail(start, '""');
      push('qident', value, start, i);
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next))) {
      while (i < n && /[0-9]/.test(text[i]!)) i++;
      if (text[i] === '.' && text[i + 1] !== '.') {
        i++;
        while (i < n && /[0-9]/.test(text[i]!)) i++;
      }
      if ((text[i] === 'e' || text[i] === 'E') && /[0-9+-]/.test(text[i + 1] ?? '')) {
        const save = i;
        i++;
        if (text[i] === '+' || text[i] === '-') i++;
        if (!/[0-9]/.test(text[i] ?? '')) i = save;
        else while (i < n && /[0-9]/.test(text[i]!)) i++;
      }
      if (i < n && isWordStart(text[i]!)) fail(start, text.slice(start, i + 1));
      push('number', text.slice(start, i), start, i);
      continue;
    }
    if (isWordStart(c)) {
      while (i < n && isWordPart(text[i]!)) i++;
      push('word', text.slice(start, i), start, i);
      continue;
    }
    if (c === '?') {
      i++;
      push('param', '?', start, i);
      continue;
    }
    if (c === ':' && /[0-9]/.test(next)) {
      const prev = tokens[tokens.length - 1];
      const afterPrimary = prev !== undefined && (prev.kind === 'word' || prev.kind === 'qident' || (prev.kind === 'op' && (prev.value === ')' || prev.value === ']')));
      if (!afterPrimary || space) {
        i++;
        while (i < n && /[0-9]/.test(text[i]!)) i++;
        push('param', text.slice(start + 1, i), start, i);
        continue;
      }
    }
    const op = MULTI_OPS.find((o) => text.startsWith(o, i));
    if (op) {
      i += op.length;
      push('op', op, start, i);
      continue;
    }
    if ('()[]{},;.+-*/%=<>:@|&^~!'.includes(c)) {
      i++;
      push('op', c, start, i);
      continue;
    }
    fail(i, c);
  }
  return tokens;
}

/** Splits a token list into statements on top-level semicolons, dropping empty ones. */
export function splitStatements(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'op' && t.value === ';') {
      if (cur.length > 0) out.push(cur);
      cur = [];
    } else cur.push(t);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
