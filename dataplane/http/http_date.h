/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_date.h: HTTP-date (RFC 9110 §5.6.7) parsing and formatting (hot path).
 *
 * Parses the three forms a recipient must accept: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37
 * GMT"), the obsolete RFC 850 form ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov
 *  6 08:49:37 1994"), and formats IMF-fixdate, the only form a sender may generate.
 *
 * Built without the C library's time functions: mktime and strftime consult the time zone
 * and the locale (and may read /etc/localtime), timegm is not standard, and the data plane
 * makes no system calls. The calendar arithmetic is Howard Hinnant's days_from_civil /
 * civil_from_days, exact for the proleptic Gregorian calendar over all of time_t.
 *
 * Strictness (RFC 9110: HTTP-date is case-sensitive): names of days and months must be
 * spelled exactly, the zone must be "GMT", fields are fixed-width, day and time are range
 * checked (second 60 is accepted for a leap second and counts as the next minute's 00, as
 * POSIX time does). The day name must be a valid name but is not checked against the date
 * (no RFC requirement, and a mismatch says nothing about the instant meant). RFC 850 two-digit
 * years are placed within 50 years of `now` as RFC 9110 §5.6.7 requires, which is why the
 * parser takes the current time.
 *
 * A per-lcore struct http_date_cache holds the Date text of the current second: the loop
 * calls http_date_cache_update() with the time it already has, which formats at most once a
 * second.
 */
#ifndef SLUICE_HTTP_DATE_H
#define SLUICE_HTTP_DATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HTTP_DATE_LEN 29                   /* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define HTTP_DATE_SIZE (HTTP_DATE_LEN + 1) /* with the terminating NUL */

/* Seconds since the epoch of text[0..len), or -EINVAL if it is not an HTTP-date. now (seconds
 * since the epoch) only places RFC 850 two-digit years. */
int http_date_parse(const char *text, size_t len, time_t now, time_t *out);

/* Writes the IMF-fixdate of t and a NUL into out; returns HTTP_DATE_LEN, or -ERANGE when the
 * year is outside 0..9999. */
int http_date_format(time_t t, char out[HTTP_DATE_SIZE]);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31), and back. */
int64_t http_date_days_from_civil(int64_t year, unsigned month, unsigned day);
void http_date_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

struct http_date_cache {
	time_t second;              /* the second text describes; -1 before the first update */
	char text[HTTP_DATE_SIZE];
};

void http_date_cache_init(struct http_date_cache *cache);
/* Refreshes text when now is another second than the last update. */
void http_date_cache_update(struct http_date_cache *cache, time_t now);

#endif /* SLUICE_HTTP_DATE_H */
