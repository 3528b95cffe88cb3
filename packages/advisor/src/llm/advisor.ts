import { Action, LLM_FALLBACK_REASONS, RemediationPlan, type LlmFallbackReason, type SimilarIncidentSummary, type VerificationCheck } from '@cortexops/contracts';
import type { GatewayBounds } from '@cortexops/k8s';
import { renderPromql } from '@cortexops/prometheus';
import OpenAI from 'openai';
import { Registry } from 'prom-client';
import { checkPlanAgainstIncident } from '../guard.js';
import { planRemediation, type PlannerInput } from '../planner.js';
import { actionTarget, isWorkload } from '../targets.js';
import { verificationFor } from '../verification.js';
import { TokenBudget } from './budget.js';
import { CircuitBreaker } from './circuit.js';
import { createLlmMetrics, type LlmMetrics } from './metrics.js';
import { buildMessages, type RunbookExcerpt } from './prompt.js';
import { PROPOSAL_JSON_SCHEMA, proposalSchema, proposedAction, type Proposal } from './proposal.js';

export interface LlmAdvisorOptions {
  /** Any OpenAI-compatible API: OpenAI, vLLM, Ollama (`http://127.0.0.1:11434/v1`). */
  readonly baseURL: string;
  /** Without a key the advisor makes no calls: every plan is the heuristics' (reason `no-api-key`). */
  readonly apiKey?: string | undefined;
  readonly model: string;
  /** One chat request (default 8 s); past it the heuristics answer. */
  readonly timeoutMs?: number;
  /** Completion tokens asked for at most (default 800). */
  readonly maxCompletionTokens?: number;
  /** Tokens (prompt + completion) one incident may use (default 20,000). */
  readonly tokensPerIncident?: number;
  /** Tokens all calls may use in a rolling hour (default 200,000). */
  readonly tokensPerHour?: number;
  /** Failures in a row that open the circuit (default 3), and how long it stays open (default 60 s). */
  readonly circuitThreshold?: number;
  readonly circuitCoolDownMs?: number;
  /** US dollars per million tokens, for the cost estimate (default 0). */
  readonly pricePerMillionTokens?: { readonly prompt: number; readonly completion: number };
  /** The gateway's bounds: the guard checks every plan against them. */
  readonly bounds: GatewayBounds;
}

export interface LlmAdvisorDeps {
  /** Where the advisor's metrics are registered (the service's registry). */
  readonly registry?: Registry;
  /** The service's `cortexops_llm_tokens_total` counter (observability's standard metrics). */
  readonly tokensCounter?: LlmMetrics['tokens'];
  /** The clock of budgets and the circuit. */
  readonly now?: () => number;
}

export interface AdviceInput extends PlannerInput {
  readonly similar?: readonly SimilarIncidentSummary[];
  readonly runbooks?: readonly RunbookExcerpt[];
}

export interface Advice {
  readonly plan: RemediationPlan;
  readonly origin: 'llm' | 'heuristic';
  /** Why the heuristics answered although the advisor is configured. */
  readonly fallback?: { readonly reason: LlmFallbackReason; readonly detail: string };
  readonly tokens?: { readonly prompt: number; readonly completion: number };
}

export class LlmAdvisorOptionsError extends Error {
  readonly code = 'LLM_ADVISOR_INVALID_OPTIONS';
  constructor(message: string) {
    super(message);
    this.name = 'LlmAdvisorOptionsError';
  }
}

const MAX_RATIONALE = 4000;
const bounded = (text: string) => (text.length <= MAX_RATIONALE ? text : `${text.slice(0, MAX_RATIONALE - 1)}…`);

function positiveInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new LlmAdvisorOptionsError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  return value;
}

class Fallback extends Error {
  constructor(
    readonly reason: LlmFallbackReason,
    readonly detail: string,
    readonly tokens?: { prompt: number; completion: number },
  ) {
    super(detail);
  }
}

/**
 * The LLM advisor of PLANNING. The heuristics plan first (pure, immediate); then, when a key is configured, the
 * circuit is closed and the budgets have room, the model is asked for a structured proposal given the incident, the
 * diagnosis, similar past incidents with their outcomes and matching runbook sections. The proposal becomes a plan
 * (the action as proposed, the heuristics' verification profile for its target plus the model's extra checks
 * rendered by the safe PromQL builder) and passes the same guard as every plan. On a timeout, an error, a refusal,
 * invalid output, a guard refusal, an open circuit, a spent budget or no key, the heuristics' plan is the answer,
 * its rationale says why, and the reason is counted.
 */
export class LlmAdvisor {
  private constructor(
    private readonly client: OpenAI | undefined,
    private readonly options: Required<Omit<LlmAdvisorOptions, 'apiKey'>>,
    private readonly budget: TokenBudget,
    private readonly circuit: CircuitBreaker,
    readonly metrics: LlmMetrics,
  ) {}

  static create(options: LlmAdvisorOptions, deps: LlmAdvisorDeps = {}): LlmAdvisor {
    let url: URL;
    try {
      url = new URL(options.baseURL);
    } catch {
      throw new LlmAdvisorOptionsError('LLM base URL is not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new LlmAdvisorOptionsError(`LLM base URL must be http(s), got ${url.protocol}`);
    if (!/^[A-Za-z0-9._:/-]{1,128}$/.test(options.model)) throw new LlmAdvisorOptionsError('LLM model must be 1-128 of A-Z, a-z, 0-9, ".", "_", ":", "/", "-"');
    const o = {
      baseURL: options.baseURL,
      model: options.model,
      timeoutMs: positiveInt('timeoutMs', options.timeoutMs ?? 8000, 100, 120_000),
      maxCompletionTokens: positiveInt('maxCompletionTokens', options.maxCompletionTokens ?? 800, 64, 16_000),
      tokensPerIncident: positiveInt('tokensPerIncident', options.tokensPerIncident ?? 20_000, 1, 10_000_000),
      tokensPerHour: positiveInt('tokensPerHour', options.tokensPerHour ?? 200_000, 1, 1_000_000_000),
      circuitThreshold: positiveInt('circuitThreshold', options.circuitThreshold ?? 3, 1, 100),
      circuitCoolDownMs: positiveInt('circuitCoolDownMs', options.circuitCoolDownMs ?? 60_000, 1, 3_600_000),
      pricePerMillionTokens: options.pricePerMillionTokens ?? { prompt: 0, completion: 0 },
      bounds: options.bounds,
    };
    const prices = o.pricePerMillionTokens;
    if (![prices.prompt, prices.completion].every((p) => Number.isFinite(p) && p >= 0)) throw new LlmAdvisorOptionsError('prices must be finite and not negative');
    const now = deps.now ?? Date.now;
    const client = options.apiKey ? new OpenAI({ baseURL: o.baseURL, apiKey: options.apiKey, timeout: o.timeoutMs, maxRetries: 0 }) : undefined;
    const metrics = createLlmMetrics(deps.registry ?? new Registry(), deps.tokensCounter);
    return new LlmAdvisor(client, o, new TokenBudget(o.tokensPerIncident, o.tokensPerHour, now), new CircuitBreaker(o.circuitThreshold, o.circuitCoolDownMs, now), metrics);
  }

  /** A plan for the incident: the model's when it passes every check, else the heuristics' saying why. */
  async advise(input: AdviceInput): Promise<Advice> {
    const heuristic = planRemediation(input);
    try {
      const { plan, tokens } = await this.ask(input, heuristic);
      return { plan, origin: 'llm', tokens };
    } catch (error) {
      if (!(error instanceof Fallback)) throw error;
      this.metrics.fallbacks.inc({ reason: error.reason });
      const plan = RemediationPlan.parse({ ...heuristic, rationale: bounded(`${heuristic.rationale} (LLM advisor not used: ${error.reason}: ${error.detail})`) });
      return { plan, origin: 'heuristic', fallback: { reason: error.reason, detail: error.detail }, ...(error.tokens ? { tokens: error.tokens } : {}) };
    }
  }

  private async ask(input: AdviceInput, heuristic: RemediationPlan): Promise<{ plan: RemediationPlan; tokens: { prompt: number; completion: number } }> {
    if (this.client === undefined) throw new Fallback(LLM_FALLBACK_REASONS.noApiKey, 'no API key is configured');
    const spent = this.budget.exhausted(input.incident.id);
    if (spent !== undefined) throw new Fallback(LLM_FALLBACK_REASONS.budgetExhausted, spent);
    if (!this.circuit.allow()) throw new Fallback(LLM_FALLBACK_REASONS.circuitOpen, `the last ${this.options.circuitThreshold} calls failed; calls resume after ${this.options.circuitCoolDownMs} ms`);
    const proposal = await this.call(input, heuristic);
    const plan = this.toPlan(proposal.value, input);
    const problems = checkPlanAgainstIncident(plan, input.incident, { bounds: this.options.bounds, diagnosis: input.diagnosis });
    if (problems.length > 0) throw new Fallback(LLM_FALLBACK_REASONS.guardRefused, problems.map((p) => `${p.code}: ${p.message}`).join('; ').slice(0, 1000), proposal.tokens);
    return { plan: RemediationPlan.parse(plan), tokens: proposal.tokens };
  }

  /** One chat request; its outcome feeds the circuit, the metrics and the budgets. */
  private async call(input: AdviceInput, heuristic: RemediationPlan): Promise<{ value: Proposal; tokens: { prompt: number; completion: number } }> {
    const started = performance.now();
    const done = (outcome: string) => {
      this.metrics.requests.inc({ outcome });
      this.metrics.requestSeconds.observe({ outcome }, (performance.now() - started) / 1000);
      if (outcome === 'ok' || outcome === 'refusal') this.circuit.success();
      else this.circuit.failure();
      this.metrics.circuitOpen.set(this.circuit.open ? 1 : 0);
    };
    let response: OpenAI.Chat.Completions.ChatCompletion;
    try {
      response = await this.client!.chat.completions.create({
        model: this.options.model,
        messages: buildMessages({
          incident: input.incident,
          diagnosis: input.diagnosis,
          similar: input.similar ?? [],
          runbooks: input.runbooks ?? [],
          heuristic: { rule: heuristic.rule, actions: heuristic.actions, rationale: heuristic.rationale },
          bounds: this.options.bounds,
        }),
        response_format: { type: 'json_schema', json_schema: { name: 'remediation_proposal', strict: true, schema: PROPOSAL_JSON_SCHEMA } },
        max_completion_tokens: this.options.maxCompletionTokens,
        temperature: 0,
      });
    } catch (error) {
      const timeout = error instanceof OpenAI.APIConnectionTimeoutError;
      done(timeout ? 'timeout' : 'error');
      const detail = error instanceof Error ? error.message : String(error);
      throw new Fallback(timeout ? LLM_FALLBACK_REASONS.timeout : LLM_FALLBACK_REASONS.error, timeout ? `no answer within ${this.options.timeoutMs} ms` : detail.slice(0, 300));
    }
    const tokens = this.account(input.incident.id, response.usage);
    const message = (response.choices as (typeof response.choices | undefined))?.[0]?.message;
    if (message?.refusal) {
      done('refusal');
      throw new Fallback(LLM_FALLBACK_REASONS.refusal, `the model refused: ${message.refusal.slice(0, 300)}`, tokens);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(message?.content ?? '');
    } catch {
      done('invalid-output');
      throw new Fallback(LLM_FALLBACK_REASONS.invalidOutput, 'the answer is not JSON', tokens);
    }
    const proposal = proposalSchema.safeParse(parsed);
    if (!proposal.success) {
      done('invalid-output');
      const issues = proposal.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new Fallback(LLM_FALLBACK_REASONS.invalidOutput, `the answer is not a proposal: ${issues.slice(0, 600)}`, tokens);
    }
    done('ok');
    return { value: proposal.data, tokens };
  }

  private account(incidentId: string, usage: OpenAI.Completions.CompletionUsage | undefined): { prompt: number; completion: number } {
    const prompt = Math.max(0, Math.trunc(usage?.prompt_tokens ?? 0));
    const completion = Math.max(0, Math.trunc(usage?.completion_tokens ?? 0));
    this.metrics.tokens.inc({ kind: 'prompt' }, prompt);
    this.metrics.tokens.inc({ kind: 'completion' }, completion);
    const { prompt: pp, completion: cp } = this.options.pricePerMillionTokens;
    this.metrics.costUsd.inc((prompt * pp + completion * cp) / 1_000_000);
    this.budget.add(incidentId, prompt + completion);
    return { prompt, completion };
  }

  /** The plan a proposal stands for; not yet checked (the guard does that). */
  private toPlan(p: Proposal, input: AdviceInput): unknown {
    const base = { incidentId: input.incident.id, source: 'llm', rule: `llm:${this.options.model}`.slice(0, 128), rationale: p.rationale, createdAt: input.now };
    const proposed = proposedAction(p);
    if (proposed === undefined) return { ...base, actions: [], risk: p.risk };
    const action = Action.validate(proposed);
    // Not an action of the catalogue: the guard names what is wrong with it.
    if (!action.ok) return { ...base, actions: [proposed], risk: p.risk };
    const target = actionTarget(action.value);
    if (target.kind !== 'Node' && !isWorkload(target)) {
      throw new Fallback(LLM_FALLBACK_REASONS.guardRefused, `${action.value.type} of a ${target.kind} has no verification profile; the advisor proposes changes to workloads and nodes only`);
    }
    const verification = verificationFor(isWorkload(target) ? 'workload' : 'node', target, input.settings.verification, renderPromql);
    const extra = p.checks.map((c, i): VerificationCheck => {
      let query: string;
      try {
        query = renderPromql(c.template, target);
      } catch {
        throw new Fallback(LLM_FALLBACK_REASONS.invalidOutput, `check template ${c.template} does not apply to a ${target.kind}`);
      }
      return { type: 'promql', name: `llm-${i + 1}`, template: c.template, query, successCondition: { op: c.op, threshold: c.threshold } };
    });
    return { ...base, actions: [action.value], risk: p.risk, verification: { ...verification, checks: [...verification.checks, ...extra] } };
  }
}
