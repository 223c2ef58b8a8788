// Vitest global setup: is there a Chromium for the HTML report's browser test
// (test/report/html.test.ts)? Without one that test is skipped, said here in one line, so
// `npm ci && npm test` passes on any machine; CI sets LSD_REQUIRE_BROWSER=1 (.ci/run, which
// installs Debian's chromium), and then a missing browser fails the test instead.
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Chromium to drive, or '' when there is none and none is required. */
    chromium: string;
  }
}

/** Where Debian (and Ubuntu's apt package) put Chromium; LSD_CHROMIUM names another. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export default function setup(project: TestProject): void {
  const given = process.env.LSD_CHROMIUM;
  const found = given ?? CANDIDATES.find((path) => existsSync(path));
  const required = process.env.LSD_REQUIRE_BROWSER === '1';
  if (!found && !required)
    console.log(
      'test/report/html.test.ts skipped: no Chromium (apt-get install chromium, or LSD_CHROMIUM=<path>; CI requires it with LSD_REQUIRE_BROWSER=1)',
    );
  // Required and missing: the test is run and fails, naming the path it looked for.
  project.provide('chromium', found ?? (required ? CANDIDATES[0]! : ''));
}
