package cortexops.remediation_test

import data.cortexops.remediation

# A Wednesday morning in staging, in the demo namespace (enrolled in auto mode), nothing unusual:
# allowed without approval.
base := {
	"incidentId": "inc-1",
	"cluster": "local",
	"environment": "staging",
	"action": {"type": "scale", "kind": "Deployment", "namespace": "demo", "name": "checkout", "replicas": 4},
	"risk": "low",
	"dryRun": {"ok": true},
	"counts": {"targetActionsLastHour": 0, "clusterActionsLastHour": 0, "consecutiveFailures": 0},
	"now": "2026-11-18T10:00:00Z",
}

# object.union merges nested objects: drop the base action first.
with_action(fields) := object.union(object.remove(base, ["action"]), {"action": fields})

codes_of(messages) := {c | some m in messages; c := split(m, ": ")[0]}

# The tests' data: the default data (which enrols no namespace) with the demo namespace enrolled as auto.
modes_in_tests := object.union(data.remediation_policy.modes, {"namespaces": {"demo": "auto"}})

decision_for(i) := d if {
	d := remediation.decision with input as i with data.remediation_policy.modes as modes_in_tests
}

test_default_data_enrols_no_namespace if {
	data.remediation_policy.modes.namespaces == {}
	d := remediation.decision with input as base
	d.mode == "observe"
}

test_decision_allows_a_plain_action_without_approval if {
	decision_for(base) == {"allow": true, "mode": "auto", "requireApproval": false, "reasons": [], "violations": []}
}

test_decision_denies_without_policy_data if {
	d := remediation.decision with input as base with data.remediation_policy as null
	d.allow == false
	codes_of(d.violations) == {"policy-data-missing"}
}

test_decision_denial_never_asks_for_approval if {
	d := decision_for(object.union(base, {"risk": "critical", "dryRun": {"ok": false}}))
	d.allow == false
	d.requireApproval == false
	codes_of(d.reasons) == {"risk-requires-approval"}
}

test_decision_lists_are_sorted if {
	d := decision_for(object.union(base, {"environment": "production", "risk": "high", "counts": {"targetActionsLastHour": 9, "clusterActionsLastHour": 99, "consecutiveFailures": 9}}))
	d.violations == sort(d.violations)
	d.reasons == sort(d.reasons)
	count(d.violations) == 3
	count(d.reasons) == 2
}

test_target_names_namespaced_and_cluster_scoped_objects if {
	remediation.target == "Deployment demo/checkout" with input as base
	remediation.target == "Node node-1" with input as with_action({"type": "cordon-node", "kind": "Node", "name": "node-1"})
}
