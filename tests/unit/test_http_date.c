/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_http_date.c: HTTP-date parsing and formatting (dataplane/http/http_date.c).
 *
 * A table of texts in the three forms (and broken ones) with the instant each must give,
 * checked on guard-page buffers at every truncation point; a table of instants with the text
 * each must format to; a round trip of format and parse over the whole supported range,
 * checked against the C library's gmtime_r + strftime (allowed here: this is a test); the
 * calendar arithmetic around leap years; and the per-lcore Date cache.
 */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"
#include "http_date.h"
#include "test_guard.h"
#include "test_main.h"

#define NOW_2024 1709208000 /* 2024-02-29 12:00:00 */
#define INVALID INT64_MIN

struct date_case {
	const char *description;
	const char *text;
	time_t now;
	int64_t expected; /* INVALID: -EINVAL */
};

static const struct date_case date_cases[] = {
	/* The RFC 9110 §5.6.7 examples: one instant, three forms. */
	{"IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", NOW_2024, 784111777},
	{"RFC 850", "Sunday, 06-Nov-94 08:49:37 GMT", NOW_2024, 784111777},
	{"asctime", "Sun Nov  6 08:49:37 1994", NOW_2024, 784111777},
	{"asctime with a two-digit day", "Sun Nov 06 08:49:37 1994", NOW_2024, 784111777},
	{"asctime two-digit day", "Wed Feb 28 23:59:59 2024", NOW_2024, 1709164799},
	{"the epoch", "Thu, 01 Jan 1970 00:00:00 GMT", NOW_2024, 0},
	{"before the epoch", "Wed, 31 Dec 1969 23:59:59 GMT", NOW_2024, -1},
	{"leap day", "Thu, 29 Feb 2024 12:00:00 GMT", NOW_2024, 1709208000},
	{"leap day of a 400 year", "Tue, 29 Feb 2000 00:00:00 GMT", NOW_2024, 951782400},
	{"after 2038", "Tue, 19 Jan 2038 03:14:08 GMT", NOW_2024, 2147483648LL},
	{"last second of 9999", "Fri, 31 Dec 9999 23:59:59 GMT", NOW_2024, 253402300799LL},
	{"leap second counts as the next 00", "Sat, 31 Dec 2016 23:59:60 GMT", NOW_2024, 1483228800},
	{"weekday not checked against date", "Mon, 06 Nov 1994 08:49:37 GMT", NOW_2024, 784111777},
	{"RFC 850 year 46 years ahead stays ahead", "Wednesday, 01-Jan-70 00:00:00 GMT", NOW_2024, 3155760000LL},
	{"RFC 850 year 56 years ahead is in the past", "Tuesday, 01-Jan-80 00:00:00 GMT", NOW_2024, 315532800},
	{"RFC 850 next century", "Friday, 04-Mar-01 05:06:07 GMT", 4085251200LL /* 2099-06-16 */, 4139355967LL},

	{"1900 is not a leap year", "Thu, 29 Feb 1900 00:00:00 GMT", NOW_2024, INVALID},
	{"2023 is not a leap year", "Wed, 29 Feb 2023 00:00:00 GMT", NOW_2024, INVALID},
	{"April has 30 days", "Mon, 31 Apr 2023 00:00:00 GMT", NOW_2024, INVALID},
	{"day zero", "Mon, 00 Jan 2024 00:00:00 GMT", NOW_2024, INVALID},
	{"hour 24", "Sun, 06 Nov 1994 24:00:00 GMT", NOW_2024, INVALID},
	{"minute 60", "Sun, 06 Nov 1994 08:60:00 GMT", NOW_2024, INVALID},
	{"second 61", "Sun, 06 Nov 1994 08:49:61 GMT", NOW_2024, INVALID},
	{"lowercase zone", "Sun, 06 Nov 1994 08:49:37 gmt", NOW_2024, INVALID},
	{"other zone", "Sun, 06 Nov 1994 08:49:37 UTC", NOW_2024, INVALID},
	{"numeric zone", "Sun, 06 Nov 1994 08:49:37 +0000", NOW_2024, INVALID},
	{"lowercase day", "sun, 06 Nov 1994 08:49:37 GMT", NOW_2024, INVALID},
	{"lowercase month", "Sun, 06 nov 1994 08:49:37 GMT", NOW_2024, INVALID},
	{"unknown day", "Sux, 06 Nov 1994 08:49:37 GMT", NOW_2024, INVALID},
	{"unknown month", "Sun, 06 Nox 1994 08:49:37 GMT", NOW_2024, INVALID},
	{"one-digit day", "Sun, 6 Nov 1994 08:49:37 GMT", NOW_2024, INVALID},
	{"two-digit year in IMF", "Sun, 06 Nov 94 08:49:37 GMT", NOW_2024, INVALID},
	{"trailing space", "Sun, 06 Nov 1994 08:49:37 GMT ", NOW_2024, INVALID},
	{"missing comma", "Sun 06 Nov 1994 08:49:37 GMT", NOW_2024, INVALID},
	{"time separators", "Sun, 06 Nov 1994 08.49.37 GMT", NOW_2024, INVALID},
	{"letters in the year", "Sun, 06 Nov 19x4 08:49:37 GMT", NOW_2024, INVALID},
	{"RFC 850 short day name", "Sun, 06-Nov-94 08:49:37 GMT", NOW_2024, INVALID},
	{"RFC 850 four-digit year", "Sunday, 06-Nov-1994 08:49:37 GMT", NOW_2024, INVALID},
	{"RFC 850 wrong separators", "Sunday, 06 Nov 94 08:49:37 GMT", NOW_2024, INVALID},
	{"asctime with zone", "Sun Nov  6 08:49:37 1994 GMT", NOW_2024, INVALID},
	{"asctime bad day padding", "Sun Nov 6  08:49:37 1994", NOW_2024, INVALID},
	{"empty", "", NOW_2024, INVALID},
	{"garbage", "yesterday, around noon", NOW_2024, INVALID},
};

static void check_parse(const struct date_case *c, const char *text, size_t len, const char *how)
{
	time_t parsed = 12345;
	int rc = http_date_parse(text, len, c->now, &parsed);

	if (c->expected == INVALID)
		TEST_CHECK(rc == -EINVAL, "%s (%s): '%s' parsed (%d, %lld)", c->description, how, c->text,
			   rc, (long long)parsed);
	else
		TEST_CHECK(rc == 0 && parsed == c->expected, "%s (%s): '%s' gave %d, %lld, expected %lld",
			   c->description, how, c->text, rc, (long long)parsed, (long long)c->expected);
}

static void test_date_parse_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(date_cases); i++) {
		const struct date_case *c = &date_cases[i];
		size_t len = strlen(c->text);
		struct guard_buffer guard;

		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->text, len), 0);
		check_parse(c, guard.data, len, "guard page");
		guard_buffer_release(&guard);

		/* No truncation of a valid date is valid (all forms are fixed-width); no truncation
		 * of any text reads beyond its end. (A prefix of an invalid text may be valid:
		 * "... GMT " without its trailing space.) */
		for (size_t n = 0; n < len; n++) {
			time_t parsed;
			int rc;

			CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->text, n), 0);
			rc = http_date_parse(guard.data, n, c->now, &parsed);
			if (c->expected != INVALID)
				TEST_CHECK(rc == -EINVAL, "%s: prefix of %zu bytes parsed", c->description, n);
			guard_buffer_release(&guard);
		}
	}
}

struct format_case {
	int64_t t;
	const char *text; /* NULL: -ERANGE */
};

static const struct format_case format_cases[] = {
	{0, "Thu, 01 Jan 1970 00:00:00 GMT"},
	{784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
	{-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
	{951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
	{1709208000, "Thu, 29 Feb 2024 12:00:00 GMT"},
	{2147483648LL, "Tue, 19 Jan 2038 03:14:08 GMT"},
	{253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT"},
	{-62167219200LL, "Sat, 01 Jan 0000 00:00:00 GMT"},
	{253402300800LL, NULL},
	{-62167219201LL, NULL},
};

static void test_date_format_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_cases); i++) {
		const struct format_case *c = &format_cases[i];
		char out[HTTP_DATE_SIZE];
		int rc = http_date_format((time_t)c->t, out);

		if (c->text)
			TEST_CHECK(rc == HTTP_DATE_LEN && strcmp(out, c->text) == 0,
				   "%lld formatted as %d '%s', expected '%s'", (long long)c->t, rc,
				   rc > 0 ? out : "", c->text);
		else
			TEST_CHECK(rc == -ERANGE, "%lld: expected -ERANGE, got %d", (long long)c->t, rc);
	}
}

/* Format, parse back, and compare with gmtime_r + strftime ("C" locale) across years
 * 1000..9999, with a multiplicative step so that every month, weekday and time of day shows
 * up. */
static void test_date_round_trip(void)
{
	const int64_t first = -30610224000LL;  /* 1000-01-01 */
	const int64_t last = 253402300799LL;   /* 9999-12-31 23:59:59 */
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	unsigned mismatches = 0;

	setlocale(LC_TIME, "C");
	for (int i = 0; i < 200000; i++) {
		int64_t t;
		char ours[HTTP_DATE_SIZE], theirs[64];
		struct tm tm;
		time_t back;

		state = state * 6364136223846793005ULL + 1442695040888963407ULL;
		t = first + (int64_t)((state >> 11) % (uint64_t)(last - first + 1));
		if (i < 1000) /* and densely around the epoch and leap days */
			t = -500000 + (int64_t)i * 997;
		if (http_date_format((time_t)t, ours) != HTTP_DATE_LEN) {
			mismatches++;
			continue;
		}
		gmtime_r(&(time_t){(time_t)t}, &tm);
		strftime(theirs, sizeof(theirs), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (strcmp(ours, theirs) != 0 || http_date_parse(ours, HTTP_DATE_LEN, NOW_2024, &back) != 0 ||
		    back != (time_t)t) {
			if (mismatches++ < 5)
				TEST_CHECK(0, "%lld: ours '%s', libc '%s'", (long long)t, ours, theirs);
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_date_calendar(void)
{
	static const struct {
		int64_t year;
		int64_t days_in_year;
	} years[] = {{1900, 365}, {1970, 365}, {2000, 366}, {2023, 365}, {2024, 366}, {2100, 365}, {2400, 366}};

	for (size_t i = 0; i < ARRAY_SIZE(years); i++) {
		int64_t days = http_date_days_from_civil(years[i].year + 1, 1, 1) -
			       http_date_days_from_civil(years[i].year, 1, 1);

		TEST_CHECK(days == years[i].days_in_year, "%lld has %lld days, expected %lld",
			   (long long)years[i].year, (long long)days, (long long)years[i].days_in_year);
	}
	CU_ASSERT_EQUAL(http_date_days_from_civil(1970, 1, 1), 0);
	CU_ASSERT_EQUAL(http_date_days_from_civil(1969, 12, 31), -1);
	for (int64_t d = -800000; d < 3000000; d += 7) {
		int64_t year;
		unsigned month, day;

		http_date_civil_from_days(d, &year, &month, &day);
		if (http_date_days_from_civil(year, month, day) != d) {
			TEST_CHECK(0, "day %lld does not round-trip", (long long)d);
			break;
		}
	}
}

static void test_date_cache(void)
{
	struct http_date_cache cache;

	http_date_cache_init(&cache);
	CU_ASSERT_EQUAL(cache.second, -1);
	http_date_cache_update(&cache, 784111777);
	CU_ASSERT_STRING_EQUAL(cache.text, "Sun, 06 Nov 1994 08:49:37 GMT");
	http_date_cache_update(&cache, 784111777);
	CU_ASSERT_STRING_EQUAL(cache.text, "Sun, 06 Nov 1994 08:49:37 GMT");
	http_date_cache_update(&cache, 784111778);
	CU_ASSERT_STRING_EQUAL(cache.text, "Sun, 06 Nov 1994 08:49:38 GMT");
	CU_ASSERT_EQUAL(cache.second, 784111778);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"parse table, truncations, guard page", test_date_parse_table},
		{"format table", test_date_format_table},
		{"round trip against gmtime_r", test_date_round_trip},
		{"calendar arithmetic", test_date_calendar},
		{"Date cache", test_date_cache},
		{NULL, NULL},
	};
	test_add_suite("http_date", cases);
}
