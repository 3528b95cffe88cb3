package cortexops.remediation_test

import data.cortexops.remediation

violation_codes(i) := codes_of(d.violations) if {
	d := remediation.decision with input as i
}

test_input_problems_deny_with_each_field if {
	d := decision_for({"action": {"type": "scale"}, "dryRun": {}, "counts": {"targetActionsLastHour": "x"}, "now": "yesterday"})
	d.allow == false
	codes_of(d.violations) == {"invalid-input"}
	some m in d.violations
	contains(m, "cluster must be a string")
	some n in d.violations
	contains(n, "now must be an RFC 3339 timestamp")
	some r in d.violations
	contains(r, "action.replicas must be a number")
	some c in d.violations
	contains(c, "counts.targetActionsLastHour must be a number")
}

test_input_not_an_object_is_denied if {
	"invalid-input" in violation_codes("scale everything")
}

test_input_bad_memory_quantity_is_denied if {
	"invalid-input" in violation_codes(with_action({"type": "raise-memory-limit", "kind": "Deployment", "namespace": "demo", "name": "checkout", "container": "app", "memory": "lots"}))
}

test_input_missing_action_name_is_denied if {
	"invalid-input" in violation_codes(with_action({"type": "delete-pod", "kind": "Pod", "namespace": "demo"}))
}

test_policy_data_invalid_denies if {
	bad := object.union(data.remediation_policy, {
		"bounds": {"maxReplicas": "fifty", "maxMemory": "a lot"},
		"protectedNamespaces": "kube-system",
		"actionsByNamespace": [],
		"approval": {"riskLevels": "high", "databaseNames": {"prefixes": "db-"}},
		"freezeWindows": [{"name": "x", "start": "soon"}],
		"weeklyFreezes": [{"name": "y", "from": {"weekday": "Friday", "time": "6pm"}, "to": {"weekday": "Monday", "time": "06:00"}}],
	})
	d := remediation.decision with input as base with data.remediation_policy as bad
	d.allow == false
	codes_of(d.violations) == {"policy-data-invalid"}
	count(d.violations) == 8
}

test_policy_data_missing_settings_deny if {
	d := remediation.decision with input as base with data.remediation_policy as {}
	d.allow == false
	count(d.violations) >= 10
}

test_dry_run_failure_denies_with_its_error if {
	d := decision_for(object.union(base, {"dryRun": {"ok": false, "error": "admission webhook said no"}}))
	d.violations == ["dry-run-failed: the server-side dry-run failed: admission webhook said no"]
}

test_dry_run_failure_without_error_text if {
	"dry-run-failed" in violation_codes(object.union(base, {"dryRun": {"ok": false}}))
}

test_protected_namespace_denies if {
	"protected-namespace" in violation_codes(with_action({"type": "delete-pod", "kind": "Pod", "namespace": "kube-system", "name": "coredns-1"}))
	not "protected-namespace" in violation_codes(base)
}

test_action_allow_list_per_environment if {
	cordon := object.union(with_action({"type": "cordon-node", "kind": "Node", "name": "node-1"}), {"environment": "production"})
	"action-not-allowed" in violation_codes(cordon)
	not "action-not-allowed" in violation_codes(object.union(cordon, {"environment": "staging"}))
}

test_action_allow_list_default_for_unknown_environment if {
	unknown := object.union(base, {"environment": "qa-7"})
	"action-not-allowed" in violation_codes(unknown)
	not "action-not-allowed" in violation_codes(object.union(unknown, {"action": {"type": "delete-pod", "kind": "Pod", "namespace": "demo", "name": "checkout-abc"}}))
}

test_action_allow_list_default_missing_denies_unknown_environment if {
	policy := json.remove(data.remediation_policy, ["actionsByEnvironment/default"])
	codes := codes_of(remediation.decision.violations) with input as object.union(base, {"environment": "qa-7"}) with data.remediation_policy as policy
	"action-not-allowed" in codes
}

test_action_allow_list_per_namespace if {
	payments := with_action({"type": "delete-pod", "kind": "Pod", "namespace": "payments", "name": "ledger-0"})
	"action-not-allowed" in violation_codes(payments)
	not "action-not-allowed" in violation_codes(with_action({"type": "scale", "kind": "Deployment", "namespace": "payments", "name": "ledger", "replicas": 3}))
}

test_bounds_maximum_replicas if {
	"replicas-above-maximum" in violation_codes(with_action({"type": "scale", "kind": "Deployment", "namespace": "demo", "name": "checkout", "replicas": 51}))
	not "replicas-above-maximum" in violation_codes(with_action({"type": "scale", "kind": "Deployment", "namespace": "demo", "name": "checkout", "replicas": 50}))
}

raise(memory) := with_action({"type": "raise-memory-limit", "kind": "Deployment", "namespace": "demo", "name": "checkout", "container": "app", "memory": memory})

test_bounds_maximum_memory if {
	"memory-above-maximum" in violation_codes(raise("17Gi"))
	"memory-above-maximum" in violation_codes(raise("18G"))
	not "memory-above-maximum" in violation_codes(raise("16Gi"))
	not "memory-above-maximum" in violation_codes(raise("17G"))
}

production_at(now) := object.union(base, {"environment": "production", "now": now})

test_change_freeze_absolute_window if {
	"change-freeze" in violation_codes(production_at("2026-11-27T12:00:00Z"))
	"change-freeze" in violation_codes(production_at("2026-11-26T00:00:00Z"))
	"change-freeze" in violation_codes(production_at("2026-11-30T23:59:59Z"))
	not "change-freeze" in violation_codes(production_at("2026-11-25T23:59:59Z"))
	not "change-freeze" in violation_codes(production_at("2026-12-01T00:00:00Z"))
	not "change-freeze" in violation_codes(object.union(production_at("2026-11-27T12:00:00Z"), {"environment": "staging"}))
}

test_change_freeze_absolute_window_respects_offsets if {
	# 2026-11-26T01:00+02:00 is 2026-11-25T23:00Z: before the freeze.
	not "change-freeze" in violation_codes(production_at("2026-11-26T01:00:00+02:00"))
	"change-freeze" in violation_codes(production_at("2026-11-25T23:00:00-02:00"))
}

test_change_freeze_weekly_window_wraps_the_weekend if {
	"change-freeze" in violation_codes(production_at("2026-11-20T18:00:00Z")) # Friday 18:00
	"change-freeze" in violation_codes(production_at("2026-11-22T12:00:00Z")) # Sunday
	"change-freeze" in violation_codes(production_at("2026-11-23T05:59:00Z")) # Monday early
	not "change-freeze" in violation_codes(production_at("2026-11-23T06:00:00Z")) # Monday 06:00
	not "change-freeze" in violation_codes(production_at("2026-11-20T17:59:59Z")) # Friday afternoon
}

test_change_freeze_limited_to_clusters if {
	policy := object.union(data.remediation_policy, {"weeklyFreezes": [], "freezeWindows": [{"name": "migration", "start": "2026-11-18T00:00:00Z", "end": "2026-11-19T00:00:00Z", "clusters": ["eu-1"]}]})
	"change-freeze" in codes_of(remediation.decision.violations) with input as object.union(base, {"cluster": "eu-1"}) with data.remediation_policy as policy
	not "change-freeze" in codes_of(remediation.decision.violations) with input as base with data.remediation_policy as policy
}

counts(target, clstr, failures) := object.union(base, {"counts": {"targetActionsLastHour": target, "clusterActionsLastHour": clstr, "consecutiveFailures": failures}})

test_rate_limit_per_target if {
	"rate-limit-target" in violation_codes(counts(3, 3, 0))
	not "rate-limit-target" in violation_codes(counts(2, 2, 0))
}

test_rate_limit_per_cluster if {
	"rate-limit-cluster" in violation_codes(counts(0, 20, 0))
	not "rate-limit-cluster" in violation_codes(counts(0, 19, 0))
}

test_circuit_breaker_opens_after_consecutive_failures if {
	d := decision_for(counts(0, 0, 3))
	d.allow == false
	codes_of(d.violations) == {"circuit-open"}
	contains(d.violations[0], "escalate")
	not "circuit-open" in violation_codes(counts(0, 0, 2))
}

# Each single malformed field is named (the well-formed fast path and the per-field checks agree).
test_input_each_malformed_field_is_named if {
	broken := [
		object.union(base, {"incidentId": 1}),
		object.union(base, {"cluster": null}),
		object.union(base, {"environment": []}),
		object.union(base, {"risk": 3}),
		object.union(base, {"action": {"type": 7}}),
		object.union(base, {"action": {"kind": false}}),
		object.union(base, {"action": {"name": {}}}),
		object.union(base, {"action": {"replicas": "4"}}),
		raise(512),
		object.union(base, {"dryRun": {"ok": "yes"}}),
		object.union(base, {"counts": {"targetActionsLastHour": "0"}}),
		object.union(base, {"counts": {"clusterActionsLastHour": null}}),
		object.union(base, {"counts": {"consecutiveFailures": []}}),
		object.union(base, {"now": "2026-11-18 10:00:00Z"}),
		object.remove(base, ["now"]),
	]
	every i in broken {
		d := decision_for(i)
		d.allow == false
		count([v | some v in d.violations; startswith(v, "invalid-input: ")]) == 1
	}
}
