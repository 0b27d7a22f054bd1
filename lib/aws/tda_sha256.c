/*
 * tda_sha256.c — the lower-case hex sha256 of a body, with OpenSSL's EVP
 * interface (libcrypto only), and the check that a string is one.
 */
#include <string.h>

#include <openssl/evp.h>

#include "tda_internal.h"

void
tda_sha256_hex(const void *data, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char	  md[EVP_MAX_MD_SIZE];
	unsigned int	  md_len = 0;
	unsigned int	  i;

	/* One-shot digest; fails only when libcrypto itself cannot allocate. */
	if (EVP_Digest(data == NULL ? "" : data, len, md, &md_len, EVP_sha256(),
				   NULL) != 1 ||
		md_len != 32)
	{
		memset(hex, '0', 64);
		hex[64] = '\0';
		return;
	}
	for (i = 0; i < md_len; i++)
	{
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex[64] = '\0';
}

/* True when s is exactly 64 hex digits (either case). */
bool
tda_is_sha256_hex(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < 64; i++)
	{
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			  (c >= 'A' && c <= 'F')))
			return false;
	}
	return s[64] == '\0';
}
