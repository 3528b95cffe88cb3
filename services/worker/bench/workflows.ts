/**
 * The benchmark's workflows module: the real workflows, bundled as the worker bundles them, plus a no-op baseline that
 * only this benchmark's worker registers.
 */
export * from '@cortexops/workflows';

/** The baseline: no activity, no audit, no cluster; waits `waitMs` (the verification windows of the real plan) and ends. */
export async function benchNoopWorkflow(waitMs: number): Promise<string> {
  // Inside a workflow, setTimeout is a durable Temporal timer (the sandbox replaces it).
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  return 'done';
}
