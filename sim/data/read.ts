/**
 * Reading the JSON data files sim/ ships: the only disk access in sim/. A file that is
 * missing or not JSON is a broken release, reported as SimDataError naming the file.
 */
import { readFileSync } from 'node:fs';
import { SimDataError } from '../errors.ts';

export function readDataFile(name: string): unknown {
  const url = new URL(`./${name}`, import.meta.url);
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (err) {
    throw new SimDataError(`sim data file ${name} cannot be read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SimDataError(`sim data file ${name} is not JSON: ${(err as Error).message}`);
  }
}
