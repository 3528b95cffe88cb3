import { incidentWorkflowId, type RemediationWorkflowInput, type Signal } from '@cortexops/contracts';
import { type Client, defaultPayloadConverter } from '@temporalio/client';

export interface WorkflowRecord {
  readonly input: RemediationWorkflowInput;
  /** Every signal the workflow received, in order. */
  readonly signals: Signal[];
  /** Runs with this workflow id (one: an incident never gets a second workflow). */
  readonly runs: number;
}

/** An incident's workflow as Temporal recorded it: its start input and every signal, from its event history. */
export async function workflowRecord(client: Client, incidentId: string): Promise<WorkflowRecord> {
  const handle = client.workflow.getHandle(incidentWorkflowId(incidentId));
  const history = await handle.fetchHistory();
  let input: RemediationWorkflowInput | undefined;
  const signals: Signal[] = [];
  for (const event of history.events ?? []) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started?.input?.payloads?.[0]) input = defaultPayloadConverter.fromPayload(started.input.payloads[0]);
    const signalled = event.workflowExecutionSignaledEventAttributes;
    if (signalled?.input?.payloads?.[0]) signals.push(defaultPayloadConverter.fromPayload(signalled.input.payloads[0]));
  }
  if (!input) throw new Error(`workflow of ${incidentId} has no start input`);
  let runs = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${incidentWorkflowId(incidentId)}'` })) runs += 1;
  return { input, signals, runs };
}
