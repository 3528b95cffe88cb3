package cortexops.remediation

# Kubernetes memory quantities in bytes, in pure Rego (units.parse_bytes is not in the wasm
# target). Accepts what the Action contract accepts: digits, an optional fraction and one of
# Ki Mi Gi Ti K M G T (or none, plain bytes).

quantity_multipliers := {
	"Ki": 1024,
	"Mi": 1048576,
	"Gi": 1073741824,
	"Ti": 1099511627776,
	"K": 1000,
	"M": 1000000,
	"G": 1000000000,
	"T": 1000000000000,
}

quantity_suffix(q) := s if {
	some s, _ in quantity_multipliers
	count(s) == 2
	endswith(q, s)
}

quantity_suffix(q) := s if {
	some s, _ in quantity_multipliers
	count(s) == 1
	endswith(q, s)
	not endswith(q, "i")
}

quantity_suffix(q) := "" if trim_right(q, decimal_digits) != q

# "0512" and "00.5" are valid quantities but not JSON numbers: drop leading zeros first.
decimal_value(n) := to_number(leading_zeros_dropped(n)) if not contains(n, ".")

decimal_value(n) := to_number(concat(".", [leading_zeros_dropped(parts[0]), parts[1]])) if {
	parts := split(n, ".")
	count(parts) == 2
}

leading_zeros_dropped(s) := "0" if trim_left(s, "0") == ""

leading_zeros_dropped(s) := trim_left(s, "0") if trim_left(s, "0") != ""

# digits, or digits "." digits (no regex: see time.rego).
decimal_shape(n) if all_digits(n)

decimal_shape(n) if {
	parts := split(n, ".")
	count(parts) == 2
	all_digits(parts[0])
	all_digits(parts[1])
}

memory_bytes(q) := bytes if {
	is_string(q)
	suffix := quantity_suffix(q)
	digits := substring(q, 0, count(q) - count(suffix))
	decimal_shape(digits)
	number := decimal_value(digits)
	multiplier := object.get(quantity_multipliers, suffix, 1)
	bytes := ceil(number * multiplier)
}
