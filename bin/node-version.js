// The oldest Node.js the bundled CLI runs on (package.json "engines"). Plain JavaScript that
// any Node.js can parse, so that an old one says what is wrong instead of failing on syntax.
export const OLDEST_NODE = 22;

/** A sentence saying why this Node.js cannot run the CLI, or undefined when it can. */
export function nodeVersionProblem(version) {
  const major = Number(String(version).split('.')[0]);
  if (major >= OLDEST_NODE) return undefined;
  return (
    'line-step-delivery needs Node.js ' +
    OLDEST_NODE +
    ' or newer; this is Node.js ' +
    version +
    ': install Node.js ' +
    OLDEST_NODE +
    ' or newer (https://nodejs.org) and run it again.'
  );
}
