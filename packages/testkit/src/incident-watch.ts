import { type Incident, type RemediationWorkflowInput, type Signal, SIGNAL_NAMES } from '@cortexops/contracts';
import { Client, Connection, defaultPayloadConverter } from '@temporalio/client';
import type { StackContext } from './stack/types.js';
import { temporalAddress } from './testing.js';

/** An incident the correlator opened, as its workflow's history shows it. */
export interface IncidentView {
  readonly workflowId: string;
  readonly incident: Incident;
  /** The `reason` (an alert's name) of every signal the workflow was started or signalled with. */
  readonly reasons: ReadonlySet<string>;
  /** The correlator told the workflow that the incident resolved (`incidentResolved`). */
  readonly resolved: boolean;
}

/**
 * The incidents of a Temporal namespace as the correlator left them in Temporal (one workflow each: its start input,
 * its signals), for tests that run the correlator as a process and see only what it did.
 */
export class IncidentWatch {
  private constructor(
    private readonly connection: Connection,
    private readonly client: Client,
  ) {}

  static async open(ctx: StackContext, namespace: string): Promise<IncidentWatch> {
    const connection = await Connection.connect({ address: temporalAddress(ctx) });
    return new IncidentWatch(connection, new Client({ connection, namespace }));
  }

  /** Every incident of the namespace (visibility is eventually consistent: poll until what you wait for is there). */
  async incidents(): Promise<IncidentView[]> {
    const views: IncidentView[] = [];
    for await (const execution of this.client.workflow.list()) {
      const history = await this.client.workflow.getHandle(execution.workflowId).fetchHistory();
      let input: RemediationWorkflowInput | undefined;
      const reasons = new Set<string>();
      let resolved = false;
      for (const event of history.events ?? []) {
        const started = event.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
        if (started) input = defaultPayloadConverter.fromPayload(started);
        const signalled = event.workflowExecutionSignaledEventAttributes;
        const payload = signalled?.input?.payloads?.[0];
        if (!payload) continue;
        const signal = defaultPayloadConverter.fromPayload<Signal>(payload);
        if (signal.reason) reasons.add(signal.reason);
        if (signalled?.signalName === SIGNAL_NAMES.incidentResolved) resolved = true;
      }
      if (input) views.push({ workflowId: execution.workflowId, incident: input.incident, reasons, resolved });
    }
    return views;
  }

  /** Terminates every running workflow of the namespace; resolves with how many. */
  async terminateAll(reason: string): Promise<number> {
    let terminated = 0;
    for await (const execution of this.client.workflow.list({ query: `ExecutionStatus = 'Running'` })) {
      await this.client.workflow.getHandle(execution.workflowId).terminate(reason);
      terminated += 1;
    }
    return terminated;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
