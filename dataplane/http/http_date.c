/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_date.c: HTTP-date parsing and formatting without libc time functions (hot path; see
 * http_date.h).
 */
#include "http_date.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "compiler.h"

#define SECONDS_PER_DAY 86400

static const char day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const day_names_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
					      "Thursday", "Friday", "Saturday"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int64_t http_date_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	int64_t era;
	unsigned year_of_era, day_of_year, day_of_era;

	year -= month <= 2;
	era = (year >= 0 ? year : year - 399) / 400;
	year_of_era = (unsigned)(year - era * 400);
	day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	return era * 146097 + (int64_t)day_of_era - 719468;
}

void http_date_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
	int64_t era;
	unsigned day_of_era, year_of_era, day_of_year, month_from_march;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	day_of_era = (unsigned)(days - era * 146097);
	year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	month_from_march = (5 * day_of_year + 2) / 153;
	*day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
	*month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
	*year = (int64_t)year_of_era + era * 400 + (*month <= 2);
}

static bool is_leap_year(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned days_in_month(int64_t year, unsigned month)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/* n decimal digits at p; -1 if any is not a digit. */
static int digits(const char *p, unsigned n)
{
	int value = 0;

	for (unsigned i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		value = value * 10 + (p[i] - '0');
	}
	return value;
}

static int month_lookup(const char *p)
{
	for (int i = 0; i < 12; i++)
		if (memcmp(p, month_names[i], 3) == 0)
			return i + 1;
	return -1;
}

static bool day_name_valid(const char *p)
{
	for (int i = 0; i < 7; i++)
		if (memcmp(p, day_names[i], 3) == 0)
			return true;
	return false;
}

/* "HH:MM:SS" */
static int time_of_day(const char *p)
{
	int hour = digits(p, 2), minute = digits(p + 3, 2), second = digits(p + 6, 2);

	if (p[2] != ':' || p[5] != ':' || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
	    second < 0 || second > 60)
		return -1;
	return hour * 3600 + minute * 60 + second;
}

static int date_combine(int64_t year, int month, int day, int seconds, time_t *out)
{
	if (year < 0 || month < 1 || day < 1 || (unsigned)day > days_in_month(year, (unsigned)month) ||
	    seconds < 0)
		return -EINVAL;
	*out = (time_t)(http_date_days_from_civil(year, (unsigned)month, (unsigned)day) * SECONDS_PER_DAY +
			seconds);
	return 0;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
static int parse_imf_fixdate(const char *t, size_t len, time_t *out)
{
	if (len != 29 || !day_name_valid(t) || memcmp(t + 3, ", ", 2) != 0 || t[7] != ' ' ||
	    t[11] != ' ' || t[16] != ' ' || memcmp(t + 25, " GMT", 4) != 0)
		return -EINVAL;
	return date_combine(digits(t + 12, 4), month_lookup(t + 8), digits(t + 5, 2),
			    time_of_day(t + 17), out);
}

/* asctime: "Sun Nov  6 08:49:37 1994" (day is SP DIGIT or 2DIGIT) */
static int parse_asctime(const char *t, size_t len, time_t *out)
{
	int day;

	if (len != 24 || !day_name_valid(t) || t[3] != ' ' || t[7] != ' ' || t[10] != ' ' ||
	    t[19] != ' ')
		return -EINVAL;
	day = t[8] == ' ' ? digits(t + 9, 1) : digits(t + 8, 2); /* date3: 2DIGIT / SP DIGIT */
	return date_combine(digits(t + 20, 4), month_lookup(t + 4), day, time_of_day(t + 11), out);
}

/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
static int parse_rfc850(const char *t, size_t len, time_t now, time_t *out)
{
	size_t name_len = 0;
	int64_t days_now, year_now, year;
	unsigned month_now, day_now;
	int two_digit_year;

	for (int i = 0; i < 7; i++) {
		size_t n = strlen(day_names_long[i]);

		if (len > n && memcmp(t, day_names_long[i], n) == 0) {
			name_len = n;
			break;
		}
	}
	if (!name_len || len != name_len + 24)
		return -EINVAL;
	t += name_len;
	if (memcmp(t, ", ", 2) != 0 || t[4] != '-' || t[8] != '-' || t[11] != ' ' ||
	    memcmp(t + 20, " GMT", 4) != 0)
		return -EINVAL;
	two_digit_year = digits(t + 9, 2);
	if (two_digit_year < 0)
		return -EINVAL;
	/* RFC 9110 §5.6.7: a year more than 50 years in the future is the most recent past year
	 * with the same last two digits. Years are compared, not instants. */
	days_now = (int64_t)now / SECONDS_PER_DAY - ((int64_t)now % SECONDS_PER_DAY < 0);
	http_date_civil_from_days(days_now, &year_now, &month_now, &day_now);
	year = year_now - (year_now % 100 + 100) % 100 + two_digit_year;
	if (year > year_now + 50)
		year -= 100;
	else if (year <= year_now - 50)
		year += 100;
	return date_combine(year, month_lookup(t + 5), digits(t + 2, 2), time_of_day(t + 12), out);
}

int http_date_parse(const char *text, size_t len, time_t now, time_t *out)
{
	if (len < 24)
		return -EINVAL;
	if (text[3] == ',')
		return parse_imf_fixdate(text, len, out);
	if (text[3] == ' ')
		return parse_asctime(text, len, out);
	return parse_rfc850(text, len, now, out);
}

static void put_two_digits(char *p, unsigned value)
{
	p[0] = (char)('0' + value / 10);
	p[1] = (char)('0' + value % 10);
}

int http_date_format(time_t t, char out[HTTP_DATE_SIZE])
{
	int64_t seconds = (int64_t)t;
	int64_t days = seconds / SECONDS_PER_DAY - (seconds % SECONDS_PER_DAY < 0);
	int64_t second_of_day = seconds - days * SECONDS_PER_DAY;
	int64_t year;
	unsigned month, day, weekday;

	/* Outside years 0..9999 the fixed-width year cannot be written. */
	if (days < http_date_days_from_civil(0, 1, 1) || days > http_date_days_from_civil(9999, 12, 31))
		return -ERANGE;
	http_date_civil_from_days(days, &year, &month, &day);
	weekday = (unsigned)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */

	memcpy(out, day_names[weekday], 3);
	memcpy(out + 3, ", ", 2);
	put_two_digits(out + 5, day);
	out[7] = ' ';
	memcpy(out + 8, month_names[month - 1], 3);
	out[11] = ' ';
	put_two_digits(out + 12, (unsigned)(year / 100));
	put_two_digits(out + 14, (unsigned)(year % 100));
	out[16] = ' ';
	put_two_digits(out + 17, (unsigned)(second_of_day / 3600));
	out[19] = ':';
	put_two_digits(out + 20, (unsigned)(second_of_day / 60 % 60));
	out[22] = ':';
	put_two_digits(out + 23, (unsigned)(second_of_day % 60));
	memcpy(out + 25, " GMT", 5); /* with the NUL */
	return HTTP_DATE_LEN;
}

void http_date_cache_init(struct http_date_cache *cache)
{
	cache->second = -1;
	memset(cache->text, 0, sizeof(cache->text));
}

void http_date_cache_update(struct http_date_cache *cache, time_t now)
{
	if (likely(now == cache->second))
		return;
	if (http_date_format(now, cache->text) < 0)
		return;
	cache->second = now;
}
