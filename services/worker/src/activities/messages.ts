import { HTTP_PATHS, type ApprovalRequest, type RemediationNote } from '@cortexops/contracts';

export interface ApprovalsClientOptions {
  readonly baseUrl: string;
  /** Without a token the approvals service's API is not reachable: requests are not posted (decide through the API). */
  readonly token: string | undefined;
  readonly timeoutMs?: number;
}

export interface Delivery {
  readonly posted: boolean;
  readonly detail: string;
}

/** `{posted: false, detail}` when the service has no channel to post to; anything else 2xx was posted. */
function deliveryOf(status: number, text: string): Delivery {
  try {
    const body = JSON.parse(text) as { posted?: unknown; detail?: unknown };
    if (body.posted === false) return { posted: false, detail: typeof body.detail === 'string' ? body.detail : 'not posted' };
  } catch {
    // A body that is not JSON still means the post went through.
  }
  return { posted: true, detail: `posted (${status})` };
}

/** An answer worth retrying: the service or Slack behind it failed, or the network did. */
class ApprovalsUnavailableError extends Error {
  readonly code = 'APPROVALS_UNAVAILABLE';
}

/**
 * The worker's side of the approvals service: posts approval requests (Slack message with buttons) and notes.
 * A refusal that will not change on retry (Slack not configured, bad request) is reported as not posted; the workflow
 * goes on waiting, since the HTTP API and CLI decide without Slack.
 */
export class ApprovalsClient {
  constructor(private readonly options: ApprovalsClientOptions) {}

  requestApproval(request: ApprovalRequest): Promise<Delivery> {
    return this.post(HTTP_PATHS.approvalRequests, request);
  }

  postNote(note: RemediationNote): Promise<Delivery> {
    return this.post(HTTP_PATHS.notes, note);
  }

  private async post(path: string, body: unknown): Promise<Delivery> {
    if (this.options.token === undefined) return { posted: false, detail: 'the approvals API token is not configured (CORTEXOPS_APPROVALS_API_TOKEN); nothing posted' };
    const url = new URL(path, this.options.baseUrl);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new ApprovalsUnavailableError(`approvals service at ${url.origin} unreachable: ${(error as Error).message}`, { cause: error });
    }
    const text = (await response.text()).slice(0, 500);
    if (response.ok) return deliveryOf(response.status, text);
    if (response.status >= 500 && response.status !== 503) throw new ApprovalsUnavailableError(`approvals service answered ${response.status}: ${text}`);
    return { posted: false, detail: `approvals service answered ${response.status}: ${text}` };
  }
}
