package cortexops.remediation_test

import data.cortexops.remediation

test_prepared_data_gives_the_same_decisions if {
	p := remediation.prepared
	every i in [base, production_at("2026-11-27T12:00:00Z"), production_at("2026-11-21T10:00:00Z"), raise("32Gi"), raise("1Gi")] {
		d := remediation.decision with input as i
		d == remediation.decision with input as i with data.remediation_prepared as p
	}
}

test_prepared_data_is_used_when_given if {
	p := object.union(remediation.prepared, {"problems": ["stale"]})
	d := remediation.decision with input as base with data.remediation_prepared as p
	d.violations == ["policy-data-invalid: stale"]
}

test_prepared_memory_bound_is_null_when_unusable if {
	p := remediation.prepared with data.remediation_policy.bounds.maxMemory as "lots"
	p.maxMemoryBytes == null
}
