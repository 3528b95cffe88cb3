package cortexops.remediation

# What follows from the data alone (its problems, freeze windows in seconds, the memory bound in
# bytes). `opa eval` and `opa run --server` compute it on every query. The TypeScript engine
# evaluates the `prepared` entrypoint once per data load and hands the answer back as
# data.remediation_prepared, so in-process decisions skip this work: the same rules, computed once.

derived := data.remediation_prepared if prepared_given

derived := prepared if not prepared_given

prepared_given if is_object(data.remediation_prepared)

prepared := {
	"problems": sort([p | some p in config_problems]),
	"maxMemoryBytes": max_memory_bytes,
	"freezeWindows": [object.union(w, {"startSeconds": epoch_seconds(w.start), "endSeconds": epoch_seconds(w.end)}) |
		some w in config.freezeWindows
		valid_absolute_window(w)
	],
	"weeklyFreezes": [object.union(w, {"fromMinute": week_minute(w.from), "toMinute": week_minute(w.to)}) |
		some w in config.weeklyFreezes
		valid_weekly_window(w)
	],
}

# null when unusable; config_problems then denies every action.
default max_memory_bytes := null

max_memory_bytes := memory_bytes(config.bounds.maxMemory)
