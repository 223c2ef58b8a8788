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
      const readable = field && isValidPlaceholderKey(`answers.${q}`) && q.length <= 64;
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
