// Planner throughput: decisions per second for 1,000,000 enrollments over the sample
// scenarios, on one core, and heap use along the way (it must not grow with the count).
// Run: npm run bench -- planner [count]
import { loadScenarioDir } from '../src/scenario/loader.js';
import { planEnrollment, type ScenarioRuntime } from '../src/planner/plan.js';
import type { EnrollmentState, EventFact, UserFacts } from '../src/planner/types.js';
import { DAY, HOUR } from '../src/time/zoned.js';

export async function benchPlanner(count = 1_000_000): Promise<void> {
  const { scenarios } = await loadScenarioDir('scenarios');
  const runtimes: ScenarioRuntime[] = scenarios.map((s) => ({ compiled: s.compiled, activatedAt: 0 }));
  const now = Date.parse('2026-11-25T03:00:00Z');
  const zones = ['Asia/Tokyo', 'Asia/Tokyo', 'Asia/Tokyo', 'America/New_York', 'Europe/London'];
  // Pools of users, event lists and enrollments, reused, so that time and memory reflect
  // the planner, not the fixtures. The planner never mutates its input.
  const users: UserFacts[] = Array.from({ length: 1000 }, (_, i) => ({
    userId: `U${(i * 2654435761).toString(16)}`,
    following: i % 50 !== 0,
    attributes: {
      gender: i % 2 ? 'female' : 'male',
      ageBand: ['10s', '20s', '30s'][i % 3],
      region: 'tokyo',
      linked: i % 3 === 0,
      timezone: zones[i % zones.length],
      displayName: `User ${i}`,
    },
    answers: { satisfaction: i % 4 ? 'yes' : 'no' },
  }));
  const eventLists: EventFact[][] = Array.from({ length: 100 }, (_, i) =>
    i % 3
      ? []
      : [
          {
            id: `e${i}`,
            type: ['purchased', 'survey_answered', 'price_dropped'][i % 3]!,
            occurredAt: now - (i % 48) * HOUR,
            properties: { survey: 'after-purchase' },
          },
        ],
  );
  const pool: { runtime: ScenarioRuntime; enrollment: EnrollmentState }[] = [];
  for (let i = 0; i < 10_007; i++) {
    const runtime = runtimes[i % runtimes.length]!;
    const order = runtime.compiled.order;
    const enteredAt = now - (i % 30) * DAY - (i % 1440) * 60_000;
    pool.push({
      runtime,
      enrollment: {
        id: `n${i}`,
        scenarioId: runtime.compiled.id,
        scenarioHash: runtime.compiled.hash,
        enteredAt,
        trigger: {
          productName: 'item',
          category: i % 2 ? 'skincare' : 'haircare',
          total: 3000,
          reservationAt: new Date(enteredAt + 5 * DAY).toISOString(),
          survey: 'interests',
        },
        stepId: order[i % order.length]!,
        previousAt: enteredAt + (i % 5) * HOUR,
        converted: false,
      },
    });
  }
  let sent = 0;
  let waiting = 0;
  let decisions = 0;
  const heap: string[] = [];
  globalThis.gc?.();
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const { runtime, enrollment } = pool[i % pool.length]!;
    const plan = planEnrollment({
      scenario: runtime,
      enrollment,
      user: users[i % users.length]!,
      events: eventLists[i % eventLists.length]!,
      now,
    });
    decisions += plan.decisions.length;
    if (plan.decisions.length) sent += plan.decisions[0]!.kind === 'send' ? 1 : 0;
    if (plan.outcome.kind === 'wait') waiting++;
    if ((i + 1) % (count / 4) === 0)
      heap.push(`${((i + 1) / 1e6).toFixed(2)}M: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB`);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `planner: ${count.toLocaleString('en')} enrollments over ${runtimes.length} sample scenarios in ${seconds.toFixed(2)} s on one core`,
  );
  console.log(
    `  ${Math.round(count / seconds).toLocaleString('en')} enrollments planned/s (target 500,000/s); ${Math.round(decisions / seconds).toLocaleString('en')} step decisions/s`,
  );
  console.log(
    `  ${sent.toLocaleString('en')} plans began with a send (personalized or not), ${waiting.toLocaleString('en')} ended waiting`,
  );
  console.log(`  heap used: ${heap.join(', ')}`);
}
