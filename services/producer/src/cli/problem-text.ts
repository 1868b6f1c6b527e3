// What the produce CLI prints when intake refuses a request: the problem's words, not its JSON.

/** One line from an error body: a problem's title and detail, and its first invalid event (the raw text otherwise). */
export function problemText(body: string): string {
  try {
    const p = JSON.parse(body) as { title?: unknown; detail?: unknown; errors?: unknown };
    if (typeof p.title !== 'string') return body.slice(0, 500);
    const first = Array.isArray(p.errors) && p.errors.length > 0 ? `; first: ${JSON.stringify(p.errors[0]).slice(0, 300)}` : '';
    return `${p.title}${typeof p.detail === 'string' ? ` (${p.detail})` : ''}${first}`;
  } catch {
    return body.slice(0, 500);
  }
}
