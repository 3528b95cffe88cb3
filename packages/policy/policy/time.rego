package cortexops.remediation

# RFC 3339 timestamps in pure Rego: the wasm target has no time.* built-ins, and the same
# arithmetic runs in `opa eval`, so both answer the same. Accepts what the PolicyInput contract
# accepts (YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)); fractions of a second are dropped.
# time_test.rego checks these against time.parse_rfc3339_ns, time.weekday and time.clock.

timestamp_pattern := `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`

# Unsigned decimal digits ("07" included, which to_number refuses).
digits_value(s) := 0 if trim_left(s, "0") == ""

digits_value(s) := to_number(t) if {
	t := trim_left(s, "0")
	t != ""
}

# Offset east of UTC in seconds.
offset_seconds(ts) := 0 if endswith(ts, "Z")

offset_seconds(ts) := (sign * ((digits_value(substring(o, 1, 2)) * 60) + digits_value(substring(o, 4, 2)))) * 60 if {
	not endswith(ts, "Z")
	o := substring(ts, count(ts) - 6, 6)
	sign := {"+": 1, "-": -1}[substring(o, 0, 1)]
}

# Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), year >= 1.
days_from_civil(y, m, d) := days if {
	yy := y - january_or_february(m)
	era := floor(yy / 400)
	yoe := yy - (era * 400)
	mp := (m + 9) % 12
	doy := (floor(((153 * mp) + 2) / 5) + d) - 1
	doe := (((yoe * 365) + floor(yoe / 4)) - floor(yoe / 100)) + doy
	days := ((era * 146097) + doe) - 719468
}

january_or_february(m) := 1 if m <= 2

january_or_february(m) := 0 if m > 2

# Seconds since the Unix epoch; undefined for anything that is not a timestamp.
epoch_seconds(ts) := seconds if {
	is_string(ts)
	regex.match(timestamp_pattern, ts)
	y := digits_value(substring(ts, 0, 4))
	m := digits_value(substring(ts, 5, 2))
	d := digits_value(substring(ts, 8, 2))
	h := digits_value(substring(ts, 11, 2))
	mi := digits_value(substring(ts, 14, 2))
	s := digits_value(substring(ts, 17, 2))
	m >= 1
	m <= 12
	d >= 1
	d <= 31
	h <= 23
	mi <= 59
	s <= 59
	seconds := ((((days_from_civil(y, m, d) * 86400) + (h * 3600)) + (mi * 60)) + s) - offset_seconds(ts)
}

# Monday = 0 ... Sunday = 6 (UTC); 1970-01-01 was a Thursday.
weekday_index(seconds) := (floor(seconds / 86400) + 3) % 7

weekday_names := ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

weekday_number := {name: i | some i, name in weekday_names}

# Minutes since Monday 00:00 UTC.
minute_of_week(seconds) := (weekday_index(seconds) * 1440) + floor((seconds % 86400) / 60)

# "HH:MM" on a named weekday, as minutes since Monday 00:00.
week_minute(point) := ((weekday_number[point.weekday] * 1440) + (digits_value(substring(point.time, 0, 2)) * 60)) + digits_value(substring(point.time, 3, 2)) if {
	regex.match(`^([01][0-9]|2[0-3]):[0-5][0-9]$`, point.time)
}
