/**
 * Reform files: `{"name": "...", "year": 2025, "parameters": {"<path>": value, ...}}`, with
 * an optional "description". Parsing checks everything before anything is used, and a
 * problem throws a ReformError that names the field or parameter path.
 */
import { ReformError } from '../errors.ts';
import { applyOverrides, type ParameterSet, type ParameterValues } from './parameters.ts';

export interface Reform {
  name: string;
  year: number;
  description?: string;
  /** The overrides as given (validated), keyed by parameter path. */
  parameters: Readonly<Record<string, number>>;
}

const TOP_LEVEL_KEYS = new Set(['name', 'year', 'description', 'parameters']);
const MAX_NAME = 200;
const MAX_DESCRIPTION = 2000;

/** A reform that changes nothing: simulating it gives the baseline. */
export function baselineReform(set: ParameterSet): Reform {
  return { name: 'baseline', year: set.year, parameters: {} };
}

/** Parses reform JSON text; `source` names it in messages (a file name, say). */
export function parseReformText(text: string, set: ParameterSet, source = 'reform'): Reform {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ReformError('', `${source} is not valid JSON: ${(err as Error).message}`);
  }
  return parseReform(json, set);
}

export function parseReform(json: unknown, set: ParameterSet): Reform {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ReformError('', 'a reform must be a JSON object with name, year and parameters');
  }
  const obj = json as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!TOP_LEVEL_KEYS.has(key)) {
      throw new ReformError(key, `unknown reform field "${key}" (expected name, year, description, parameters)`);
    }
  }
  const name = obj['name'];
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME) {
    throw new ReformError('name', `reform "name" must be a non-empty string of at most ${MAX_NAME} characters`);
  }
  const year = obj['year'];
  if (typeof year !== 'number' || !Number.isInteger(year)) {
    throw new ReformError(
      'year',
      `reform "year" must be a whole number (${set.year} for ${set.year}-${(set.year + 1) % 100})`,
    );
  }
  if (year !== set.year) {
    throw new ReformError(
      'year',
      `reform "year" ${year} is not available: parameters exist for ${set.year} (${set.year}-${(set.year + 1) % 100})`,
    );
  }
  const description = obj['description'];
  if (description !== undefined && (typeof description !== 'string' || description.length > MAX_DESCRIPTION)) {
    throw new ReformError(
      'description',
      `reform "description" must be a string of at most ${MAX_DESCRIPTION} characters`,
    );
  }
  const params = obj['parameters'];
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new ReformError('parameters', 'reform "parameters" must be an object of {"<path>": number}');
  }
  // applyOverrides checks each path, type and range, then the combination.
  applyOverrides(set, params as Record<string, unknown>);
  const reform: Reform = { name, year, parameters: { ...(params as Record<string, number>) } };
  if (description !== undefined) reform.description = description;
  return reform;
}

export function reformValues(set: ParameterSet, reform: Reform): ParameterValues {
  return applyOverrides(set, reform.parameters);
}
