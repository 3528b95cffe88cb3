/**
 * Who acts on an HTTP request (approves, rejects, cancels). The bearer token is shared: it authenticates the caller
 * (a CortexOps component, the CLI, a team's tooling), not a person, so today the person is the name the request
 * claims — checked against the approver allow-list, never trusted for more. Issue 10 replaces the shared token with
 * per-person credentials; then the identity comes from the credential, and only this function changes.
 */
export function httpActor(claimed: string): string {
  return claimed;
}
