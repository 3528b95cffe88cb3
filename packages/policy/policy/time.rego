package cortexops.remediation

# RFC 3339 timestamps in pure Rego: the wasm target has no time.* built-ins, and the same
# arithmetic runs in `opa eval`, so both answer the same. Accepts what the PolicyInput contract
# accepts (YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)); fractions of a second are dropped.
# time_test.rego checks these against time.parse_rfc3339_ns, time.weekday and time.clock.

decimal_digits := "0123456789"

# Non-empty and nothing but 0-9. (No regex: regex.match costs more in wasm than this whole parse.)
all_digits(s) if {
	s != ""
	trim(s, decimal_digits) == ""
}

# The zone designator: "Z" or "+HH:MM" / "-HH:MM".
zone_of(ts) := "Z" if endswith(ts, "Z")

zone_of(ts) := zone if {
	not endswith(ts, "Z")
	count(ts) >= 25
	zone := substring(ts, count(ts) - 6, 6)
	substring(zone, 0, 1) in {"+", "-"}
	substring(zone, 3, 1) == ":"
	all_digits(substring(zone, 1, 2))
	all_digits(substring(zone, 4, 2))
}

# Between the seconds and the zone: nothing, or "." and at least one digit.
valid_fraction("")

valid_fraction(f) if {
	startswith(f, ".")
	all_digits(substring(f, 1, -1))
}

# Unsigned decimal digits ("07" included, which to_number refuses).
digits_value(s) := 0 if trim_left(s, "0") == ""

digits_value(s) := to_number(t) if {
	t := trim_left(s, "0")
	t != ""
}

# A zone designator's offset east of UTC, in seconds.
zone_offset("Z") := 0

zone_offset(zone) := (sign * ((digits_value(substring(zone, 1, 2)) * 60) + digits_value(substring(zone, 4, 2)))) * 60 if {
	zone != "Z"
	sign := {"+": 1, "-": -1}[substring(zone, 0, 1)]
}

# A run of digits inside a timestamp, as a number; undefined when it is not all digits.
digits_field(ts, start, length) := digits_value(s) if {
	s := substring(ts, start, length)
	all_digits(s)
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

# Seconds since the Unix epoch of YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), the shape the
# PolicyInput contract accepts; undefined for anything else. Each step is a plain built-in call:
# this runs on every decision, and in wasm every call counts.
epoch_seconds(ts) := seconds if {
	is_string(ts)
	count(ts) >= 20
	substring(ts, 4, 1) == "-"
	substring(ts, 7, 1) == "-"
	substring(ts, 10, 1) == "T"
	substring(ts, 13, 1) == ":"
	substring(ts, 16, 1) == ":"
	zone := zone_of(ts)
	valid_fraction(substring(ts, 19, (count(ts) - 19) - count(zone)))
	y := digits_field(ts, 0, 4)
	m := digits_field(ts, 5, 2)
	d := digits_field(ts, 8, 2)
	h := digits_field(ts, 11, 2)
	mi := digits_field(ts, 14, 2)
	s := digits_field(ts, 17, 2)
	m >= 1
	m <= 12
	d >= 1
	d <= 31
	h <= 23
	mi <= 59
	s <= 59
	seconds := ((((days_from_civil(y, m, d) * 86400) + (h * 3600)) + (mi * 60)) + s) - zone_offset(zone)
}

# Monday = 0 ... Sunday = 6 (UTC); 1970-01-01 was a Thursday.
weekday_index(seconds) := (floor(seconds / 86400) + 3) % 7

weekday_names := ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

weekday_number := {name: i | some i, name in weekday_names}

# Minutes since Monday 00:00 UTC.
minute_of_week(seconds) := (weekday_index(seconds) * 1440) + floor((seconds % 86400) / 60)

# "HH:MM" on a named weekday, as minutes since Monday 00:00.
week_minute(point) := ((weekday_number[point.weekday] * 1440) + (h * 60)) + m if {
	is_string(point.time)
	count(point.time) == 5
	substring(point.time, 2, 1) == ":"
	all_digits(substring(point.time, 0, 2))
	all_digits(substring(point.time, 3, 2))
	h := digits_value(substring(point.time, 0, 2))
	m := digits_value(substring(point.time, 3, 2))
	h <= 23
	m <= 59
}
