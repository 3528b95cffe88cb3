package cortexops.remediation

# Reasons: each one makes an allowed action wait for a human approval.

reasons contains sprintf("%s: risk %s needs a human approval", [codes.risk_requires_approval, input.risk]) if {
	input.risk in config.approval.riskLevels
}

reasons contains sprintf("%s: risk %s in %s is above the automatic level", [codes.production_requires_approval, input.risk, input.environment]) if {
	input.environment in config.approval.productionEnvironments
	not input.risk in config.approval.productionAutoRiskLevels
}

reasons contains sprintf("%s: %s of %s restarts or removes stateful pods", [codes.stateful_workload, action.type, target]) if {
	action.kind in config.approval.statefulKinds
}

reasons contains sprintf("%s: %s looks like a database", [codes.database_target, target]) if {
	some name in [object.get(action, "name", ""), object.get(action, "namespace", "")]
	database_name(name)
}

# Plain string tests, not glob.match: a glob is compiled on every call in wasm (~10 µs each).
database_name(name) if {
	some fragment in config.approval.databaseNames.contains
	contains(name, fragment)
}

database_name(name) if {
	some prefix in config.approval.databaseNames.prefixes
	startswith(name, prefix)
}

database_name(name) if {
	some suffix in config.approval.databaseNames.suffixes
	endswith(name, suffix)
}

reasons contains sprintf("%s: scaling %s to 0 replicas stops it", [codes.scale_to_zero, target]) if {
	action.type == "scale"
	action.replicas == 0
}
