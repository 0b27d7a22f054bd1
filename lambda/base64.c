/*
 * base64.c — strict base64 decoding of Kinesis record data.
 *
 * RFC 4648 alphabet, length a multiple of four, '=' padding only at the
 * end; anything else (whitespace, URL-safe letters, stray '=') is
 * rejected so that a damaged record is reported instead of half-decoded.
 */
#include <stdlib.h>
#include <time.h>

#include "lambda.h"

static int
sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool
lambda_base64_decode(const char *in, size_t len, char **out, size_t *outlen)
{
	size_t pad = 0;
	size_t i;
	size_t o = 0;
	char  *buf;

	*out = NULL;
	*outlen = 0;
	if (len % 4 != 0)
		return false;
	if (len > 0 && in[len - 1] == '=')
		pad++;
	if (len > 1 && in[len - 2] == '=')
		pad++;
	buf = malloc(len / 4 * 3 + 1);
	if (buf == NULL)
		return false;
	for (i = 0; i < len; i += 4)
	{
		int	 v[4];
		int	 k;
		bool last = (i + 4 == len);

		for (k = 0; k < 4; k++)
		{
			if (last && in[i + k] == '=' && k >= 4 - (int) pad)
				v[k] = 0;
			else if ((v[k] = sextet((unsigned char) in[i + k])) < 0)
			{
				free(buf);
				return false;
			}
		}
		buf[o++] = (char) ((v[0] << 2) | (v[1] >> 4));
		if (!(last && pad == 2))
			buf[o++] = (char) (((v[1] & 0x0f) << 4) | (v[2] >> 2));
		if (!(last && pad >= 1))
			buf[o++] = (char) (((v[2] & 0x03) << 6) | v[3]);
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return true;
}

double
lambda_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}
