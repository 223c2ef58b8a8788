// What doctor says about one link: ok, a fix to make (the link is broken: exit 1), a note
// (worth knowing, nothing broken), or "not checked" with why. The links come in the order
// a person fixes them: settings, the database, LINE, events, the dispatcher, the scenarios.

export type CheckStatus = 'ok' | 'fix' | 'note' | 'skip';

export type Link = 'settings' | 'database' | 'LINE' | 'events' | 'dispatcher' | 'scenarios';

export const LINKS: readonly Link[] = ['settings', 'database', 'LINE', 'events', 'dispatcher', 'scenarios'];

export interface Check {
  link: Link;
  /** What was checked, in a few words ("migrations", "webhook test"). */
  name: string;
  status: CheckStatus;
  /** What was found and, when status is fix, what to do. Never a token, user id or message text. */
  text: string;
}

export const ok = (link: Link, name: string, text: string): Check => ({ link, name, status: 'ok', text });
export const fix = (link: Link, name: string, text: string): Check => ({ link, name, status: 'fix', text });
export const note = (link: Link, name: string, text: string): Check => ({ link, name, status: 'note', text });
export const notChecked = (link: Link, name: string, why: string): Check => ({
  link,
  name,
  status: 'skip',
  text: `not checked: ${why}`,
});

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', fix: 'FIX ', note: 'note', skip: 'skip' };

/** True when some link is broken: doctor exits 1. */
export const broken = (checks: readonly Check[]): boolean => checks.some((c) => c.status === 'fix');

/** Plain text for a terminal: one section per link, one line per check. */
export function formatChecks(checks: readonly Check[]): string {
  const out: string[] = [];
  for (const link of LINKS) {
    const mine = checks.filter((c) => c.link === link);
    if (!mine.length) continue;
    out.push(link);
    for (const c of mine) out.push(`  ${MARK[c.status]}  ${c.name}: ${c.text}`);
  }
  const fixes = checks.filter((c) => c.status === 'fix').length;
  out.push(
    fixes
      ? `\n${fixes} link(s) to fix, in the order above (FIX lines say how).`
      : '\nEvery link checked is ok.' +
          (checks.some((c) => c.status === 'skip') ? ' Some were not checked (skip lines say why).' : ''),
  );
  return `${out.join('\n')}\n`;
}

const ICON: Record<CheckStatus, string> = { ok: '✅', fix: '❌', note: 'ℹ️', skip: '⏭️' };

/** Markdown for the job summary: a table per link. Texts are ours; a pipe would break a cell. */
export function checksMarkdown(checks: readonly Check[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const out = ['# line-step-delivery doctor', ''];
  for (const link of LINKS) {
    const mine = checks.filter((c) => c.link === link);
    if (!mine.length) continue;
    out.push(`## ${link}`, '', '| | check | result |', '|---|---|---|');
    for (const c of mine) out.push(`| ${ICON[c.status]} | ${cell(c.name)} | ${cell(c.text)} |`);
    out.push('');
  }
  const fixes = checks.filter((c) => c.status === 'fix').length;
  out.push(fixes ? `**${fixes} link(s) to fix**, in the order above.` : '**Every link checked is ok.**');
  return `${out.join('\n')}\n`;
}
