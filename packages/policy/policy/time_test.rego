package cortexops.remediation_test

import data.cortexops.remediation

# The pure-Rego time arithmetic against OPA's own (Go) time built-ins.
timestamps := [
	"1970-01-01T00:00:00Z",
	"2000-02-29T23:59:59Z",
	"2024-02-29T12:00:00Z",
	"2026-01-01T00:00:00+14:00",
	"2026-03-01T00:30:00-02:30",
	"2026-11-22T21:05:59.999999999+01:00",
	"2100-03-01T00:00:00Z",
	"1999-12-31T23:59:59-12:00",
]

test_epoch_seconds_matches_time_parse_rfc3339_ns if {
	every ts in timestamps {
		remediation.epoch_seconds(ts) == floor(time.parse_rfc3339_ns(ts) / 1000000000)
	}
}

test_weekday_matches_time_weekday if {
	every ts in timestamps {
		ns := time.parse_rfc3339_ns(ts)
		remediation.weekday_names[remediation.weekday_index(remediation.epoch_seconds(ts))] == time.weekday(ns)
	}
}

test_minute_of_week_matches_time_clock if {
	every ts in timestamps {
		s := remediation.epoch_seconds(ts)
		[h, m, _] := time.clock([s * 1000000000, "UTC"])
		remediation.minute_of_week(s) == ((remediation.weekday_index(s) * 1440) + (h * 60)) + m
	}
}

test_epoch_seconds_undefined_for_non_timestamps if {
	every bad in ["", "2026-01-02", "2026-01-02T03:04Z", "2026-13-01T00:00:00Z", "2026-01-02T24:00:00Z", "2026-12-31T23:59:60Z", "2026-01-02T03:04:05+0200", "2026-01-02T03:04:05.Z", "2026-01-02T03:04:05.5x+02:00", "2026-01-02T03:04:05*02:00", "2026-01-02T03:04:05+02-00", "2026/01/02T03:04:05Z", "2026-01-02T03:04:5xZ", 1700000000, null] {
		not remediation.epoch_seconds(bad)
	}
}

test_digits_value_reads_leading_zeros if {
	remediation.digits_value("07") == 7
	remediation.digits_value("00") == 0
	remediation.digits_value("2026") == 2026
}

test_week_minute if {
	remediation.week_minute({"weekday": "Monday", "time": "00:00"}) == 0
	remediation.week_minute({"weekday": "Friday", "time": "18:30"}) == ((4 * 1440) + (18 * 60)) + 30
	not remediation.week_minute({"weekday": "Friday", "time": "24:00"})
	not remediation.week_minute({"weekday": "Caturday", "time": "10:00"})
}

test_within_week_window_plain_and_wrapping if {
	remediation.within_week_window(10, 5, 20)
	not remediation.within_week_window(20, 5, 20)
	not remediation.within_week_window(4, 5, 20)
	remediation.within_week_window(9000, 8000, 100)
	remediation.within_week_window(50, 8000, 100)
	not remediation.within_week_window(500, 8000, 100)
}
