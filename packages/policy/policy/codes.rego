package cortexops.remediation

# Stable prefixes of violations (deny) and reasons (approval required); mirrored in src/codes.ts.
codes := {
	"policy_data_missing": "policy-data-missing",
	"policy_data_invalid": "policy-data-invalid",
	"invalid_input": "invalid-input",
	"dry_run_failed": "dry-run-failed",
	"protected_namespace": "protected-namespace",
	"action_not_allowed": "action-not-allowed",
	"replicas_above_maximum": "replicas-above-maximum",
	"memory_above_maximum": "memory-above-maximum",
	"change_freeze": "change-freeze",
	"rate_limit_target": "rate-limit-target",
	"rate_limit_cluster": "rate-limit-cluster",
	"circuit_open": "circuit-open",
	"risk_requires_approval": "risk-requires-approval",
	"production_requires_approval": "production-requires-approval",
	"stateful_workload": "stateful-workload",
	"database_target": "database-target",
	"scale_to_zero": "scale-to-zero",
	"approve_mode": "approve-mode",
	"observe_mode": "observe-mode",
}
