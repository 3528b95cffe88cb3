package cortexops.remediation_test

import data.cortexops.remediation

test_codes_are_unique if {
	count({c | some c in remediation.codes}) == count(remediation.codes)
}

test_codes_prefix_violations_and_reasons if {
	d := decision_for(object.union(base, {"risk": "high", "dryRun": {"ok": false}}))
	every m in array.concat(d.violations, d.reasons) {
		split(m, ": ")[0] in {c | some c in remediation.codes}
	}
}
