// The library API in a few lines: run a pipeline, watch its events, read its result.
// Run it: npx tsx examples/library.ts
import { EventBus, run } from 'elexirion';

const bus = new EventBus();
bus.on('pipeline.step.stop', (e) => console.log(`${e.step}: ${e.status} in ${e.durationMs} ms`));

const result = await run('examples/hello.yaml', {
  inputs: { name: 'Ada' },
  mock: true,
  db: '.elexirion/library-example.db',
  engine: { bus },
});
console.log(result.status, result.outputs.greeting);
