// Fuzz (issue 12): malformed events of every kind the engine meets, mixed among good ones,
// over several ticks on the real server. Each case is played twice, with and without the
// bad events: every good user must get exactly the same steps, every event ingest must set
// aside is set aside with a reason, and no tick fails; the run with bad events takes pages
// of 25, the other one page a round. A fixed seed and a few cases here;
// `npm run bench -- fuzz` runs longer.
import { afterAll as after, beforeAll as before } from 'vitest';
import { test } from '@fast-check/vitest';
import assert from 'node:assert/strict';
import { loadScenarioDir } from '../../src/scenario/loader.js';
import { tickSummary } from '../../src/report/summary.js';
import { serverStore } from '../support/db.js';
import { fuzzCaseArb, playFuzzCase, resetDatabase, type FuzzOptions } from '../support/fuzz-events.js';

const { scenarios } = await loadScenarioDir('scenarios');
const compiled = scenarios.map((s) => s.compiled);
const options: FuzzOptions = { goodUsers: 24, badUsers: 12, rounds: 3, goodPerRound: 30, badPerRound: 60 };

type Db = Awaited<ReturnType<typeof serverStore>>;
let withBad: Db;
let withoutBad: Db;
before(async () => {
  [withBad, withoutBad] = await Promise.all([serverStore(), serverStore()]);
});
after(async () => {
  await withBad?.drop();
  await withoutBad?.drop();
});

const USER_ID = /U[0-9a-f]{32}/;

test.prop([fuzzCaseArb(options)], { seed: 20261126, numRuns: 3, endOnFailure: true })(
  'fuzz: bad events among good ones change nothing for the good users, are set aside with a reason, and fail no tick',
  async (fuzzCase) => {
    await Promise.all([resetDatabase(withBad.db), resetDatabase(withoutBad.db)]);
    // Small pages with the bad events, one page a round without: where pages split must not matter either.
    const played = await playFuzzCase(fuzzCase, {
      ...withBad,
      scenarios: compiled,
      withBad: true,
      goodUsers: options.goodUsers,
      pageSize: 25,
    });
    const clean = await playFuzzCase(fuzzCase, {
      ...withoutBad,
      scenarios: compiled,
      withBad: false,
      goodUsers: options.goodUsers,
    });

    // Every good user's deliveries and enrollments are as in the run without the bad events.
    assert.deepEqual(played.goodUsers, clean.goodUsers);
    assert.ok(
      [...clean.goodUsers.values()].some((lines) => lines.some((l) => / send sent /.test(l))),
      'the good users were sent steps',
    );

    for (const { event, status, reason } of played.bad) {
      if (event.kind === 'must-set-aside') {
        assert.equal(status, 'set_aside', `${event.label} (${event.type}) ended ${status}`);
        assert.ok(reason && reason.length > 10, `${event.label}: a reason`);
      } else {
        // Valid after all (taken in, or waiting for its member's link), or set aside with a reason.
        assert.ok(['done', 'waiting_link', 'set_aside'].includes(status), `${event.label} ended ${status}`);
        if (status === 'set_aside') assert.ok(reason, `${event.label}: a reason`);
      }
      assert.ok(
        !USER_ID.test(reason ?? '') && !/M-good|あああ|yyyy/.test(reason ?? ''),
        `no one's data in the reason: ${reason}`,
      );
    }
    assert.ok(
      played.bad.filter((b) => b.status === 'set_aside').length >= options.badPerRound,
      'bad events were set aside',
    );

    // Where a person sees it: the summary counts the reasons, with no one's data.
    const setAside = played.ticks.reduce((n, t) => n + t.counts.eventsSetAside, 0);
    assert.equal(setAside, played.bad.filter((b) => b.status === 'set_aside').length);
    for (const t of played.ticks) {
      const summary = tickSummary(t, {
        now: 0,
        store: 'test',
        sender: 'not called',
        mode: 'send',
        intervalMinutes: 5,
      });
      assert.ok(!USER_ID.test(summary) && !summary.includes('M-good'), 'the summary names no user');
    }
  },
);
