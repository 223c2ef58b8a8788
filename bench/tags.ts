// What the tags' stored form costs a write (migration 20261207000300's trigger on
// line_users, made faster by 20261207000301): N users given 5 tags in one statement, with
// the trigger and without it, ASCII tags and tags that need NFKC. Run: npm run bench -- tags [N]
import { freshDatabase, serverUrl } from './database.js';

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

export async function benchTags(args: string[]): Promise<void> {
  const users = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
  const db = await freshDatabase(serverUrl(args), 'lsd_bench_tags');
  try {
    await db.query(
      `insert into line_users (line_user_id) select 'U' || lpad(to_hex(i), 32, '0') from generate_series(1, $1) i`,
      [users],
    );
    const write = (last: string) =>
      db.query(
        `update line_users set attributes = jsonb_build_object('tags', jsonb_build_array('vip', 'member', 'gold', 'new', ${last}))`,
      );
    await write(`'warm' || line_user_id`);
    const ascii = await timed(() => write(`'a' || line_user_id`));
    const kana = await timed(() => write(`'ｶﾞ' || line_user_id`));
    await db.exec('alter table line_users disable trigger line_users_tag_form');
    const without = await timed(() => write(`'b' || line_user_id`));
    await db.exec('alter table line_users enable trigger line_users_tag_form');
    const perUser = (ms: number) => (((ms - without) / users) * 1000).toFixed(0);
    console.log(`${users} users given 5 tags in one statement:`);
    console.log(`  without the trigger        ${without.toFixed(0)} ms`);
    console.log(`  ASCII tags                 ${ascii.toFixed(0)} ms (${perUser(ascii)} µs a user more)`);
    console.log(`  a tag that needs NFKC      ${kana.toFixed(0)} ms (${perUser(kana)} µs a user more)`);
  } finally {
    await db.close();
  }
}
