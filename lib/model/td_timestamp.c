/*
 * td_timestamp.c — wall-clock timestamps: parsing
 * "YYYY-MM-DD HH:MM[:SS[.ffffff]]" (or with 'T') into microseconds since
 * 1970-01-01 00:00 in the proleptic Gregorian calendar, no time zone.
 */
#include <string.h>

#include "td_internal.h"

/* Floor division for b > 0 (C's / truncates toward zero). */
int64_t
td_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b) != 0 && (a < 0))
		q--;
	return q;
}

/* Days from 1970-01-01 to y-m-d (H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t	 era;
	unsigned yoe;
	unsigned doy;
	unsigned doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t) doe - 719468;
}

static bool
digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t	 i;

	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned) (s[i] - '0');
	}
	*out = v;
	return true;
}

bool
td_parse_timestamp(const char *text, size_t len, int64_t *micros)
{
	unsigned				   year;
	unsigned				   month;
	unsigned				   day;
	unsigned				   hour;
	unsigned				   minute;
	unsigned				   second = 0;
	unsigned				   frac = 0;
	unsigned				   mdays;
	size_t					   pos;
	static const unsigned char month_days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (text == NULL || micros == NULL || len < 16)
		return false;
	if (!digits(text, 4, &year) || text[4] != '-' ||
		!digits(text + 5, 2, &month) || text[7] != '-' ||
		!digits(text + 8, 2, &day) || (text[10] != ' ' && text[10] != 'T') ||
		!digits(text + 11, 2, &hour) || text[13] != ':' ||
		!digits(text + 14, 2, &minute))
		return false;
	pos = 16;
	if (pos < len)
	{
		if (text[pos] != ':' || len < pos + 3 || !digits(text + pos + 1, 2, &second))
			return false;
		pos += 3;
		if (pos < len)
		{
			size_t n = 0;

			if (text[pos] != '.')
				return false;
			pos++;
			while (pos < len && n < 6 && text[pos] >= '0' && text[pos] <= '9')
			{
				frac = frac * 10 + (unsigned) (text[pos] - '0');
				pos++;
				n++;
			}
			if (n == 0 || pos != len)
				return false;
			for (; n < 6; n++)
				frac *= 10;
		}
	}
	if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 ||
		minute > 59 || second > 59)
		return false;
	mdays = month_days[month - 1];
	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		mdays = 29;
	if (day > mdays)
		return false;
	*micros = ((days_from_civil(year, month, day) * 86400 +
				(int64_t) hour * 3600 + (int64_t) minute * 60 + second) *
			   1000000) +
			  (int64_t) frac;
	return true;
}
