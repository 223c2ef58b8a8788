// The steps init leaves to a person, in order, with the exact names: the database's
// migrations, the edge functions and their secrets, the LINE console, the repository's
// secrets and variables, the dispatcher's setup call, and doctor to check each link.
// docs/setup.md walks through the same steps.

export interface ChecklistOptions {
  /** owner/repo@ref of the action. */
  uses: string;
  /** owner/repo of the action's repository (its supabase/ folder is there). */
  repository: string;
  ref: string;
  /** The scenario folder. */
  dir: string;
}

export function initChecklist({ repository, ref, dir }: ChecklistOptions): string {
  const clone = `git clone --depth 1 --branch ${ref} https://github.com/${repository}.git line-step-delivery && cd line-step-delivery && supabase link --project-ref <ref>`;
  const steps: string[][] = [
    [
      'Supabase: create a project; apply the migrations (doctor names any missing), either',
      `DATABASE_URL='<Project Settings → Database → connection string>' npx line-step-delivery migrate`,
      `or, in a clone of the action: ${clone} && supabase db push`,
    ],
    [
      'Edge functions, from that clone: set their secrets, then deploy them',
      'supabase secrets set LINE_CHANNEL_SECRET=<channel secret> SHOP_EVENTS_SECRET=<random> CLICK_SIGNING_SECRET=<random>',
      'supabase functions deploy line-webhook --no-verify-jwt && supabase functions deploy shop-events --no-verify-jwt && supabase functions deploy click --no-verify-jwt',
    ],
    [
      'LINE Developers console, your Messaging API channel:',
      'issue a long-lived channel access token (Messaging API tab)',
      'Webhook URL https://<ref>.supabase.co/functions/v1/line-webhook, then Verify, and turn Use webhook on',
    ],
    [
      'GitHub repository secrets (Settings → Secrets and variables → Actions → Secrets), exactly these names:',
      'LINE_CHANNEL_ACCESS_TOKEN, SUPABASE_URL (https://<ref>.supabase.co), SUPABASE_SECRET_KEY (sb_secret_…)',
      'optional: DATABASE_URL (instead of the two SUPABASE_ ones), CLICK_SIGNING_SECRET (tracked links)',
      'variable (the Variables tab), optional: CLICK_BASE_URL (https://<ref>.supabase.co/functions/v1/click)',
    ],
    [
      'Commit and push what init wrote:',
      `git add .github/workflows ${dir} && git commit -m "LINE step delivery" && git push`,
    ],
    [
      'The dispatcher (ticks start when work is due, not only on the hourly schedule; docs/dispatcher.md):',
      'enable pg_cron and pg_net (Supabase dashboard → Database → Extensions)',
      'supabase secrets set GITHUB_DISPATCH_TOKEN=<fine-grained token: Actions read and write, this repository only> DISPATCH_SECRET=<random>',
      'supabase functions deploy dispatch --no-verify-jwt',
      'npx line-step-delivery dispatcher setup --owner <you> --repo <this repository> --workflow step-delivery.yml --ref main --budget-minutes <minutes a month>',
      "in the SQL editor, the job line-step-delivery-dispatch: select cron.schedule(...) as docs/dispatcher.md's Setup step 5 writes it",
    ],
    [
      'Check every link: Actions tab → doctor → Run workflow (or locally, with the same settings: npx line-step-delivery doctor)',
      'each line is ok or says what to do; add the account as a friend from a phone, run doctor again, and the welcome comes at the next tick',
    ],
  ];
  return [
    'Next steps:',
    ...steps.map(([head, ...rest], i) => [`${i + 1}. [ ] ${head}`, ...rest.map((r) => `       ${r}`)].join('\n')),
  ].join('\n');
}
