import { readFileSync } from 'node:fs';
import type { LabelledIncident } from './evaluation.js';

/** The labelled evaluation set kept in the repository: real-looking alerts and kubelet events, one incident a line. */
export const LABELLED_INCIDENTS_FILE = new URL('../data/labelled-incidents.jsonl', import.meta.url);

export function loadLabelledIncidents(file: URL | string = LABELLED_INCIDENTS_FILE): LabelledIncident[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LabelledIncident);
}
