// `npm run produce --to http://…`: events to a running producer's POST /events, in requests
// of at most 5000, waiting as told while intake is busy.
import type { RawEvent } from '@ehr/features';
import type { Logger } from '@ehr/runtime';
import { problemText } from './problem-text.js';

export function httpPublisher(base: string, token: string | undefined, logger: Pick<Logger, 'warn'>): (events: RawEvent[]) => Promise<void> {
  const url = new URL('/events', base).toString();
  const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  return async (events) => {
    for (let i = 0; i < events.length; i += 5000) {
      const body = JSON.stringify(events.slice(i, i + 5000));
      // 503 (broker not confirming) and 429 (too many requests): wait as told and send the same
      // events again; their ids are the same, so a copy that landed late is dropped downstream.
      for (let attempt = 1; ; attempt++) {
        const response = await fetch(url, { method: 'POST', headers, body }).catch((err: unknown) => {
          throw new Error(`cannot reach ${url} (${err instanceof Error ? err.message : String(err)}): start the pipeline (npm start), or set KAFKA_BROKERS`);
        });
        if (response.ok) break;
        const text = problemText(await response.text());
        if ((response.status === 503 || response.status === 429) && attempt < 60) {
          const waitS = Number(response.headers.get('retry-after')) || 1;
          logger.warn({ status: response.status, attempt, retryInSeconds: waitS }, `intake busy: ${text}`);
          await new Promise((r) => setTimeout(r, waitS * 1000));
          continue;
        }
        const hint = response.status === 401 ? ' (set EHR_INGEST_TOKEN to a token with the ingest scope)' : '';
        throw new Error(`${url} answered ${response.status}${hint}: ${text}`);
      }
    }
  };
}
