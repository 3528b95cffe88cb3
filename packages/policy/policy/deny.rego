package cortexops.remediation

# Violations: any one of them denies the action.

action := input.action

# "Deployment shop/checkout", or "Node node-1" for cluster-scoped targets.
target := sprintf("%s %s/%s", [action.kind, action.namespace, action.name]) if is_string(action.namespace)

target := sprintf("%s %s", [action.kind, action.name]) if not action.namespace

now_seconds := epoch_seconds(input.now)

# A negated built-in call over an undefined reference is itself undefined in Rego (the reference is
# bound outside the negation), so each "is missing or mistyped" check negates a helper rule instead.

# --- input shape (the TypeScript side validates the contract first; this keeps the gate closed
# for any other caller, e.g. `opa eval` or a server, handed something else) ---

# The common case in one pass: a well-formed input skips the per-field checks below, which only
# run to name what is wrong.
input_well_formed if {
	is_string(input.incidentId)
	is_string(input.cluster)
	is_string(input.environment)
	is_string(input.risk)
	is_string(action.type)
	is_string(action.kind)
	is_string(action.name)
	is_boolean(input.dryRun.ok)
	is_number(input.counts.targetActionsLastHour)
	is_number(input.counts.clusterActionsLastHour)
	is_number(input.counts.consecutiveFailures)
	now_seconds
	action_fields_well_formed
}

action_fields_well_formed if not action.type in {"scale", "raise-memory-limit"}

action_fields_well_formed if {
	action.type == "scale"
	is_number(action.replicas)
}

action_fields_well_formed if {
	action.type == "raise-memory-limit"
	memory_bytes(action.memory)
}

input_problems contains "input must be an object" if {
	not input_well_formed
	not is_object(input)
}

input_problems contains sprintf("%s must be a string", [f]) if {
	not input_well_formed
	some f in ["cluster", "environment", "risk", "incidentId"]
	not string_at(input, [f])
}

input_problems contains sprintf("action.%s must be a string", [f]) if {
	not input_well_formed
	some f in ["type", "kind", "name"]
	not string_at(input, ["action", f])
}

input_problems contains "dryRun.ok must be a boolean" if {
	not input_well_formed
	not boolean_at(input, ["dryRun", "ok"])
}

input_problems contains sprintf("counts.%s must be a number", [f]) if {
	not input_well_formed
	some f in ["targetActionsLastHour", "clusterActionsLastHour", "consecutiveFailures"]
	not number_at(input, ["counts", f])
}

input_problems contains "now must be an RFC 3339 timestamp" if {
	not input_well_formed
	not now_seconds
}

input_problems contains "action.replicas must be a number" if {
	not input_well_formed
	action.type == "scale"
	not number_at(input, ["action", "replicas"])
}

input_problems contains "action.memory must be a Kubernetes memory quantity" if {
	not input_well_formed
	action.type == "raise-memory-limit"
	not quantity_at(input, ["action", "memory"])
}

string_at(doc, path) if is_string(object.get(doc, path, null))

boolean_at(doc, path) if is_boolean(object.get(doc, path, null))

number_at(doc, path) if is_number(object.get(doc, path, null))

array_at(doc, path) if is_array(object.get(doc, path, null))

object_at(doc, path) if is_object(object.get(doc, path, null))

quantity_at(doc, path) if memory_bytes(object.get(doc, path, null))

violations contains sprintf("%s: %s", [codes.invalid_input, p]) if some p in input_problems

# --- policy data shape: missing or mistyped settings deny instead of silently allowing ---

config_problems contains sprintf("%s must be a list", [f]) if {
	config_present
	some f in ["protectedNamespaces", "freezeWindows", "weeklyFreezes"]
	not array_at(config, [f])
}

config_problems contains sprintf("%s must be an object", [f]) if {
	config_present
	some f in ["actionsByEnvironment", "actionsByNamespace"]
	not object_at(config, [f])
}

config_problems contains sprintf("%s must be a number", [concat(".", p)]) if {
	config_present
	some p in [
		["bounds", "maxReplicas"],
		["rateLimits", "perTargetPerHour"],
		["rateLimits", "perClusterPerHour"],
		["circuitBreaker", "maxConsecutiveFailures"],
	]
	not number_at(config, p)
}

config_problems contains "bounds.maxMemory must be a Kubernetes memory quantity" if {
	config_present
	not quantity_at(config, ["bounds", "maxMemory"])
}

config_problems contains sprintf("approval.%s must be a list", [f]) if {
	config_present
	some f in ["riskLevels", "productionEnvironments", "productionAutoRiskLevels", "statefulKinds"]
	not array_at(config, ["approval", f])
}

config_problems contains sprintf("approval.databaseNames.%s must be a list", [f]) if {
	config_present
	some f in ["contains", "prefixes", "suffixes"]
	not array_at(config, ["approval", "databaseNames", f])
}

config_problems contains sprintf("freezeWindows[%d] needs a name and RFC 3339 start and end", [i]) if {
	some i, w in config.freezeWindows
	not valid_absolute_window(w)
}

config_problems contains sprintf("weeklyFreezes[%d] needs a name and from/to of {weekday, time HH:MM}", [i]) if {
	some i, w in config.weeklyFreezes
	not valid_weekly_window(w)
}

valid_absolute_window(w) if {
	is_string(w.name)
	epoch_seconds(w.start)
	epoch_seconds(w.end)
}

valid_weekly_window(w) if {
	is_string(w.name)
	week_minute(w.from)
	week_minute(w.to)
}

violations contains sprintf("%s: %s", [codes.policy_data_invalid, p]) if some p in derived.problems

# --- the rules ---

violations contains sprintf("%s: the server-side dry-run failed: %s", [codes.dry_run_failed, object.get(input.dryRun, "error", "no error given")]) if {
	input.dryRun.ok == false
}

violations contains sprintf("%s: namespace %s is protected", [codes.protected_namespace, action.namespace]) if {
	action.namespace in config.protectedNamespaces
}

violations contains sprintf("%s: %s is not allowed in environment %s", [codes.action_not_allowed, action.type, input.environment]) if {
	config_present
	is_string(action.type)
	not action.type in object.get(config, ["actionsByEnvironment", input.environment], object.get(config, ["actionsByEnvironment", "default"], []))
}

violations contains sprintf("%s: %s is not allowed in namespace %s", [codes.action_not_allowed, action.type, action.namespace]) if {
	allowed := config.actionsByNamespace[action.namespace]
	not action.type in allowed
}

violations contains sprintf("%s: %d replicas asked, at most %d allowed", [codes.replicas_above_maximum, action.replicas, config.bounds.maxReplicas]) if {
	action.type == "scale"
	number_at(input, ["action", "replicas"])
	action.replicas > config.bounds.maxReplicas
}

violations contains sprintf("%s: memory %s asked, at most %s allowed", [codes.memory_above_maximum, action.memory, config.bounds.maxMemory]) if {
	action.type == "raise-memory-limit"
	memory_bytes(action.memory) > derived.maxMemoryBytes
}

applies_here(w) if {
	environment_listed(w)
	cluster_listed(w)
}

environment_listed(w) if not w.environments

environment_listed(w) if input.environment in w.environments

cluster_listed(w) if not w.clusters

cluster_listed(w) if input.cluster in w.clusters

violations contains sprintf("%s: %s is in force from %s to %s", [codes.change_freeze, w.name, w.start, w.end]) if {
	some w in derived.freezeWindows
	now_seconds >= w.startSeconds
	now_seconds <= w.endSeconds
	applies_here(w)
}

violations contains sprintf("%s: %s is in force every week from %s %s to %s %s UTC", [codes.change_freeze, w.name, w.from.weekday, w.from.time, w.to.weekday, w.to.time]) if {
	some w in derived.weeklyFreezes
	within_week_window(minute_of_week(now_seconds), w.fromMinute, w.toMinute)
	applies_here(w)
}

# [from, to) on the weekly clock; a window may wrap over Sunday midnight.
within_week_window(m, from, to) if {
	from <= to
	m >= from
	m < to
}

within_week_window(m, from, to) if {
	from > to
	m >= from
}

within_week_window(m, from, to) if {
	from > to
	m < to
}

violations contains sprintf("%s: %d actions on this target in the last hour, at most %d allowed", [codes.rate_limit_target, input.counts.targetActionsLastHour, config.rateLimits.perTargetPerHour]) if {
	number_at(input, ["counts", "targetActionsLastHour"])
	input.counts.targetActionsLastHour >= config.rateLimits.perTargetPerHour
}

violations contains sprintf("%s: %d actions on cluster %s in the last hour, at most %d allowed", [codes.rate_limit_cluster, input.counts.clusterActionsLastHour, input.cluster, config.rateLimits.perClusterPerHour]) if {
	number_at(input, ["counts", "clusterActionsLastHour"])
	input.counts.clusterActionsLastHour >= config.rateLimits.perClusterPerHour
}

violations contains sprintf("%s: %d remediations failed in a row (limit %d); escalate to a human", [codes.circuit_open, input.counts.consecutiveFailures, config.circuitBreaker.maxConsecutiveFailures]) if {
	number_at(input, ["counts", "consecutiveFailures"])
	input.counts.consecutiveFailures >= config.circuitBreaker.maxConsecutiveFailures
}
