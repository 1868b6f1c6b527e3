// Compose variable interpolation, as `docker compose` does it before validating a file:
// $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error},
// ${VAR:+replacement}, ${VAR+replacement}, nesting in the default, and $$ for a literal $.

export class InterpolationError extends Error {
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message);
    this.name = 'InterpolationError';
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** The index of the `}` closing the `{` at `open`, allowing nested `${…}`. */
function closingBrace(text: string, open: number): number {
  let depth = 1;
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth += 1;
      i += 1;
    } else if (text[i] === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function expression(body: string, env: Readonly<Record<string, string | undefined>>): string {
  const name = NAME.exec(body)?.[0];
  if (!name) throw new InterpolationError(`invalid interpolation format: \${${body}}`, body);
  const rest = body.slice(name.length);
  const value = env[name];
  if (rest === '') return value ?? '';
  const colon = rest.startsWith(':');
  const operator = rest[colon ? 1 : 0];
  const argument = rest.slice(colon ? 2 : 1);
  // With a colon an empty variable counts as unset.
  const unset = value === undefined || (colon && value === '');
  switch (operator) {
    case '-':
      return unset ? interpolate(argument, env) : value;
    case '?':
      if (unset) throw new InterpolationError(`required variable ${name} is missing a value: ${argument || 'no message'}`, name);
      return value;
    case '+':
      return unset ? '' : interpolate(argument, env);
    default:
      throw new InterpolationError(`invalid interpolation format: \${${body}}`, name);
  }
}

/** Interpolates one string. */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '{') {
      const end = closingBrace(text, i + 1);
      if (end < 0) throw new InterpolationError(`unclosed \${ in ${JSON.stringify(text)}`, '');
      out += expression(text.slice(i + 2, end), env);
      i = end;
    } else {
      const name = NAME.exec(text.slice(i + 1))?.[0];
      if (name) {
        out += env[name] ?? '';
        i += name.length;
      } else {
        out += c;
      }
    }
  }
  return out;
}

export interface InterpolationProblem {
  path: string;
  message: string;
}

/** Interpolates every string value (not keys) of a parsed Compose document. */
export function interpolateDocument(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: InterpolationProblem[] = [],
  path = '',
): unknown {
  if (typeof value === 'string') {
    try {
      return interpolate(value, env);
    } catch (error) {
      problems.push({ path: path || '/', message: (error as Error).message });
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateDocument(item, env, problems, `${path}/${i}`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDocument(v, env, problems, `${path}/${k}`)]));
  }
  return value;
}
