// The fuzz of test/store/fuzz.test.ts, longer: more cases, more events, any seed. Each case
// is played twice on the server, with and without its bad events; the good users' steps
// must be the same, every event ingest must set aside must be, and no tick may fail.
// Usage: npm run bench -- fuzz [cases (default 10)] [seed (default: random)] [postgres://…]
import fc from 'fast-check';
import { loadScenarioDir } from '../src/scenario/loader.js';
import { Store } from '../src/store/store.js';
import { fuzzCaseArb, playFuzzCase, resetDatabase, type FuzzOptions } from '../test/support/fuzz-events.js';
import { freshDatabase, serverUrl } from './database.js';

const OPTIONS: FuzzOptions = { goodUsers: 100, badUsers: 60, rounds: 4, goodPerRound: 200, badPerRound: 300 };

export async function benchFuzz(args: string[]): Promise<void> {
  const numbers = args.filter((a) => /^\d+$/.test(a)).map(Number);
  const cases = numbers[0] ?? 10;
  const seed = numbers[1] ?? Math.floor(Math.random() * 2 ** 31);
  const base = serverUrl(args);
  const [a, b] = await Promise.all([freshDatabase(base, 'lsd_bench_fuzz_a'), freshDatabase(base, 'lsd_bench_fuzz_b')]);
  const { scenarios } = await loadScenarioDir('scenarios');
  const compiled = scenarios.map((s) => s.compiled);
  console.log(
    `fuzz: ${cases} case(s), seed ${seed}; a case is ${OPTIONS.rounds} rounds of ${OPTIONS.goodPerRound} good and ${OPTIONS.badPerRound} bad events (${OPTIONS.goodUsers} good users, ${OPTIONS.badUsers} bad), ${2 * OPTIONS.rounds + 1} ticks`,
  );
  const outcomes = new Map<string, number>();
  const reasons = new Map<string, number>();
  let problems = 0;
  let events = 0;
  let seconds = 0;
  let sentToGood = 0;
  const samples = fc.sample(fuzzCaseArb(OPTIONS), { seed, numRuns: cases });
  for (const [n, fuzzCase] of samples.entries()) {
    await Promise.all([resetDatabase(a), resetDatabase(b)]);
    let played;
    try {
      // Pages of 100 with the bad events, 500 without: where pages split must not matter.
      played = await playFuzzCase(fuzzCase, {
        store: new Store(a),
        db: a,
        scenarios: compiled,
        withBad: true,
        goodUsers: OPTIONS.goodUsers,
        pageSize: 100,
      });
    } catch (error) {
      problems++;
      console.log(`case ${n + 1}: a tick failed: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const clean = await playFuzzCase(fuzzCase, {
      store: new Store(b),
      db: b,
      scenarios: compiled,
      withBad: false,
      goodUsers: OPTIONS.goodUsers,
    });
    const differing = [...clean.goodUsers].filter(
      ([user, lines]) => JSON.stringify(lines) !== JSON.stringify(played.goodUsers.get(user)),
    ).length;
    const missed = played.bad.filter((x) => x.event.kind === 'must-set-aside' && x.status !== 'set_aside');
    problems += differing + missed.length;
    for (const x of played.bad)
      outcomes.set(`${x.event.kind} → ${x.status}`, (outcomes.get(`${x.event.kind} → ${x.status}`) ?? 0) + 1);
    for (const t of played.ticks)
      for (const [reason, k] of t.counts.setAsideReasons) reasons.set(reason, (reasons.get(reason) ?? 0) + k);
    const count = fuzzCase.rounds.reduce((k, r) => k + r.length, 0);
    const sent = [...clean.goodUsers.values()].flat().filter((l) => / send sent /.test(l)).length;
    events += count;
    seconds += played.tickSeconds;
    sentToGood += sent;
    console.log(
      `case ${n + 1}: ${count} events, ${played.bad.length} bad (${played.bad.filter((x) => x.status === 'set_aside').length} set aside); ` +
        `${sent} steps sent to good users, ${differing} good user(s) differing, ${missed.length} bad event(s) not set aside; ticks ${played.tickSeconds.toFixed(2)} s`,
    );
    for (const m of missed.slice(0, 3))
      console.log(`  not set aside: ${m.event.label} (${m.event.type}), ended ${m.status}`);
    // The first differing good user (ids of the fuzz's own, no one's data): what each run gave.
    const first = [...clean.goodUsers].find(
      ([user, lines]) => JSON.stringify(lines) !== JSON.stringify(played.goodUsers.get(user)),
    );
    if (first)
      console.log(
        `  ${first[0]} with the bad events:\n    ${played.goodUsers.get(first[0])!.join('\n    ')}\n  without:\n    ${first[1].join('\n    ')}`,
      );
  }
  console.log('\nbad events, by intent and end:');
  for (const [k, v] of [...outcomes].sort()) console.log(`  ${String(v).padStart(6)}  ${k}`);
  console.log('\nreasons set aside (top 15):');
  for (const [k, v] of [...reasons].sort(([, x], [, y]) => y - x).slice(0, 15))
    console.log(`  ${String(v).padStart(6)}  ${k}`);
  console.log(
    `\n${events} events in ${cases} case(s); ticks took ${seconds.toFixed(1)} s with the bad events (${Math.round(events / seconds)} events/s through whole ticks); ${sentToGood} steps sent to good users`,
  );
  console.log(
    problems
      ? `❌ ${problems} problem(s): a failed tick, a good user whose steps differ, or a bad event not set aside`
      : '✅ no tick failed, no good user differed, every event that must be set aside was',
  );
  await Promise.all([a.close(), b.close()]);
  if (problems) process.exitCode = 1;
}
