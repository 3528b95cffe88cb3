package cortexops.remediation_test

import data.cortexops.remediation

test_memory_bytes_matches_units_parse_bytes if {
	every q in ["512Mi", "1Gi", "1.5Gi", "0512Mi", "00.5Gi", "2Ti", "100Ki", "1G", "250M", "3K", "1T", "1048576", "0"] {
		remediation.memory_bytes(q) == units.parse_bytes(q)
	}
}

test_memory_bytes_undefined_for_non_quantities if {
	every bad in ["", "Mi", "1.Gi", "-1Gi", "1Gb", "1 Gi", "1e3", 512, null] {
		not remediation.memory_bytes(bad)
	}
}
