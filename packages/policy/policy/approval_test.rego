package cortexops.remediation_test

import data.cortexops.remediation

reason_codes(i) := codes_of(d.reasons) if {
	d := remediation.decision with input as i
}

test_risk_levels_require_approval if {
	"risk-requires-approval" in reason_codes(object.union(base, {"risk": "high"}))
	"risk-requires-approval" in reason_codes(object.union(base, {"risk": "critical"}))
	not "risk-requires-approval" in reason_codes(object.union(base, {"risk": "medium"}))
}

test_production_above_low_risk_requires_approval if {
	d := decision_for(object.union(base, {"environment": "production", "risk": "medium"}))
	d.allow == true
	d.requireApproval == true
	codes_of(d.reasons) == {"production-requires-approval"}
	not "production-requires-approval" in reason_codes(object.union(base, {"environment": "production", "risk": "low"}))
	not "production-requires-approval" in reason_codes(object.union(base, {"risk": "medium"}))
}

test_stateful_workload_requires_approval if {
	d := decision_for(with_action({"type": "rollout-restart", "kind": "StatefulSet", "namespace": "demo", "name": "queue"}))
	d.requireApproval == true
	codes_of(d.reasons) == {"stateful-workload"}
	not "stateful-workload" in reason_codes(with_action({"type": "rollout-restart", "kind": "Deployment", "namespace": "demo", "name": "queue"}))
}

test_database_target_requires_approval if {
	"database-target" in reason_codes(with_action({"type": "delete-pod", "kind": "Pod", "namespace": "demo", "name": "orders-postgres-0"}))
	"database-target" in reason_codes(with_action({"type": "rollout-restart", "kind": "Deployment", "namespace": "demo", "name": "orders-db"}))
	"database-target" in reason_codes(with_action({"type": "delete-pod", "kind": "Pod", "namespace": "redis", "name": "cache-0"}))
	"database-target" in reason_codes(with_action({"type": "delete-pod", "kind": "Pod", "namespace": "demo", "name": "db-main-0"}))
	not "database-target" in reason_codes(with_action({"type": "delete-pod", "kind": "Pod", "namespace": "demo", "name": "dashboard-0"}))
}

test_scale_to_zero_requires_approval if {
	"scale-to-zero" in reason_codes(with_action({"type": "scale", "kind": "Deployment", "namespace": "demo", "name": "checkout", "replicas": 0}))
	not "scale-to-zero" in reason_codes(base)
}
