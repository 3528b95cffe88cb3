package cortexops.remediation_test

import data.cortexops.remediation

in_namespace(namespace) := with_action({"type": "scale", "kind": "Deployment", "namespace": namespace, "name": "checkout", "replicas": 4})

cordon := with_action({"type": "cordon-node", "kind": "Node", "name": "node-1"})

# The default data with these mode settings.
with_modes(modes) := object.union(data.remediation_policy, {"modes": modes})

modes(namespaces) := {"killSwitch": false, "default": "observe", "clusterScoped": "observe", "namespaces": namespaces}

decision_with(i, policy) := d if {
	d := remediation.decision with input as i with data.remediation_policy as policy
}

test_mode_auto_for_an_enrolled_namespace if {
	d := decision_for(in_namespace("demo"))
	d.mode == "auto"
	d.allow == true
	d.requireApproval == false
	d.reasons == []
}

test_mode_auto_keeps_approval_reasons if {
	d := decision_for(object.union(base, {"risk": "high"}))
	d.mode == "auto"
	d.requireApproval == true
	codes_of(d.reasons) == {"risk-requires-approval"}
}

test_mode_observe_for_a_namespace_nobody_enrolled if {
	d := decision_for(in_namespace("shop"))
	d.mode == "observe"
	d.allow == true
	d.requireApproval == false
	d.reasons == ["observe-mode: mode observe for namespace shop (modes.default): nothing is applied; the decision records what would have been done"]
}

test_mode_observe_records_what_would_have_been_done if {
	approval := decision_for(object.union(in_namespace("shop"), {"risk": "high"}))
	approval.mode == "observe"
	approval.allow == true
	approval.requireApproval == true
	codes_of(approval.reasons) == {"observe-mode", "risk-requires-approval"}

	denial := decision_for(object.union(in_namespace("shop"), {"dryRun": {"ok": false}}))
	denial.mode == "observe"
	denial.allow == false
	denial.requireApproval == false
	codes_of(denial.violations) == {"dry-run-failed"}
	codes_of(denial.reasons) == {"observe-mode"}
}

test_mode_observe_when_enrolled_as_observe if {
	d := decision_with(in_namespace("shop"), with_modes(modes({"shop": "observe"})))
	d.mode == "observe"
	d.reasons == ["observe-mode: mode observe for namespace shop (modes.namespaces.shop): nothing is applied; the decision records what would have been done"]
}

test_mode_approve_asks_a_human_for_every_allowed_change if {
	policy := with_modes(modes({"payments": "approve"}))
	d := decision_with(in_namespace("payments"), policy)
	d.mode == "approve"
	d.allow == true
	d.requireApproval == true
	d.reasons == ["approve-mode: mode approve for namespace payments (modes.namespaces.payments): every change waits for a human"]

	denied := decision_with(object.union(in_namespace("payments"), {"dryRun": {"ok": false}}), policy)
	denied.mode == "approve"
	denied.allow == false
	denied.requireApproval == false
}

test_mode_approve_as_the_default if {
	d := decision_with(in_namespace("shop"), with_modes(object.union(modes({}), {"default": "approve"})))
	d.mode == "approve"
	d.requireApproval == true
	codes_of(d.reasons) == {"approve-mode"}
	contains(d.reasons[0], "(modes.default)")
}

test_mode_cluster_scoped_actions_have_their_own_setting if {
	observe := decision_for(object.union(cordon, {"environment": "development"}))
	observe.mode == "observe"
	observe.allow == true
	observe.reasons == ["observe-mode: mode observe for cluster-scoped actions (modes.clusterScoped): nothing is applied; the decision records what would have been done"]

	# A namespace's entry never applies to a cluster-scoped action.
	auto := decision_with(object.union(cordon, {"environment": "development"}), with_modes(object.union(modes({"demo": "observe"}), {"clusterScoped": "auto"})))
	auto.mode == "auto"
	auto.reasons == []
}

test_kill_switch_puts_every_decision_in_observe if {
	policy := with_modes({"killSwitch": true, "default": "auto", "clusterScoped": "auto", "namespaces": {"demo": "auto", "payments": "approve"}})
	every i in [in_namespace("demo"), in_namespace("shop"), object.union(cordon, {"environment": "development"})] {
		d := decision_with(i, policy)
		d.mode == "observe"
		d.allow == true
		d.requireApproval == false
		d.reasons == ["observe-mode: the kill switch is on (modes.killSwitch): nothing is applied; the decision records what would have been done"]
	}
}

test_kill_switch_records_that_approve_mode_would_have_asked if {
	policy := with_modes({"killSwitch": true, "default": "observe", "clusterScoped": "observe", "namespaces": {"payments": "approve"}})
	d := decision_with(in_namespace("payments"), policy)
	d.mode == "observe"
	d.requireApproval == true
	codes_of(d.reasons) == {"approve-mode", "observe-mode"}
}

test_mode_data_missing_or_mistyped_denies_naming_the_setting if {
	every case in [
		[object.remove(data.remediation_policy, ["modes"]), [
			"policy-data-invalid: modes.clusterScoped must be one of observe, approve, auto",
			"policy-data-invalid: modes.default must be one of observe, approve, auto",
			"policy-data-invalid: modes.killSwitch must be a boolean",
			"policy-data-invalid: modes.namespaces must be an object",
		]],
		[with_modes(object.union(modes({}), {"killSwitch": "false"})), ["policy-data-invalid: modes.killSwitch must be a boolean"]],
		[with_modes(object.union(modes({}), {"default": "yolo"})), ["policy-data-invalid: modes.default must be one of observe, approve, auto"]],
		[with_modes(object.union(modes({}), {"clusterScoped": null})), ["policy-data-invalid: modes.clusterScoped must be one of observe, approve, auto"]],
		[with_modes(object.union(modes({}), {"namespaces": ["demo"]})), ["policy-data-invalid: modes.namespaces must be an object"]],
		[with_modes(modes({"demo": "Auto", "shop": true})), [
			"policy-data-invalid: modes.namespaces.demo must be one of observe, approve, auto",
			"policy-data-invalid: modes.namespaces.shop must be one of observe, approve, auto",
		]],
	] {
		[policy, violations] := case
		d := decision_with(base, policy)
		d.allow == false
		d.violations == violations
		d.mode == "observe"
		d.reasons == ["observe-mode: the policy data cannot be used: nothing is applied; the decision records what would have been done"]
	}
}

test_mode_observe_without_policy_data if {
	d := remediation.decision with input as base with data.remediation_policy as null
	d.mode == "observe"
	codes_of(d.reasons) == {"observe-mode"}
	contains(d.reasons[0], "the policy data cannot be used")
}

test_mode_observe_for_input_of_another_shape if {
	d := decision_for("scale everything")
	d.allow == false
	d.mode == "observe"
}
