// The postback grammar (src/contract/postback-rules.ts, documented in docs/events.md): any
// survey answer the documented encoder writes parses back to itself; lists, pickers,
// percent-encoding and "+" read as documented; a question id is exactly what a scenario's
// answers.<question> field and placeholder can name.
import { describe, test } from 'vitest';
import { test as propTest } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_POSTBACK_DATA_CHARS,
  QUESTION_ID,
  encodeSurveyAnswer,
  parsePostback,
  type SurveyTap,
} from '../../src/contract/postback-rules.js';
import { FieldConditionSchema } from '../../src/scenario/schema.js';
import { isValidPlaceholderKey } from '../../src/scenario/placeholders.js';
import { validateScenarioText } from '../../src/scenario/validate.js';

const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const questionArb = fc.stringMatching(/^[A-Za-z0-9_]{1,20}$/);
const answerArb = fc.oneof(text, fc.array(text, { maxLength: 5 }));
const tapArb: fc.Arbitrary<SurveyTap> = fc.record(
  { survey: text.filter((s) => s.length > 0), question: questionArb, answer: answerArb },
  { requiredKeys: ['survey', 'question'] },
);

const fits = (tap: SurveyTap) => {
  try {
    return encodeSurveyAnswer(tap).length <= MAX_POSTBACK_DATA_CHARS;
  } catch {
    return false;
  }
};

describe('the encoder and the parser', () => {
  propTest.prop([tapArb.filter(fits)], { numRuns: 500 })(
    'any survey answer the encoder writes parses back to itself',
    (tap) => {
      const parsed = parsePostback(encodeSurveyAnswer(tap));
      assert.deepEqual(parsed, { type: 'survey_answered', properties: { ...tap } });
    },
  );

  propTest.prop([questionArb, fc.array(text, { minLength: 2, maxLength: 4 })])(
    'repeated a= keys are a list in their order, whatever they hold',
    (question, items) => {
      const data = `survey=s&q=${question}` + items.map((i) => `&a=${encodeURIComponent(i)}`).join('');
      assert.deepEqual(parsePostback(data), {
        type: 'survey_answered',
        properties: { survey: 's', question, answer: items },
      });
    },
  );

  propTest.prop([fc.string({ maxLength: 30 })])(
    'a question id is one segment of a scenario path, and only that',
    (q) => {
      const field = FieldConditionSchema.safeParse({ field: `answers.${q}`, eq: 'x' }).success;
      // One segment: a dot would make answers.a.b read answers.a's b, not the answer to "a.b".
      const readable = field && isValidPlaceholderKey(`answers.${q}`) && !q.includes('.') && q.length <= 64;
      assert.equal(QUESTION_ID.test(q), readable, q);
      const parsed = parsePostback(`survey=s&q=${encodeURIComponent(q)}&a=x`);
      assert.equal('type' in parsed && parsed.type === 'survey_answered', readable);
    },
  );
});

describe('what each postback becomes', () => {
  const survey = (properties: Record<string, unknown>) => ({ type: 'survey_answered', properties });
  test.each([
    [
      'survey=after-purchase&q=satisfaction&a=yes',
      survey({ survey: 'after-purchase', question: 'satisfaction', answer: 'yes' }),
    ],
    ['survey=s&q=color&a=red&a=blue', survey({ survey: 's', question: 'color', answer: ['red', 'blue'] })],
    ['survey=s&q=color&a=red|blue&sep=|', survey({ survey: 's', question: 'color', answer: ['red', 'blue'] })],
    ['survey=s&q=color&a=red&sep=,', survey({ survey: 's', question: 'color', answer: ['red'] })],
    ['survey=s&q=color&sep=,', survey({ survey: 's', question: 'color', answer: [] })],
    ['survey=s&q=note&a=%E3%81%82+b%2Bc', survey({ survey: 's', question: 'note', answer: 'あ b+c' })],
    ['survey=s&q=color', survey({ survey: 's', question: 'color' })],
    ['survey=s&q=color&a=', survey({ survey: 's', question: 'color', answer: '' })],
    ['survey=s&q=color&a=red&route=menu', survey({ survey: 's', question: 'color', answer: 'red', route: 'menu' })],
    ['pref=less', { type: 'postback', properties: { pref: 'less' } }],
    ['tab=1&tab=2', { type: 'postback', properties: { tab: ['1', '2'] } }],
  ])('%s', (data, expected) => {
    assert.deepEqual(parsePostback(data), expected);
  });

  test("a date, time or datetime picker's choice is the answer", () => {
    for (const params of [{ date: '2026-12-24' }, { time: '10:30' }, { datetime: '2026-12-24T10:30' }]) {
      assert.deepEqual(
        parsePostback('survey=visit&q=when', params),
        survey({ survey: 'visit', question: 'when', answer: Object.values(params)[0] }),
      );
    }
    assert.deepEqual(parsePostback('action=book', { date: '2026-12-24' }), {
      type: 'postback',
      properties: { action: 'book', params: { date: '2026-12-24' } },
    });
  });

  test.each([
    ['survey=s&q=q-1&a=x', /^q must be 1 to 64 letters, digits or _/],
    ['survey=s&q=a.b&a=x', /^q must be/],
    ['survey=s&q=&a=x', /^q must be/],
    ['survey=s&q=x&q=y&a=x', /^survey and q must each be given once/],
    ['survey=&q=x&a=x', /^survey is empty/],
    ['survey=s&q=x&a=1|2&sep=|&sep=,', /^sep must be given once/],
    ['survey=s&q=x&answer=1', /^the key answer is the grammar's own/],
  ])('%s is refused with the key named', (data, problem) => {
    const parsed = parsePostback(data);
    assert.ok('problem' in parsed, JSON.stringify(parsed));
    assert.match(parsed.problem, problem);
  });

  test('a picker with a= in its data is refused: which one is the answer is not guessed', () => {
    const parsed = parsePostback('survey=s&q=when&a=today', { date: '2026-12-24' });
    assert.ok('problem' in parsed);
  });

  test('the encoder refuses what the parser would refuse or LINE would not take', () => {
    assert.throws(() => encodeSurveyAnswer({ survey: 's', question: 'q-1', answer: 'x' }), /question id/);
    assert.throws(() => encodeSurveyAnswer({ survey: 's', question: 'q', answer: 'x'.repeat(300) }), /at most 300/);
  });
});

describe("a scenario's postback buttons, read by the webhook's grammar at validation", () => {
  const scenario = (actions: Record<string, unknown>[]) => ({
    id: 's',
    version: 1,
    entry: { trigger: { type: 'event', event: 'purchased' } },
    steps: [
      {
        id: 'ask',
        type: 'message',
        messages: [
          {
            type: 'text',
            text: 'Which?',
            quickReply: { items: actions.map((action) => ({ type: 'action', action })) },
          },
        ],
      },
    ],
  });
  const issues = (actions: Record<string, unknown>[]) =>
    validateScenarioText('scenarios/s.json', JSON.stringify(scenario(actions), null, 2)).issues;

  test('survey buttons, lists, pickers and plain postbacks are taken', () => {
    assert.deepEqual(
      issues([
        { type: 'postback', label: 'a', data: 'survey=s&q=color&a=red' },
        {
          type: 'postback',
          label: 'b',
          data: encodeSurveyAnswer({ survey: 's', question: 'color', answer: ['red', 'blue'] }),
        },
        { type: 'datetimepicker', label: 'c', data: 'survey=visit&q=when', mode: 'date' },
        { type: 'postback', label: 'd', data: 'pref=less' },
      ]),
      [],
    );
  });

  test('data the webhook would set aside is refused at its line and column, with the fix', () => {
    const found = issues([
      { type: 'postback', label: 'a', data: 'survey=s&q=the-color&a=red' },
      { type: 'datetimepicker', label: 'b', data: 'survey=visit&q=when&a=today', mode: 'date' },
      { type: 'postback', label: 'c', data: `x=${'y'.repeat(300)}` },
    ]);
    assert.deepEqual(
      found.map((i) => [i.rule, i.path.join('.')]),
      [
        ['postback', 'steps.0.messages.0.quickReply.items.0.action.data'],
        ['postback', 'steps.0.messages.0.quickReply.items.1.action.data'],
        ['postback', 'steps.0.messages.0.quickReply.items.2.action.data'],
      ],
    );
    assert.match(found[0]!.message, /q must be 1 to 64 letters, digits or _/);
    assert.match(found[1]!.message, /picker postback carries its answer in params/);
    assert.match(found[2]!.message, /at most 300 characters/);
    for (const i of found) assert.ok(i.line > 1 && i.column > 1);
  });
});
