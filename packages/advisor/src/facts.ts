import type { Diagnosis, Incident } from '@cortexops/contracts';
import { resolveActionTarget, type TargetResolution } from './targets.js';
import { ALERT_SUMMARIES, REASON_SYMPTOMS, REASON_WORD, type Symptom } from './vocabulary.js';

/**
 * What the rules look at, read once from the incident and its diagnosis. Every string here that can reach a
 * rationale is built from validated names (DNS-1123), known reason words and numbers — never from free text such
 * as event messages, which a workload can influence.
 */
export interface Facts {
  readonly incident: Incident;
  readonly diagnosis: Diagnosis;
  /** The object the heuristics would act on, or why there is none. */
  readonly target: TargetResolution;
  /** Each symptom reported, with where it was seen (`event BackOff ×12 on Pod/x`, `pod x last terminated OOMKilled`). */
  readonly symptoms: ReadonlyMap<Symptom, readonly string[]>;
  /** Reasons seen that the vocabulary does not know (reason-shaped words only), for the "no rule matched" rationale. */
  readonly unknownReasons: readonly string[];
}

const LEADING_REASON = /^([A-Za-z][A-Za-z0-9]{0,63}):\s/;
const EVENT_OBJECT = /^[A-Za-z]{1,32}\/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const MAX_UNKNOWN = 10;

/**
 * The reasons an incident's title carries: a Kubernetes event's title starts with `Reason: Kind/name`, an alert's
 * is its alert name or its kubernetes-mixin summary. Words inside a message are not read (anyone who can write an
 * event's message could otherwise choose the rule).
 */
export function titleReasons(title: string): string[] {
  const trimmed = title.trim();
  const leading = LEADING_REASON.exec(trimmed);
  if (leading?.[1] !== undefined) return [leading[1]];
  if (REASON_WORD.test(trimmed)) return [trimmed];
  const alert = ALERT_SUMMARIES.get(trimmed);
  return alert === undefined ? [] : [alert];
}

export function factsOf(incident: Incident, diagnosis: Diagnosis): Facts {
  const symptoms = new Map<Symptom, string[]>();
  const unknown = new Set<string>();
  const note = (reason: string, where: string): void => {
    const symptom = REASON_SYMPTOMS.get(reason);
    if (symptom === undefined) {
      if (REASON_WORD.test(reason) && unknown.size < MAX_UNKNOWN) unknown.add(reason);
      return;
    }
    const list = symptoms.get(symptom) ?? [];
    list.push(where);
    symptoms.set(symptom, list);
  };
  for (const reason of titleReasons(incident.title)) note(reason, `the incident's title reports ${reason}`);
  for (const event of diagnosis.events) {
    const on = EVENT_OBJECT.test(event.object) ? ` on ${event.object}` : '';
    note(event.reason, `event ${event.reason} ×${event.count}${on}`);
  }
  for (const pod of diagnosis.pods) {
    const reason = pod.lastTerminationReason;
    if (reason !== undefined) note(reason, `pod ${pod.name} last terminated ${reason} (${pod.restarts} restarts)`);
  }
  return { incident, diagnosis, target: resolveActionTarget(incident, diagnosis), symptoms, unknownReasons: [...unknown] };
}
