// doctor's LINE link, through @line/bot-sdk against LINE_API_BASE_URL: the token valid (the
// channel's name shown, so a token of another channel is seen), the quota and this month's
// use, the webhook endpoint set to the line-webhook function and turned on, and LINE's own
// test of it passing. The token is never shown.
import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import { withTimeout } from '../../line/line-calls.js';
import { fix, note, notChecked, ok, type Check } from './checks.js';

export interface LineLinkOptions {
  channelAccessToken: string | undefined;
  baseURL?: string | undefined;
  /** SUPABASE_URL, to know where the webhook should point. */
  supabaseUrl?: string | undefined;
  /** The channel the team means (its name or basic id, @xxxx): another is a wrong token. */
  expectChannel?: string | undefined;
  timeoutMs?: number;
}

const WEBHOOK_PATH = '/functions/v1/line-webhook';

/** LINE's answer in words, never the token. */
function lineProblem(error: unknown): string {
  if (error instanceof HTTPFetchError) {
    if (error.status === 401)
      return 'LINE refused the channel access token (401): issue a long-lived token in the LINE Developers console (Messaging API tab) and put it in LINE_CHANNEL_ACCESS_TOKEN';
    return `LINE answered ${error.status}${error.statusText ? ` ${error.statusText}` : ''}`;
  }
  const cause = (error as { cause?: { code?: unknown } })?.cause?.code;
  return `LINE could not be reached: ${error instanceof Error ? error.message : String(error)}${typeof cause === 'string' ? ` (${cause})` : ''}`;
}

const sameChannel = (expect: string, info: messagingApi.BotInfoResponse) =>
  [info.displayName, info.basicId, info.premiumId].some((n) => n && n.toLowerCase() === expect.toLowerCase());

/** The LINE link's checks, in the order a person fixes them. */
export async function lineChecks(options: LineLinkOptions): Promise<Check[]> {
  if (!options.channelAccessToken)
    return [
      notChecked('LINE', 'channel', 'no LINE_CHANNEL_ACCESS_TOKEN given (line-channel-access-token in the action)'),
    ];
  const client = new messagingApi.MessagingApiClient({
    channelAccessToken: options.channelAccessToken,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
  });
  const ms = options.timeoutMs ?? 10_000;
  let info: messagingApi.BotInfoResponse;
  try {
    info = await withTimeout(client.getBotInfo(), ms);
  } catch (error) {
    return [fix('LINE', 'token', lineProblem(error))];
  }
  const name = `"${info.displayName}" (${info.basicId})`;
  const checks: Check[] = [
    options.expectChannel && !sameChannel(options.expectChannel, info)
      ? fix(
          'LINE',
          'channel',
          `the token is of ${name}, not of "${options.expectChannel}": issue the token in the channel you mean (LINE Developers console → that channel → Messaging API tab)`,
        )
      : ok('LINE', 'channel', `the token is valid, for ${name}`),
  ];
  checks.push(await quotaCheck(client, ms));
  checks.push(...(await webhookChecks(client, ms, options.supabaseUrl)));
  return checks;
}

async function quotaCheck(client: messagingApi.MessagingApiClient, ms: number): Promise<Check> {
  try {
    const [quota, used] = await Promise.all([
      withTimeout(client.getMessageQuota(), ms),
      withTimeout(client.getMessageQuotaConsumption(), ms),
    ]);
    const total = used.totalUsage.toLocaleString('en-US');
    if (quota.type !== 'limited' || quota.value === undefined)
      return ok('LINE', 'quota', `no monthly limit; ${total} message(s) sent this month`);
    const left = quota.value - used.totalUsage;
    const text = `${total} of ${quota.value.toLocaleString('en-US')} message(s) used this month`;
    if (left <= 0)
      return fix(
        'LINE',
        'quota',
        `${text}: nothing more goes out until the 1st (or a plan with a higher limit, LINE Official Account Manager)`,
      );
    return left < quota.value / 10
      ? note('LINE', 'quota', `${text}: less than a tenth left`)
      : ok('LINE', 'quota', text);
  } catch (error) {
    return fix('LINE', 'quota', lineProblem(error));
  }
}

function expectedWebhook(supabaseUrl: string | undefined): string | undefined {
  if (!supabaseUrl) return undefined;
  try {
    return `${new URL(supabaseUrl).origin}${WEBHOOK_PATH}`;
  } catch {
    return undefined;
  }
}

async function webhookChecks(
  client: messagingApi.MessagingApiClient,
  ms: number,
  supabaseUrl?: string,
): Promise<Check[]> {
  const want = expectedWebhook(supabaseUrl);
  const where = `LINE Developers console → the channel → Messaging API tab → Webhook settings: Webhook URL ${want ?? `https://<ref>.supabase.co${WEBHOOK_PATH}`}, Verify, and turn Use webhook on`;
  let endpoint: messagingApi.GetWebhookEndpointResponse;
  try {
    endpoint = await withTimeout(client.getWebhookEndpoint(), ms);
  } catch (error) {
    // LINE answers 404 when no webhook URL was ever set.
    if (error instanceof HTTPFetchError && error.status === 404)
      return [fix('LINE', 'webhook', `no webhook URL is set: ${where}`)];
    return [fix('LINE', 'webhook', lineProblem(error))];
  }
  const url = endpoint.endpoint ?? '';
  if (!url) return [fix('LINE', 'webhook', `no webhook URL is set: ${where}`)];
  const checks: Check[] = [];
  if (want && url !== want)
    checks.push(fix('LINE', 'webhook', `it points to ${url}, not to your line-webhook function: ${where}`));
  else if (!want && !url.endsWith(WEBHOOK_PATH))
    checks.push(
      note(
        'LINE',
        'webhook',
        `it points to ${url}, which is not a line-webhook function (fine if your own receiver writes the events)`,
      ),
    );
  else checks.push(ok('LINE', 'webhook', `set to ${url}`));
  if (!endpoint.active) checks.push(fix('LINE', 'webhook on', `the webhook is set but turned off: ${where}`));
  checks.push(await webhookTest(client, ms, where));
  return checks;
}

async function webhookTest(client: messagingApi.MessagingApiClient, ms: number, where: string): Promise<Check> {
  try {
    const t = await withTimeout(client.testWebhookEndpoint({}), ms);
    if (t.success) return ok('LINE', 'webhook test', `LINE reached it (${t.statusCode})`);
    const why = [t.reason, t.detail].filter(Boolean).join(': ');
    const hint =
      t.statusCode === 401
        ? " The function refused the request: set its secret LINE_CHANNEL_SECRET to this channel's secret (supabase secrets set LINE_CHANNEL_SECRET=...), and deploy it with --no-verify-jwt (Supabase answers 401 to a request without a JWT otherwise)."
        : t.statusCode === 404
          ? ' Deploy the function: supabase functions deploy line-webhook --no-verify-jwt.'
          : '';
    return fix(
      'LINE',
      'webhook test',
      `LINE's test of the webhook failed (status ${t.statusCode}${why ? `, ${why}` : ''}).${hint} Then ${where}`,
    );
  } catch (error) {
    return fix('LINE', 'webhook test', lineProblem(error));
  }
}
