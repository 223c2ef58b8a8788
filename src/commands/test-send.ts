// test-send: a scenario's message steps (or one step), rendered with sample data and
// marked as a test, pushed to staff user ids, so a marketer sees the real messages on a
// phone before the scenario goes live. Enrollments and the outbox are left alone.
import { randomUUID } from 'node:crypto';
import type { CompiledScenario } from '../scenario/compile.js';
import type { Message } from '../scenario/messages.js';
import { LINE_LIMITS } from '../scenario/messages.js';
import { renderMessages } from '../planner/render.js';
import { findPlaceholders, forEachString } from '../scenario/placeholders.js';
import type { Sender, SendReport } from '../line/sender.js';
import { LINE_USER_ID } from '../contract/event-rules.js';

export interface TestSendOptions {
  compiled: CompiledScenario;
  stepId?: string | undefined;
  recipients: string[];
  /** Sample values: {"user": {...}, "trigger": {...}, "answers": {...}}. */
  sample?:
    | { user?: Record<string, unknown>; trigger?: Record<string, unknown>; answers?: Record<string, unknown> }
    | undefined;
  sender: Sender;
}

export interface TestSendResult {
  steps: { stepId: string; outcome: SendReport['outcome'] | 'not rendered'; error?: string | undefined }[];
}

/** Every placeholder of the messages that has no sample value shows its own name, so nothing fails. */
function samples(messages: Message[]): Record<string, string> {
  const names: Record<string, string> = {};
  forEachString(messages, [], (text) => {
    for (const p of findPlaceholders(text)) names[p.key] = `[${p.key}]`;
  });
  return names;
}

export async function testSend(options: TestSendOptions): Promise<TestSendResult> {
  const bad = options.recipients.filter((r) => !LINE_USER_ID.test(r));
  if (bad.length)
    throw new Error(`${bad.length} test recipient(s) are not LINE user ids ("U" and 32 lowercase hex digits)`);
  if (!options.recipients.length) throw new Error('no test recipients: list the staff LINE user ids');
  const steps = [...options.compiled.steps.values()].filter(
    (s) => s.step.type === 'message' && (!options.stepId || s.step.id === options.stepId),
  );
  if (!steps.length)
    throw new Error(
      options.stepId
        ? `scenario "${options.compiled.id}" has no message step "${options.stepId}"`
        : `scenario "${options.compiled.id}" has no message steps`,
    );
  const result: TestSendResult = { steps: [] };
  for (const cs of steps) {
    if (cs.step.type !== 'message') continue;
    const step = { ...cs.step, fallbacks: { ...samples(cs.step.messages), ...cs.step.fallbacks } };
    const rendered = renderMessages(
      { ...cs, step, uniform: false },
      {
        attributes: options.sample?.user ?? {},
        trigger: options.sample?.trigger ?? {},
        answers: options.sample?.answers ?? {},
      },
    );
    if ('error' in rendered) {
      result.steps.push({ stepId: cs.step.id, outcome: 'not rendered', error: rendered.error });
      continue;
    }
    const label: Message = { type: 'text', text: `[TEST] ${options.compiled.id} / ${cs.step.id}` };
    const messages =
      rendered.messages.length < LINE_LIMITS.messagesPerRequest ? [label, ...rendered.messages] : rendered.messages;
    for (const to of options.recipients) {
      const report = await options.sender.send({
        id: randomUUID(),
        scenarioId: options.compiled.id,
        stepId: cs.step.id,
        kind: 'push',
        messages,
        recipients: [to],
        aggregationUnit: 'test_send',
        attempts: 1,
        createdAt: Date.now(),
      });
      result.steps.push({ stepId: cs.step.id, outcome: report.outcome, error: report.error?.message });
    }
  }
  return result;
}
