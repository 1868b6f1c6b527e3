// A minimal server-sent events reader for tests (Node has no EventSource before v22).
export interface SseEvent {
  event: string;
  data: string;
}

export async function openSse(url: string): Promise<{ next(match?: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>; close(): void }> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
  if (!response.ok || !response.body) throw new Error(`SSE ${url}: HTTP ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const queue: SseEvent[] = [];
  let buffer = '';
  const pump = async (): Promise<void> => {
    const { value, done } = await reader.read();
    if (done) throw new Error('event stream ended');
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) queue.push({ event, data: data.join('\n') });
    }
  };
  return {
    async next(match = () => true, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = queue.findIndex(match);
        if (i >= 0) return queue.splice(i, 1)[0]!;
        queue.length = 0;
        if (Date.now() > deadline) throw new Error('no matching server-sent event in time');
        await Promise.race([pump(), new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())))]);
      }
    },
    close() {
      controller.abort();
    },
  };
}
