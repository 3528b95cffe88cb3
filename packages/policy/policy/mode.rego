package cortexops.remediation

# Operating modes (remediation_policy.modes): how far CortexOps may go with an allowed action.
#   observe  plan and dry-run only: nothing is applied; allow and requireApproval still say what the
#            policy would have done, and a reason `observe-mode` says why nothing is.
#   approve  every allowed change waits for a human (reason `approve-mode`).
#   auto     the policy decides: applied when allowed and no reason asks for a human.
# Namespaces nobody enrolled (not in modes.namespaces) are in modes.default; cluster-scoped actions
# (nodes) in modes.clusterScoped. modes.killSwitch true puts every decision in observe at once, and
# so does policy data with any problem (fail closed).

mode_names := {"observe", "approve", "auto"}

# Where the action's mode is set: its namespace's entry, else the default for namespaces nobody
# enrolled; cluster-scoped actions have their own setting.
mode_setting := ["modes", "namespaces", action.namespace] if {
	config_present
	is_string(action.namespace)
	object.get(config, ["modes", "namespaces", action.namespace], null) != null
} else := ["modes", "default"] if {
	is_string(action.namespace)
} else := ["modes", "clusterScoped"]

mode_scope := sprintf("namespace %s", [action.namespace]) if {
	is_string(action.namespace)
} else := "cluster-scoped actions"

# The mode set for the action before the kill switch: what it would be with the switch off.
default configured_mode := "observe"

configured_mode := object.get(config, mode_setting, "observe") if config_present

# The decision's mode.
default mode := "observe"

mode := configured_mode if {
	config.modes.killSwitch == false
	count(derived.problems) == 0
	configured_mode in mode_names
}

reasons contains sprintf("%s: mode approve for %s (%s): every change waits for a human", [codes.approve_mode, mode_scope, concat(".", mode_setting)]) if {
	configured_mode == "approve"
}

# Not an approval reason (it never sets requireApproval): it says why nothing is applied.
mode_notes contains sprintf("%s: %s: nothing is applied; the decision records what would have been done", [codes.observe_mode, observe_cause]) if {
	mode == "observe"
}

observe_cause := "the kill switch is on (modes.killSwitch)" if {
	config.modes.killSwitch == true
} else := sprintf("mode observe for %s (%s)", [mode_scope, concat(".", mode_setting)]) if {
	config_present
	count(derived.problems) == 0
} else := "the policy data cannot be used"

# --- policy data shape ---

mode_at(doc, path) if object.get(doc, path, null) in mode_names

config_problems contains "modes.killSwitch must be a boolean" if {
	config_present
	not boolean_at(config, ["modes", "killSwitch"])
}

config_problems contains sprintf("modes.%s must be one of observe, approve, auto", [f]) if {
	config_present
	some f in ["default", "clusterScoped"]
	not mode_at(config, ["modes", f])
}

config_problems contains "modes.namespaces must be an object" if {
	config_present
	not object_at(config, ["modes", "namespaces"])
}

config_problems contains sprintf("modes.namespaces.%s must be one of observe, approve, auto", [namespace]) if {
	is_object(config.modes.namespaces)
	some namespace, m in config.modes.namespaces
	not m in mode_names
}
