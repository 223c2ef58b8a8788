// `validate --line`: the coupons the scenarios send (coupon messages), checked against the
// LINE channel's own (GET /v2/bot/coupon through the SDK, every page), as the rich menus
// are (rich-menus-on-line.ts). Offline validation checks only the id's form; an id the
// channel does not have would otherwise fail every batch of the step (LINE answers 400).
import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import type { LoadedScenario } from '../scenario/loader.js';
import { issueAt, type ScenarioIssue } from '../scenario/issues.js';
import type { JsonPath } from '../scenario/json-source.js';
import { didYouMean } from '../scenario/suggest.js';
import { withTimeout } from './line-calls.js';
import { checkRichMenusOnLine, type LineCheck, type LineCheckOptions } from './rich-menus-on-line.js';

interface CouponReference {
  scenario: LoadedScenario;
  path: JsonPath;
  couponId: string;
}

/** Every coupon message of every step, with its JSON path. */
export function couponReferences(scenarios: readonly LoadedScenario[]): CouponReference[] {
  return scenarios.flatMap((loaded) =>
    loaded.scenario.steps.flatMap((step, i) =>
      step.type !== 'message'
        ? []
        : step.messages.flatMap((m, j) =>
            m.type === 'coupon'
              ? [{ scenario: loaded, path: ['steps', i, 'messages', j, 'couponId'], couponId: m.couponId }]
              : [],
          ),
    ),
  );
}

/** The channel's coupon ids, every page (at most 100 pages of 100). */
export async function readCouponIds(options: LineCheckOptions): Promise<string[]> {
  const client = new messagingApi.MessagingApiClient({
    channelAccessToken: options.channelAccessToken,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
  });
  const ms = options.timeoutMs ?? 10_000;
  const ids: string[] = [];
  let start: string | undefined;
  for (let page = 0; page < 100; page++) {
    const answer = await withTimeout(client.listCoupon(undefined, start, 100), ms);
    ids.push(...answer.items.map((c) => c.couponId));
    if (!answer.next) break;
    start = answer.next;
  }
  return ids;
}

export function couponIssues(references: readonly CouponReference[], known: readonly string[]): ScenarioIssue[] {
  const ids = new Set(known);
  const some = known.length
    ? `the channel has ${known.slice(0, 5).join(', ')}${known.length > 5 ? ', …' : ''}`
    : 'the channel has none';
  return references
    .filter((ref) => !ids.has(ref.couponId))
    .map((ref) =>
      issueAt(
        ref.scenario,
        ref.path,
        'coupon',
        `there is no coupon "${ref.couponId}" on this LINE channel.${didYouMean(ref.couponId, [...known])} ` +
          `Create it in LINE Official Account Manager (or POST /v2/bot/coupon) and copy its id (${some}).`,
      ),
    );
}

function failure(error: unknown): string {
  const why =
    error instanceof HTTPFetchError
      ? error.status === 401
        ? 'LINE refused the channel access token (401): check LINE_CHANNEL_ACCESS_TOKEN'
        : `LINE answered ${error.status} ${error.statusText}`.trim()
      : error instanceof Error
        ? error.message
        : String(error);
  return `could not check the coupons on LINE: ${why}. Their format was checked; run again when LINE can be reached, or without --line.`;
}

/** Asks LINE only when a scenario sends a coupon; a failure to ask is reported, never thrown. */
export async function checkCouponsOnLine(
  scenarios: readonly LoadedScenario[],
  options: LineCheckOptions,
  read: (o: LineCheckOptions) => Promise<string[]> = readCouponIds,
): Promise<LineCheck> {
  const references = couponReferences(scenarios);
  if (references.length === 0) return { checked: true, references: 0, issues: [] };
  try {
    return { checked: true, references: references.length, issues: couponIssues(references, await read(options)) };
  } catch (error) {
    return { checked: false, error: failure(error) };
  }
}

/**
 * Rich menus and coupons checked on LINE together: the issues of each that could be checked,
 * and the reasons of those that could not (then checked is false and the issues found stand).
 */
export async function checkOnLine(
  scenarios: readonly LoadedScenario[],
  options: LineCheckOptions,
): Promise<{ check: LineCheck; issues: ScenarioIssue[] }> {
  const checks = await Promise.all([checkRichMenusOnLine(scenarios, options), checkCouponsOnLine(scenarios, options)]);
  const issues = checks.flatMap((c) => (c.checked ? c.issues : []));
  const errors = checks.flatMap((c) => (c.checked ? [] : [c.error]));
  const references = checks.reduce((n, c) => n + (c.checked ? c.references : 0), 0);
  return {
    check: errors.length ? { checked: false, error: errors.join(' ') } : { checked: true, references, issues },
    issues,
  };
}
