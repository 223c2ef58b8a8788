// What the report's SQL functions answer, as domain types: lsd_report (counts per scenario,
// step and day: never a user id or a text), lsd_unit_stats_due / _save (LINE's statistics
// per aggregation unit and day) and lsd_inspect (one user's story, for the CLI only).

/** LINE's statistics of one aggregation unit over the days of a period it was sent on. */
export interface UnitStatistics {
  unit: string;
  /** Recipients of this unit's batches sent in the period. */
  sent: number;
  /** UTC+9 days it was sent on, and of those the days whose statistics were read back. */
  daysSent: number;
  daysFetched: number;
  /** Days LINE answered null for opens (fewer than 20). */
  daysHidden: number;
  /** Recipients on the days whose opens LINE gave, and the users who opened. */
  sentWithOpens: number | null;
  uniqueImpression: number | null;
  sentWithClicks: number | null;
  uniqueClick: number | null;
  impression: number | null;
  click: number | null;
}

export interface StepReport {
  id: string;
  /** message, wait, branch, split; null for a step no longer in the definition. */
  type: string | null;
  inDefinition: boolean;
  sent: number;
  failed: number;
  expired: number;
  needsReview: number;
  /** Active enrollments at this step now. */
  waiting: number;
  /** Enrollments that left the scenario in the period while at this step. */
  exited: number;
  units: UnitStatistics[];
}

export interface DayCount {
  /** YYYY-MM-DD in the scenario's zone. */
  day: string;
  sent: number;
  conversions: number;
}

export interface ScenarioReport {
  id: string;
  name: string | null;
  timezone: string;
  status: string;
  /** The goal's event, if the scenario has a goal. */
  goal: string | null;
  entered: number;
  /** Of those who entered in the period, how many reached the goal (within its window). */
  goalReached: number;
  waiting: number;
  finished: number;
  exited: number;
  /** Goals reached in the period, whenever the user entered. */
  conversions: number;
  exits: { reason: string; count: number }[];
  steps: StepReport[];
  days: DayCount[];
}

export interface ReportPage {
  known: string[];
  unknownScenario: boolean;
  scenarios: ScenarioReport[];
  next: string | null;
}

type Row = Record<string, unknown>;
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function toUnit(u: Row): UnitStatistics {
  return {
    unit: String(u.unit),
    sent: num(u.sent),
    daysSent: num(u.days_sent),
    daysFetched: num(u.days_fetched),
    daysHidden: num(u.days_hidden),
    sentWithOpens: numOrNull(u.sent_with_opens),
    uniqueImpression: numOrNull(u.unique_impression),
    sentWithClicks: numOrNull(u.sent_with_clicks),
    uniqueClick: numOrNull(u.unique_click),
    impression: numOrNull(u.impression),
    click: numOrNull(u.click),
  };
}

function toStep(s: Row): StepReport {
  return {
    id: String(s.id),
    type: str(s.type),
    inDefinition: s.in_definition === true,
    sent: num(s.sent),
    failed: num(s.failed),
    expired: num(s.expired),
    needsReview: num(s.needs_review),
    waiting: num(s.waiting),
    exited: num(s.exited),
    units: ((s.units as Row[] | null) ?? []).map(toUnit),
  };
}

function toScenario(s: Row): ScenarioReport {
  return {
    id: String(s.id),
    name: str(s.name),
    timezone: str(s.timezone) ?? 'Asia/Tokyo',
    status: str(s.status) ?? 'active',
    goal: str(s.goal),
    entered: num(s.entered),
    goalReached: num(s.goal_reached),
    waiting: num(s.waiting),
    finished: num(s.finished),
    exited: num(s.exited),
    conversions: num(s.conversions),
    exits: ((s.exits as Row[] | null) ?? []).map((x) => ({ reason: String(x.reason), count: num(x.count) })),
    steps: ((s.steps as Row[] | null) ?? []).map(toStep),
    days: ((s.days as Row[] | null) ?? []).map((d) => ({
      day: String(d.day),
      sent: num(d.sent),
      conversions: num(d.conversions),
    })),
  };
}

export function toReportPage(r: Row): ReportPage {
  return {
    known: ((r.known as unknown[] | null) ?? []).map(String),
    unknownScenario: r.unknown_scenario === true,
    scenarios: ((r.scenarios as Row[] | null) ?? []).map(toScenario),
    next: str(r.next),
  };
}

/** A unit and a UTC+9 day (yyyyMMdd) whose statistics are to be read back from LINE. */
export interface UnitDay {
  unit: string;
  day: string;
}

/** What LINE answered for one unit and day (null: LINE hides counts under 20). */
export interface UnitDayStatistics extends UnitDay {
  uniqueImpression: number | null;
  uniqueClick: number | null;
  impression: number | null;
  click: number | null;
  uniqueMediaPlayed: number | null;
}

/**
 * A scenario's holdout comparison over the users who entered in a period and had a message
 * step decided (lsd_holdout_report): the treated were sent it, the held out were not.
 */
export interface HoldoutCounts {
  scenarioId: string;
  treated: number;
  treatedConverted: number;
  heldOut: number;
  heldOutConverted: number;
  /** Users whose group moved while they were inside (the percent or the salt changed): left out. */
  moved: number;
}

export function toHoldoutCounts(rows: Row[]): HoldoutCounts[] {
  return rows.map((r) => ({
    scenarioId: String(r.scenario_id),
    treated: num(r.treated),
    treatedConverted: num(r.treated_converted),
    heldOut: num(r.held_out),
    heldOutConverted: num(r.held_out_converted),
    moved: num(r.moved),
  }));
}

/** Friends added through one follow route in a period, and what became of them (lsd_route_report). */
export interface RouteReport {
  /** null: follows with no route recorded. */
  route: string | null;
  added: number;
  blocked7d: number;
  blocked30d: number;
  /** Per scenario: of these friends, how many entered it after the follow, and how many of those reached its goal. */
  scenarios: { scenarioId: string; entered: number; converted: number }[];
}

export function toRouteReports(r: Row): { routes: RouteReport[]; more: boolean } {
  return {
    routes: ((r.routes as Row[] | null) ?? []).map((x) => ({
      route: str(x.route),
      added: num(x.added),
      blocked7d: num(x.blocked_7d),
      blocked30d: num(x.blocked_30d),
      scenarios: ((x.scenarios as Row[] | null) ?? []).map((s) => ({
        scenarioId: String(s.scenario_id),
        entered: num(s.entered),
        converted: num(s.converted),
      })),
    })),
    more: r.more === true,
  };
}
