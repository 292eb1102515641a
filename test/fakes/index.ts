// Protocol-level fake LLM servers for tests: real HTTP on 127.0.0.1, real wire formats, fault injection.
export { type FakeAnswer, type FakeToolCall, type FakeUsage, type RequestDigest, sampleFromSchema } from './answer.js';
export { AnthropicFake } from './anthropic-fake.js';
export { type AnswerScript, FakeServer, type RecordedRequest, type Route } from './fake-server.js';
export { type Fault, faults } from './faults.js';
export { GeminiFake } from './gemini-fake.js';
export { OpenAIFake } from './openai-fake.js';
