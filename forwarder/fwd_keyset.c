/*
 * fwd_keyset.c — a set of partition keys, for the pipeline's ordering rule
 * (no two unsettled records of one key in flight at once).
 *
 * Open addressing with linear probing over borrowed strings: the keys
 * belong to the events, which outlive one dispatch pass, the set's only
 * user.  Cleared, not freed, between passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

/* FNV-1a: short keys, no adversary that gains from collisions here. */
static size_t
hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key; key++)
		h = (h ^ (unsigned char) *key) * 1099511628211ULL;
	return (size_t) h;
}

void
fwd_keyset_clear(FwdKeyset *k)
{
	if (k->n > 0)
		memset(k->slots, 0, k->cap * sizeof(*k->slots));
	k->n = 0;
}

void
fwd_keyset_free(FwdKeyset *k)
{
	free(k->slots);
	memset(k, 0, sizeof(*k));
}

static size_t
find(const FwdKeyset *k, const char *key)
{
	size_t i = hash(key) & (k->cap - 1);

	while (k->slots[i] != NULL && strcmp(k->slots[i], key) != 0)
		i = (i + 1) & (k->cap - 1);
	return i;
}

bool
fwd_keyset_has(const FwdKeyset *k, const char *key)
{
	return k->cap > 0 && k->slots[find(k, key)] != NULL;
}

/* Keep the load under one half: double and rehash. */
static void
grow(FwdKeyset *k)
{
	FwdKeyset bigger;
	size_t	  i;

	bigger.cap = k->cap ? k->cap * 2 : 1024;
	bigger.n = 0;
	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (bigger.slots == NULL)
	{
		fwd_log("out of memory");
		exit(1);
	}
	for (i = 0; i < k->cap; i++)
		if (k->slots[i] != NULL)
		{
			bigger.slots[find(&bigger, k->slots[i])] = k->slots[i];
			bigger.n++;
		}
	free(k->slots);
	*k = bigger;
}

bool
fwd_keyset_add(FwdKeyset *k, const char *key)
{
	size_t i;

	if ((k->n + 1) * 2 > k->cap)
		grow(k);
	i = find(k, key);
	if (k->slots[i] != NULL)
		return false;
	k->slots[i] = key;
	k->n++;
	return true;
}
