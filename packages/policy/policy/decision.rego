# The remediation policy gate: one decision for one proposed action.
#
# Entry point (wasm and `opa eval`): data.cortexops.remediation.decision
#   input: the PolicyInput contract (packages/contracts/src/policy.ts)
#   data:  data.remediation_policy (policy/data.json), replaceable at run time
#   output: {allow, mode, requireApproval, reasons[], violations[]} (mode: see mode.rego)
#
# Every violation and reason starts with a stable code followed by ": " (see codes.rego), so
# callers can branch on the code and humans read the rest.
package cortexops.remediation

# Deny unless nothing is violated: no data, an unknown input shape or a rule that cannot be
# evaluated never allows anything.
default allow := false

allow if {
	count(violations) == 0
	config_present
}

default require_approval := false

require_approval if {
	allow
	count(reasons) > 0
}

decision := {
	"allow": allow,
	"mode": mode,
	"requireApproval": require_approval,
	"reasons": sort([r | some r in (reasons | mode_notes)]),
	"violations": sort([v | some v in violations]),
}

config := data.remediation_policy

config_present if is_object(config)

violations contains sprintf("%s: no policy data is loaded (data.remediation_policy is missing)", [codes.policy_data_missing]) if {
	not config_present
}
