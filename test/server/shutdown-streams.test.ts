// A shutdown interrupts the runs; the event streams following them must still get each run's last
// events (`pipeline.execution.stop`, status interrupted) before their connections are closed.
import { describe, expect, it } from 'vitest';
import { parseSse, startHarness } from './harness.js';

describe('shutdown and open event streams', () => {
  it('lets a stream write its run’s execution.stop before closing the connection', async () => {
    const h = await startHarness();
    try {
      const submitted = await h.call('/runs', { json: { file: 'pipelines/very-slow.yaml', mock: true } });
      const { run_id } = (await submitted.json()) as { run_id: string };
      const response = await h.call(`/runs/${run_id}/events`);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let text = '';
      // Wait for the stream to be under way (the first step has started).
      while (!text.includes('pipeline.step.start')) text += decoder.decode((await reader.read()).value);

      const shutdown = h.service.shutdown(5000);
      for (;;) {
        const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (chunk.done) break;
        text += decoder.decode(chunk.value);
      }
      expect((await shutdown).interrupted).toBe(1);

      const last = parseSse(text).at(-1);
      expect(last?.event).toBe('pipeline.execution.stop');
      expect(last?.data).toMatchObject({ data: { status: 'interrupted' } });
    } finally {
      await h.close();
    }
  }, 20_000);
});
