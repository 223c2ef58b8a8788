// `validate --line`: the rich menus and aliases the scenarios name, checked against the
// LINE channel's own (GET /v2/bot/richmenu/alias/list and /v2/bot/richmenu/list, with the
// channel access token). Offline validation checks only their format; an alias that does
// not exist would otherwise fail every user's step at run time.
import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import type { LoadedScenario } from '../scenario/loader.js';
import { issueAt, type ScenarioIssue } from '../scenario/issues.js';
import type { JsonPath } from '../scenario/json-source.js';
import { didYouMean } from '../scenario/suggest.js';
import { withTimeout } from './line-calls.js';

/** What the channel has: alias ids and rich menu ids. */
export interface RichMenuCatalog {
  aliases: string[];
  richMenuIds: string[];
}

export interface LineCheckOptions {
  channelAccessToken: string;
  /** LINE_API_BASE_URL (the loopback server in tests); LINE's own by default. */
  baseURL?: string | undefined;
  timeoutMs?: number;
}

export type LineCheck =
  { checked: true; references: number; issues: ScenarioIssue[] } | { checked: false; error: string };

interface Reference {
  scenario: LoadedScenario;
  path: JsonPath;
  kind: 'alias' | 'id';
  value: string;
}

/** Every rich menu a step names by alias or id, with its JSON path. */
export function richMenuReferences(scenarios: readonly LoadedScenario[]): Reference[] {
  return scenarios.flatMap((loaded) =>
    loaded.scenario.steps.flatMap((step, i): Reference[] => {
      if (step.type !== 'action' || !step.richMenu || 'unlink' in step.richMenu) return [];
      const menu = step.richMenu;
      return 'alias' in menu
        ? [{ scenario: loaded, path: ['steps', i, 'richMenu', 'alias'], kind: 'alias', value: menu.alias }]
        : [{ scenario: loaded, path: ['steps', i, 'richMenu', 'id'], kind: 'id', value: menu.id }];
    }),
  );
}

const listed = (names: string[]): string =>
  names.length === 0
    ? 'the channel has none'
    : `the channel has ${names
        .slice(0, 5)
        .map((n) => `"${n}"`)
        .join(', ')}${names.length > 5 ? `, and ${names.length - 5} more` : ''}`;

function unknownMessage(ref: Reference, catalog: RichMenuCatalog): string {
  if (ref.kind === 'alias')
    return (
      `there is no rich menu alias "${ref.value}" on this LINE channel.${didYouMean(ref.value, catalog.aliases)} ` +
      `Create it (POST /v2/bot/richmenu/alias) or use an existing one (${listed(catalog.aliases)}).`
    );
  return (
    `there is no rich menu "${ref.value}" on this LINE channel.${didYouMean(ref.value, catalog.richMenuIds)} ` +
    `Use the id LINE gave when the menu was created, or an alias that survives a new menu (${listed(catalog.richMenuIds)}).`
  );
}

/** The references the catalog does not know, as issues at their file, line and column. */
export function richMenuIssues(references: readonly Reference[], catalog: RichMenuCatalog): ScenarioIssue[] {
  const aliases = new Set(catalog.aliases);
  const ids = new Set(catalog.richMenuIds);
  return references
    .filter((ref) => !(ref.kind === 'alias' ? aliases : ids).has(ref.value))
    .map((ref) => issueAt(ref.scenario, ref.path, 'rich-menu', unknownMessage(ref, catalog)));
}

export async function readRichMenuCatalog(options: LineCheckOptions): Promise<RichMenuCatalog> {
  const client = new messagingApi.MessagingApiClient({
    channelAccessToken: options.channelAccessToken,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
  });
  const ms = options.timeoutMs ?? 10_000;
  const [aliases, menus] = await Promise.all([
    withTimeout(client.getRichMenuAliasList(), ms),
    withTimeout(client.getRichMenuList(), ms),
  ]);
  return {
    aliases: aliases.aliases.map((a) => a.richMenuAliasId),
    richMenuIds: menus.richmenus.map((m) => m.richMenuId),
  };
}

/** fetch says only "fetch failed"; its cause says why (ECONNREFUSED, ENOTFOUND, ...). */
function causeOf(error: Error): string {
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const why = cause?.code ?? cause?.message;
  return typeof why === 'string' && why ? ` (${why})` : '';
}

/** Why LINE could not be asked, in words that say what to do (never the token). */
function failure(error: unknown): string {
  const why =
    error instanceof HTTPFetchError
      ? error.status === 401
        ? 'LINE refused the channel access token (401): check LINE_CHANNEL_ACCESS_TOKEN'
        : `LINE answered ${error.status} ${error.statusText}`.trim()
      : error instanceof Error
        ? `${error.message}${causeOf(error)}`
        : String(error);
  return `could not check the rich menus on LINE: ${why}. Their format was checked; run again when LINE can be reached, or without --line.`;
}

/** Asks LINE only when a scenario names a rich menu; a failure to ask is reported, never thrown. */
export async function checkRichMenusOnLine(
  scenarios: readonly LoadedScenario[],
  options: LineCheckOptions,
  read: (o: LineCheckOptions) => Promise<RichMenuCatalog> = readRichMenuCatalog,
): Promise<LineCheck> {
  const references = richMenuReferences(scenarios);
  if (references.length === 0) return { checked: true, references: 0, issues: [] };
  try {
    const catalog = await read(options);
    return { checked: true, references: references.length, issues: richMenuIssues(references, catalog) };
  } catch (error) {
    return { checked: false, error: failure(error) };
  }
}
