// Reading settings from the environment, strictly: a typo should stop a server, not be ignored.

/** A non-negative integer from env var `name`, or `fallback` when it is unset or empty. */
export function integerFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Space-separated values from env var `name`, or `fallback` when it is unset or blank. */
export function listFromEnv(name, fallback) {
  const values = (process.env[name] ?? '').split(' ').filter(Boolean);
  return values.length === 0 ? fallback : values;
}
