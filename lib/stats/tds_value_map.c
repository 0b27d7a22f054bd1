/*
 * tds_value_map.c — exact per-column value counts (see tds_value_map.h).
 *
 * Open addressing with linear probing over parallel arrays: a number map
 * keeps its keys as doubles, a text map keeps a 64-bit hash per slot and
 * the key bytes in an arena of chunks.  An empty slot is one whose count
 * pair is (0, 0) — every stored key has been counted at least once.  The
 * table doubles when 5/8 full.  All memory comes from the common library's allocation hooks
 * (in PostgreSQL: palloc in the aggregate's context).
 *
 * A number map also has a second form, a sorted run: its arrays hold the
 * keys in ascending order, exactly `used` long, with no hashing.  A
 * parallel worker serializes its map sorted (the sort runs in the worker),
 * the leader decodes each worker's run as it is and merges runs linearly,
 * and the final function reads the merged run without sorting: the
 * leader's work is linear in the distinct values.  Adding a value to a
 * sorted run turns it back into a hash table.
 *
 * Serialized form (little-endian as the host; it only travels between
 * processes of one server):
 *   "TDVM" u8 version u8 kind u16 flags (bit 0: entries sorted ascending)
 *   i64 missing_ref  i64 missing_cur  u64 entries
 *   entries × { f64 value | u32 len + bytes } i64 ref i64 cur
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tds_internal.h"
#include "tds_stats.h"

#define TDS_VM_MAGIC "TDVM"
#define TDS_VM_VERSION 1
#define TDS_VM_KIND_NUMBER 1
#define TDS_VM_KIND_TEXT 2
#define TDS_VM_HEADER_SIZE 32
#define TDS_VM_FLAG_SORTED 1
#define TDS_VM_MIN_CAPACITY 64
#define TDS_VM_ARENA_CHUNK 65536
/* Largest count a decoded map may hold: exact in a double, and far from int64 overflow when
 * the maps of many workers are merged. */
#define TDS_VM_MAX_COUNT (INT64_C(1) << 53)

typedef struct tds_vm_chunk
{
	struct tds_vm_chunk *next;
	size_t				 used;
	size_t				 size;
	char				 bytes[];
} tds_vm_chunk;

struct tds_value_map
{
	bool		  text_keys;
	bool		  sorted;	/* a sorted run (number maps only) */
	size_t		  capacity; /* power of two; = used when sorted */
	size_t		  used;		/* distinct keys stored */
	double		 *numbers;	/* number keys */
	uint64_t	 *hashes;	/* text keys: hash */
	const char	**texts;	/* text keys: bytes in the arena */
	uint32_t	 *text_lens;
	int64_t		 *ref;
	int64_t		 *cur;
	int64_t		  missing_ref;
	int64_t		  missing_cur;
	int64_t		  count_ref;
	int64_t		  count_cur;
	tds_vm_chunk *arena;
};

/* splitmix64 finaliser: a good spread for doubles' bit patterns. */
static uint64_t
tds_vm_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static uint64_t
tds_vm_hash_number(double value)
{
	uint64_t bits;

	memcpy(&bits, &value, sizeof(bits));
	return tds_vm_mix(bits);
}

uint64_t
tds_hash_bytes(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t	 i;

	for (i = 0; i < len; i++)
	{
		h ^= (unsigned char) s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return tds_vm_mix(h);
}

static bool
tds_vm_slot_used(const tds_value_map *map, size_t slot)
{
	return map->ref[slot] != 0 || map->cur[slot] != 0;
}

/* Allocate the slot arrays for `capacity` slots; false when out of memory. */
static bool
tds_vm_alloc_slots(bool text_keys, size_t capacity, double **numbers,
				   uint64_t **hashes, const char ***texts, uint32_t **lens,
				   int64_t **ref, int64_t **cur)
{
	*numbers = NULL;
	*hashes = NULL;
	*texts = NULL;
	*lens = NULL;
	*ref = tdc_calloc_array(capacity, sizeof(int64_t));
	*cur = tdc_calloc_array(capacity, sizeof(int64_t));
	if (text_keys)
	{
		*hashes = tdc_calloc_array(capacity, sizeof(uint64_t));
		*texts = tdc_calloc_array(capacity, sizeof(const char *));
		*lens = tdc_calloc_array(capacity, sizeof(uint32_t));
		if (*hashes && *texts && *lens && *ref && *cur)
			return true;
	}
	else
	{
		*numbers = tdc_calloc_array(capacity, sizeof(double));
		if (*numbers && *ref && *cur)
			return true;
	}
	tdc_free(*numbers);
	tdc_free(*hashes);
	tdc_free((void *) *texts);
	tdc_free(*lens);
	tdc_free(*ref);
	tdc_free(*cur);
	return false;
}

/* The hash capacity (a power of two) that holds `keys` keys under 5/8. */
static size_t
tds_vm_capacity_for(size_t keys)
{
	size_t capacity = TDS_VM_MIN_CAPACITY;

	while (capacity * 5 < keys * 8 && capacity < SIZE_MAX / 16)
		capacity *= 2;
	return capacity;
}

/* An empty hash map with room for `keys` keys. */
static tds_value_map *
tds_vm_create_sized(bool text_keys, size_t keys)
{
	tds_value_map *map = tdc_malloc(sizeof(tds_value_map));

	if (map == NULL)
		return NULL;
	memset(map, 0, sizeof(*map));
	map->text_keys = text_keys;
	map->capacity = tds_vm_capacity_for(keys);
	if (!tds_vm_alloc_slots(text_keys, map->capacity, &map->numbers,
							&map->hashes, &map->texts, &map->text_lens,
							&map->ref, &map->cur))
	{
		tdc_free(map);
		return NULL;
	}
	return map;
}

tds_value_map *
tds_value_map_create(bool text_keys)
{
	return tds_vm_create_sized(text_keys, 0);
}

void
tds_value_map_free(tds_value_map *map)
{
	tds_vm_chunk *chunk;

	if (map == NULL)
		return;
	chunk = map->arena;
	while (chunk != NULL)
	{
		tds_vm_chunk *next = chunk->next;

		tdc_free(chunk);
		chunk = next;
	}
	tdc_free(map->numbers);
	tdc_free(map->hashes);
	tdc_free((void *) map->texts);
	tdc_free(map->text_lens);
	tdc_free(map->ref);
	tdc_free(map->cur);
	tdc_free(map);
}

bool
tds_value_map_has_text_keys(const tds_value_map *map)
{
	return map->text_keys;
}

int64_t
tds_value_map_count(const tds_value_map *map, bool reference)
{
	return reference ? map->count_ref : map->count_cur;
}

int64_t
tds_value_map_missing(const tds_value_map *map, bool reference)
{
	return reference ? map->missing_ref : map->missing_cur;
}

size_t
tds_value_map_distinct(const tds_value_map *map)
{
	return map->used;
}

void
tds_value_map_add_missing(tds_value_map *map, bool reference)
{
	if (reference)
		map->missing_ref++;
	else
		map->missing_cur++;
}

/* Copy `len` key bytes into the arena; NULL when out of memory. */
static const char *
tds_vm_arena_copy(tds_value_map *map, const char *s, size_t len)
{
	tds_vm_chunk *chunk = map->arena;
	char		 *dst;

	if (chunk == NULL || chunk->size - chunk->used < len)
	{
		size_t size = len > TDS_VM_ARENA_CHUNK ? len : TDS_VM_ARENA_CHUNK;

		chunk = tdc_malloc(sizeof(tds_vm_chunk) + size);
		if (chunk == NULL)
			return NULL;
		chunk->next = map->arena;
		chunk->used = 0;
		chunk->size = size;
		map->arena = chunk;
	}
	dst = chunk->bytes + chunk->used;
	if (len > 0)
		memcpy(dst, s, len);
	chunk->used += len;
	return dst;
}

/* Slot holding the number key, or the empty slot where it belongs. */
static size_t
tds_vm_find_number(const tds_value_map *map, double value, uint64_t hash)
{
	size_t mask = map->capacity - 1;
	size_t slot = (size_t) hash & mask;

	while (tds_vm_slot_used(map, slot) && map->numbers[slot] != value)
		slot = (slot + 1) & mask;
	return slot;
}

static size_t
tds_vm_find_text(const tds_value_map *map, const char *s, size_t len,
				 uint64_t hash)
{
	size_t mask = map->capacity - 1;
	size_t slot = (size_t) hash & mask;

	while (tds_vm_slot_used(map, slot) &&
		   !(map->hashes[slot] == hash && map->text_lens[slot] == len &&
			 (len == 0 || memcmp(map->texts[slot], s, len) == 0)))
		slot = (slot + 1) & mask;
	return slot;
}

/*
 * Move every entry into fresh hash slots of `capacity` (a power of two
 * above the entry count): doubling a full table, or turning a sorted run
 * (whose slots are all used) back into a hash table.  False, with the map
 * unchanged, when out of memory.
 */
static bool
tds_vm_rehash(tds_value_map *map, size_t capacity)
{
	size_t		 old_capacity = map->capacity;
	double		*old_numbers = map->numbers;
	uint64_t	*old_hashes = map->hashes;
	const char **old_texts = map->texts;
	uint32_t	*old_lens = map->text_lens;
	int64_t		*old_ref = map->ref;
	int64_t		*old_cur = map->cur;
	size_t		 i;

	if (!tds_vm_alloc_slots(map->text_keys, capacity, &map->numbers,
							&map->hashes, &map->texts, &map->text_lens,
							&map->ref, &map->cur))
	{
		map->numbers = old_numbers;
		map->hashes = old_hashes;
		map->texts = old_texts;
		map->text_lens = old_lens;
		map->ref = old_ref;
		map->cur = old_cur;
		return false;
	}
	map->capacity = capacity;
	map->sorted = false;
	for (i = 0; i < old_capacity; i++)
	{
		size_t slot;

		if (old_ref[i] == 0 && old_cur[i] == 0)
			continue;
		if (map->text_keys)
		{
			slot = (size_t) old_hashes[i] & (map->capacity - 1);
			while (tds_vm_slot_used(map, slot))
				slot = (slot + 1) & (map->capacity - 1);
			map->hashes[slot] = old_hashes[i];
			map->texts[slot] = old_texts[i];
			map->text_lens[slot] = old_lens[i];
		}
		else
		{
			slot = tds_vm_find_number(map, old_numbers[i],
									  tds_vm_hash_number(old_numbers[i]));
			map->numbers[slot] = old_numbers[i];
		}
		map->ref[slot] = old_ref[i];
		map->cur[slot] = old_cur[i];
	}
	tdc_free(old_numbers);
	tdc_free(old_hashes);
	tdc_free((void *) old_texts);
	tdc_free(old_lens);
	tdc_free(old_ref);
	tdc_free(old_cur);
	return true;
}

/* Make room for one more key; false when out of memory. */
static bool
tds_vm_reserve_one(tds_value_map *map)
{
	if ((map->used + 1) * 8 <= map->capacity * 5)
		return true;
	if (map->capacity > SIZE_MAX / 2 / sizeof(int64_t))
		return false;
	return tds_vm_rehash(map, map->capacity * 2);
}

static void
tds_vm_count(tds_value_map *map, size_t slot, int64_t ref, int64_t cur)
{
	map->ref[slot] += ref;
	map->cur[slot] += cur;
	map->count_ref += ref;
	map->count_cur += cur;
}

/* Turn a sorted run back into a hash table (before adding to it). */
static bool
tds_vm_unsort(tds_value_map *map)
{
	return tds_vm_rehash(map, tds_vm_capacity_for(map->used + 1));
}

/* Add `ref`/`cur` occurrences of a finite number. */
static tds_status
tds_vm_add_number_counts(tds_value_map *map, double value, int64_t ref, int64_t cur)
{
	uint64_t hash;
	size_t	 slot;

	if (map->sorted && !tds_vm_unsort(map))
		return TDS_ERR_NOMEM;
	if (value == 0.0)
		value = 0.0; /* -0 and 0 are one value */
	hash = tds_vm_hash_number(value);
	slot = tds_vm_find_number(map, value, hash);
	if (!tds_vm_slot_used(map, slot))
	{
		if (!tds_vm_reserve_one(map))
			return TDS_ERR_NOMEM;
		slot = tds_vm_find_number(map, value, hash);
		map->numbers[slot] = value;
		map->used++;
	}
	tds_vm_count(map, slot, ref, cur);
	return TDS_OK;
}

static tds_status
tds_vm_add_text_counts(tds_value_map *map, const char *s, size_t len,
					   int64_t ref, int64_t cur)
{
	uint64_t hash;
	size_t	 slot;

	if (len > TDS_VALUE_MAP_MAX_TEXT_KEY)
		return TDS_ERR_LIMIT;
	hash = tds_hash_bytes(s, len);
	slot = tds_vm_find_text(map, s, len, hash);
	if (!tds_vm_slot_used(map, slot))
	{
		const char *copy;

		if (!tds_vm_reserve_one(map))
			return TDS_ERR_NOMEM;
		copy = tds_vm_arena_copy(map, s, len);
		if (copy == NULL)
			return TDS_ERR_NOMEM;
		slot = tds_vm_find_text(map, s, len, hash);
		map->hashes[slot] = hash;
		map->texts[slot] = copy;
		map->text_lens[slot] = (uint32_t) len;
		map->used++;
	}
	tds_vm_count(map, slot, ref, cur);
	return TDS_OK;
}

tds_status
tds_value_map_add_number(tds_value_map *map, double value, bool reference)
{
	if (map->text_keys)
		return TDS_ERR_INPUT;
	if (!isfinite(value))
	{
		tds_value_map_add_missing(map, reference);
		return TDS_OK;
	}
	return tds_vm_add_number_counts(map, value, reference ? 1 : 0,
									reference ? 0 : 1);
}

tds_status
tds_value_map_add_text(tds_value_map *map, const char *value, size_t len,
					   bool reference)
{
	if (!map->text_keys)
		return TDS_ERR_INPUT;
	return tds_vm_add_text_counts(map, value, len, reference ? 1 : 0,
								  reference ? 0 : 1);
}

/* Merge two sorted runs in one linear pass; TDS_ERR_NOMEM leaves `into` as it was. */
static tds_status
tds_vm_merge_sorted(tds_value_map *into, const tds_value_map *from)
{
	size_t	 n = into->used + from->used;
	size_t	 i = 0;
	size_t	 j = 0;
	size_t	 k = 0;
	double	*numbers = tdc_calloc_array(n > 0 ? n : 1, sizeof(double));
	int64_t *ref = tdc_calloc_array(n > 0 ? n : 1, sizeof(int64_t));
	int64_t *cur = tdc_calloc_array(n > 0 ? n : 1, sizeof(int64_t));

	if (numbers == NULL || ref == NULL || cur == NULL)
	{
		tdc_free(numbers);
		tdc_free(ref);
		tdc_free(cur);
		return TDS_ERR_NOMEM;
	}
	while (i < into->used || j < from->used)
	{
		if (j >= from->used ||
			(i < into->used && into->numbers[i] < from->numbers[j]))
		{
			numbers[k] = into->numbers[i];
			ref[k] = into->ref[i];
			cur[k] = into->cur[i];
			i++;
		}
		else if (i >= into->used || from->numbers[j] < into->numbers[i])
		{
			numbers[k] = from->numbers[j];
			ref[k] = from->ref[j];
			cur[k] = from->cur[j];
			j++;
		}
		else
		{
			numbers[k] = into->numbers[i];
			ref[k] = into->ref[i] + from->ref[j];
			cur[k] = into->cur[i] + from->cur[j];
			i++;
			j++;
		}
		k++;
	}
	tdc_free(into->numbers);
	tdc_free(into->ref);
	tdc_free(into->cur);
	into->numbers = numbers;
	into->ref = ref;
	into->cur = cur;
	into->used = k;
	into->capacity = k;
	into->count_ref += from->count_ref;
	into->count_cur += from->count_cur;
	return TDS_OK;
}

tds_status
tds_value_map_merge(tds_value_map *into, const tds_value_map *from, tds_error *err)
{
	size_t i;

	if (into->text_keys != from->text_keys)
	{
		tds_error_set(err, TDS_ERR_INPUT, "A text value map cannot be merged with a number value map.");
		tdc_error_set_message(err, "cannot merge value counts of different kinds");
		return TDS_ERR_INPUT;
	}
	if (into->sorted && from->sorted)
	{
		if (tds_vm_merge_sorted(into, from) != TDS_OK)
			return tds_error_nomem(err);
		into->missing_ref += from->missing_ref;
		into->missing_cur += from->missing_cur;
		return TDS_OK;
	}
	/* Otherwise insert entry by entry (a sorted `from` is iterated alike). */
	for (i = 0; i < from->capacity; i++)
	{
		tds_status status;

		if (!tds_vm_slot_used(from, i))
			continue;
		if (from->text_keys)
			status = tds_vm_add_text_counts(into, from->texts[i],
											from->text_lens[i],
											from->ref[i], from->cur[i]);
		else
			status = tds_vm_add_number_counts(into, from->numbers[i],
											  from->ref[i], from->cur[i]);
		if (status != TDS_OK)
		{
			if (status == TDS_ERR_NOMEM)
				return tds_error_nomem(err);
			tds_error_set(err, status, "A text key is longer than %d bytes.", TDS_VALUE_MAP_MAX_TEXT_KEY);
			return status;
		}
	}
	into->missing_ref += from->missing_ref;
	into->missing_cur += from->missing_cur;
	return TDS_OK;
}

tds_value_map *
tds_value_map_clone(const tds_value_map *map)
{
	tds_value_map *copy;
	tds_error	   err;

	if (!map->sorted)
	{
		copy = tds_vm_create_sized(map->text_keys, map->used);
		if (copy != NULL && tds_value_map_merge(copy, map, &err) != TDS_OK)
		{
			tds_value_map_free(copy);
			copy = NULL;
		}
		return copy;
	}
	copy = tdc_malloc(sizeof(tds_value_map));
	if (copy == NULL)
		return NULL;
	*copy = *map;
	copy->arena = NULL;
	copy->numbers = tdc_calloc_array(map->used > 0 ? map->used : 1, sizeof(double));
	copy->ref = tdc_calloc_array(map->used > 0 ? map->used : 1, sizeof(int64_t));
	copy->cur = tdc_calloc_array(map->used > 0 ? map->used : 1, sizeof(int64_t));
	if (copy->numbers == NULL || copy->ref == NULL || copy->cur == NULL)
	{
		tds_value_map_free(copy);
		return NULL;
	}
	memcpy(copy->numbers, map->numbers, map->used * sizeof(double));
	memcpy(copy->ref, map->ref, map->used * sizeof(int64_t));
	memcpy(copy->cur, map->cur, map->used * sizeof(int64_t));
	return copy;
}

/* ------------------------------------------------------------------ */
/* Serialization                                                       */
/* ------------------------------------------------------------------ */

static void
tds_vm_put(char **p, const void *src, size_t n)
{
	memcpy(*p, src, n);
	*p += n;
}

/* Slots in ascending key order (one tdc_malloc block), or NULL. */
static size_t *tds_vm_key_order(const tds_value_map *map);

tds_status
tds_value_map_serialize(const tds_value_map *map, char **out, size_t *len,
						tds_error *err)
{
	size_t	 size = TDS_VM_HEADER_SIZE;
	size_t	 i;
	char	*buf;
	char	*p;
	uint8_t	 version = TDS_VM_VERSION;
	uint8_t	 kind = map->text_keys ? TDS_VM_KIND_TEXT : TDS_VM_KIND_NUMBER;
	uint16_t flags = map->text_keys ? 0 : TDS_VM_FLAG_SORTED;
	uint64_t entries = map->used;
	size_t	*order = NULL;

	/* Number maps travel sorted: the sort runs here, in the worker. */
	if (!map->text_keys)
	{
		order = tds_vm_key_order(map);
		if (order == NULL)
			return tds_error_nomem(err);
	}
	for (i = 0; i < map->capacity; i++)
	{
		if (!tds_vm_slot_used(map, i))
			continue;
		size += 2 * sizeof(int64_t);
		size += map->text_keys ? sizeof(uint32_t) + map->text_lens[i] : sizeof(double);
	}
	buf = tdc_malloc(size);
	if (buf == NULL)
	{
		tdc_free(order);
		return tds_error_nomem(err);
	}
	p = buf;
	tds_vm_put(&p, TDS_VM_MAGIC, 4);
	tds_vm_put(&p, &version, 1);
	tds_vm_put(&p, &kind, 1);
	tds_vm_put(&p, &flags, 2);
	tds_vm_put(&p, &map->missing_ref, 8);
	tds_vm_put(&p, &map->missing_cur, 8);
	tds_vm_put(&p, &entries, 8);
	if (!map->text_keys)
	{
		for (i = 0; i < map->used; i++)
		{
			size_t slot = order[i];

			tds_vm_put(&p, &map->numbers[slot], 8);
			tds_vm_put(&p, &map->ref[slot], 8);
			tds_vm_put(&p, &map->cur[slot], 8);
		}
		tdc_free(order);
	}
	else
	{
		for (i = 0; i < map->capacity; i++)
		{
			if (!tds_vm_slot_used(map, i))
				continue;
			tds_vm_put(&p, &map->text_lens[i], 4);
			if (map->text_lens[i] > 0)
				tds_vm_put(&p, map->texts[i], map->text_lens[i]);
			tds_vm_put(&p, &map->ref[i], 8);
			tds_vm_put(&p, &map->cur[i], 8);
		}
	}
	*out = buf;
	*len = size;
	return TDS_OK;
}

/* Reader over a byte string that refuses to run past its end. */
typedef struct tds_vm_reader
{
	const char *p;
	size_t		left;
} tds_vm_reader;

static bool
tds_vm_get(tds_vm_reader *r, void *dst, size_t n)
{
	if (r->left < n)
		return false;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

static tds_status
tds_vm_corrupt(tds_error *err, const char *what)
{
	tds_error_set(err, TDS_ERR_INPUT, "%s", what);
	tdc_error_set_message(err, "invalid serialized value counts");
	return TDS_ERR_INPUT;
}

/*
 * A sorted run of `entries` number entries, read as it is (no hashing):
 * keys finite and strictly ascending, counts in bounds; the whole input
 * must be consumed.
 */
static tds_status
tds_vm_read_sorted(tds_vm_reader *r, size_t entries, tds_value_map **out,
				   tds_error *err)
{
	tds_value_map *map = tdc_malloc(sizeof(tds_value_map));
	size_t		   n = entries > 0 ? entries : 1;
	size_t		   i;

	if (map == NULL)
		return tds_error_nomem(err);
	memset(map, 0, sizeof(*map));
	map->sorted = true;
	map->numbers = tdc_calloc_array(n, sizeof(double));
	map->ref = tdc_calloc_array(n, sizeof(int64_t));
	map->cur = tdc_calloc_array(n, sizeof(int64_t));
	if (map->numbers == NULL || map->ref == NULL || map->cur == NULL)
	{
		tds_value_map_free(map);
		return tds_error_nomem(err);
	}
	for (i = 0; i < entries; i++)
	{
		double	value;
		int64_t ref;
		int64_t cur;

		if (!tds_vm_get(r, &value, 8) || !isfinite(value) ||
			!tds_vm_get(r, &ref, 8) || !tds_vm_get(r, &cur, 8) ||
			ref < 0 || cur < 0 || (ref == 0 && cur == 0) ||
			ref > TDS_VM_MAX_COUNT || cur > TDS_VM_MAX_COUNT)
		{
			tds_value_map_free(map);
			return tds_vm_corrupt(err, "An entry is truncated, not finite, or has no or too large a count.");
		}
		if (value == 0.0)
			value = 0.0; /* -0 and 0 are one value */
		if (i > 0 && !(value > map->numbers[i - 1]))
		{
			tds_value_map_free(map);
			return tds_vm_corrupt(err, "The keys of a sorted run are not strictly ascending.");
		}
		map->numbers[i] = value;
		map->ref[i] = ref;
		map->cur[i] = cur;
		map->count_ref += ref;
		map->count_cur += cur;
		if (map->count_ref > TDS_VM_MAX_COUNT || map->count_cur > TDS_VM_MAX_COUNT)
		{
			tds_value_map_free(map);
			return tds_vm_corrupt(err, "The counts overflow.");
		}
	}
	if (r->left != 0)
	{
		tds_value_map_free(map);
		return tds_vm_corrupt(err, "Bytes follow the last entry.");
	}
	map->used = entries;
	map->capacity = entries;
	*out = map;
	return TDS_OK;
}

tds_status
tds_value_map_deserialize(const char *data, size_t len, tds_value_map **out,
						  tds_error *err)
{
	tds_vm_reader  r = { data, len };
	char		   magic[4];
	uint8_t		   version;
	uint8_t		   kind;
	uint16_t	   reserved;
	int64_t		   missing_ref;
	int64_t		   missing_cur;
	uint64_t	   entries;
	uint64_t	   i;
	tds_value_map *map = NULL;

	*out = NULL;
	if (!tds_vm_get(&r, magic, 4) || memcmp(magic, TDS_VM_MAGIC, 4) != 0 ||
		!tds_vm_get(&r, &version, 1) || !tds_vm_get(&r, &kind, 1) ||
		!tds_vm_get(&r, &reserved, 2) || !tds_vm_get(&r, &missing_ref, 8) ||
		!tds_vm_get(&r, &missing_cur, 8) || !tds_vm_get(&r, &entries, 8))
		return tds_vm_corrupt(err, "The header is truncated or its magic is wrong.");
	if (version != TDS_VM_VERSION ||
		(kind != TDS_VM_KIND_NUMBER && kind != TDS_VM_KIND_TEXT))
		return tds_vm_corrupt(err, "Unknown version or key kind.");
	if (missing_ref < 0 || missing_cur < 0 ||
		missing_ref > TDS_VM_MAX_COUNT || missing_cur > TDS_VM_MAX_COUNT)
		return tds_vm_corrupt(err, "A missing-value count is negative or too large.");
	/* Every entry takes at least 20 bytes: bound the count before looping. */
	if (entries > r.left / 20)
		return tds_vm_corrupt(err, "The entry count exceeds the data.");
	if ((reserved & ~TDS_VM_FLAG_SORTED) != 0 ||
		((reserved & TDS_VM_FLAG_SORTED) && kind != TDS_VM_KIND_NUMBER))
		return tds_vm_corrupt(err, "Unknown flags.");
	if (reserved & TDS_VM_FLAG_SORTED)
	{
		tds_status status = tds_vm_read_sorted(&r, (size_t) entries, &map, err);

		if (status != TDS_OK)
			return status;
		if (map == NULL) /* not reached: TDS_OK always sets the map */
			return tds_error_nomem(err);
		map->missing_ref = missing_ref;
		map->missing_cur = missing_cur;
		*out = map;
		return TDS_OK;
	}
	map = tds_vm_create_sized(kind == TDS_VM_KIND_TEXT, (size_t) entries);
	if (map == NULL)
		return tds_error_nomem(err);
	for (i = 0; i < entries; i++)
	{
		int64_t	   ref;
		int64_t	   cur;
		tds_status status;

		if (map->text_keys)
		{
			uint32_t	klen;
			const char *key;

			if (!tds_vm_get(&r, &klen, 4) || klen > TDS_VALUE_MAP_MAX_TEXT_KEY ||
				r.left < klen)
			{
				tds_value_map_free(map);
				return tds_vm_corrupt(err, "A key is truncated or too long.");
			}
			key = r.p;
			r.p += klen;
			r.left -= klen;
			if (!tds_vm_get(&r, &ref, 8) || !tds_vm_get(&r, &cur, 8) ||
				ref < 0 || cur < 0 || (ref == 0 && cur == 0) ||
				ref > TDS_VM_MAX_COUNT || cur > TDS_VM_MAX_COUNT)
			{
				tds_value_map_free(map);
				return tds_vm_corrupt(err, "A count is truncated, negative, zero or too large.");
			}
			status = tds_vm_add_text_counts(map, key, klen, ref, cur);
		}
		else
		{
			double value;

			if (!tds_vm_get(&r, &value, 8) || !isfinite(value) ||
				!tds_vm_get(&r, &ref, 8) || !tds_vm_get(&r, &cur, 8) ||
				ref < 0 || cur < 0 || (ref == 0 && cur == 0) ||
				ref > TDS_VM_MAX_COUNT || cur > TDS_VM_MAX_COUNT)
			{
				tds_value_map_free(map);
				return tds_vm_corrupt(err, "An entry is truncated, not finite, or has no or too large a count.");
			}
			status = tds_vm_add_number_counts(map, value, ref, cur);
		}
		if (status != TDS_OK ||
			map->count_ref > TDS_VM_MAX_COUNT || map->count_cur > TDS_VM_MAX_COUNT)
		{
			tds_value_map_free(map);
			if (status == TDS_ERR_NOMEM)
				return tds_error_nomem(err);
			return tds_vm_corrupt(err, "The counts overflow.");
		}
	}
	if (r.left != 0)
	{
		tds_value_map_free(map);
		return tds_vm_corrupt(err, "Bytes follow the last entry.");
	}
	map->missing_ref = missing_ref;
	map->missing_cur = missing_cur;
	*out = map;
	return TDS_OK;
}

/* ------------------------------------------------------------------ */
/* Sorted column                                                       */
/* ------------------------------------------------------------------ */

typedef struct tds_vm_sort_item
{
	const tds_value_map *map;
	size_t				 slot;
} tds_vm_sort_item;

static int
tds_vm_cmp_text(const void *a, const void *b)
{
	const tds_vm_sort_item *x = a;
	const tds_vm_sort_item *y = b;
	uint32_t				lu = x->map->text_lens[x->slot];
	uint32_t				lv = y->map->text_lens[y->slot];
	int						c = 0;

	if (lu > 0 && lv > 0)
		c = memcmp(x->map->texts[x->slot], y->map->texts[y->slot], lu < lv ? lu : lv);
	if (c != 0)
		return c;
	return (lu > lv) - (lu < lv);
}

/* A double's bits as an unsigned key that sorts like the double. */
static uint64_t
tds_vm_sort_key(double value)
{
	uint64_t bits;

	memcpy(&bits, &value, sizeof(bits));
	return (bits & UINT64_C(0x8000000000000000)) ? ~bits : bits | UINT64_C(0x8000000000000000);
}

typedef struct tds_vm_radix_item
{
	uint64_t key;
	size_t	 slot;
} tds_vm_radix_item;

/*
 * Slots of a number map in ascending key order, by an LSD radix sort on the
 * keys' bits (8 passes of 8 bits, skipping bytes all keys share): linear,
 * and far kinder to caches than a comparison sort through the slots.
 */
static size_t *
tds_vm_sorted_slots(const tds_value_map *map)
{
	size_t			   n = map->used > 0 ? map->used : 1;
	tds_vm_radix_item *a = tdc_calloc_array(n, sizeof(tds_vm_radix_item));
	tds_vm_radix_item *b = tdc_calloc_array(n, sizeof(tds_vm_radix_item));
	size_t			  *slots = tdc_calloc_array(n, sizeof(size_t));
	size_t			   i;
	size_t			   k = 0;
	int				   pass;

	if (a == NULL || b == NULL || slots == NULL)
	{
		tdc_free(a);
		tdc_free(b);
		tdc_free(slots);
		return NULL;
	}
	for (i = 0; i < map->capacity; i++)
	{
		if (!tds_vm_slot_used(map, i))
			continue;
		a[k].key = tds_vm_sort_key(map->numbers[i]);
		a[k].slot = i;
		k++;
	}
	for (pass = 0; pass < 8; pass++)
	{
		size_t			   count[256] = { 0 };
		size_t			   pos = 0;
		int				   shift = pass * 8;
		tds_vm_radix_item *swap;

		for (i = 0; i < k; i++)
			count[(a[i].key >> shift) & 0xff]++;
		if (k == 0 || count[(a[0].key >> shift) & 0xff] == k)
			continue; /* every key has this byte: the order stands */
		for (i = 0; i < 256; i++)
		{
			size_t c = count[i];

			count[i] = pos;
			pos += c;
		}
		for (i = 0; i < k; i++)
			b[count[(a[i].key >> shift) & 0xff]++] = a[i];
		swap = a;
		a = b;
		b = swap;
	}
	for (i = 0; i < k; i++)
		slots[i] = a[i].slot;
	tdc_free(a);
	tdc_free(b);
	return slots;
}

/*
 * Slots of any map in ascending key order (one tdc_malloc block), or NULL:
 * a sorted run as it is, number keys by radix sort, text keys by bytes.
 */
static size_t *
tds_vm_key_order(const tds_value_map *map)
{
	size_t			  n = map->used > 0 ? map->used : 1;
	size_t			 *slots;
	tds_vm_sort_item *items;
	size_t			  i;
	size_t			  k = 0;

	if (!map->text_keys && !map->sorted)
		return tds_vm_sorted_slots(map);
	slots = tdc_calloc_array(n, sizeof(size_t));
	if (slots == NULL || map->sorted)
	{
		for (i = 0; slots != NULL && i < map->used; i++)
			slots[i] = i;
		return slots;
	}
	items = tdc_calloc_array(n, sizeof(tds_vm_sort_item));
	if (items == NULL)
	{
		tdc_free(slots);
		return NULL;
	}
	for (i = 0; i < map->capacity; i++)
	{
		if (!tds_vm_slot_used(map, i))
			continue;
		items[k].map = map;
		items[k].slot = i;
		k++;
	}
	qsort(items, k, sizeof(tds_vm_sort_item), tds_vm_cmp_text);
	for (i = 0; i < k; i++)
		slots[i] = items[i].slot;
	tdc_free(items);
	return slots;
}

tds_status
tds_value_map_column(const tds_value_map *map, bool numerical,
					 tds_drift_column *column, const char ***text_keys_out,
					 uint32_t **text_lens_out, tds_error *err)
{
	size_t		 m = map->used;
	size_t		 n = m > 0 ? m : 1;
	size_t		*order = tds_vm_key_order(map);
	double		*values = map->text_keys ? NULL : tdc_calloc_array(n, sizeof(double));
	int64_t		*ref = tdc_calloc_array(n, sizeof(int64_t));
	int64_t		*cur = tdc_calloc_array(n, sizeof(int64_t));
	const char **texts = NULL;
	uint32_t	*lens = NULL;
	size_t		 i;

	if (map->text_keys && text_keys_out != NULL)
	{
		texts = tdc_calloc_array(n, sizeof(const char *));
		lens = tdc_calloc_array(n, sizeof(uint32_t));
	}
	if (order == NULL || ref == NULL || cur == NULL ||
		(!map->text_keys && values == NULL) ||
		(map->text_keys && text_keys_out != NULL && (texts == NULL || lens == NULL)))
	{
		tdc_free(order);
		tdc_free(values);
		tdc_free(ref);
		tdc_free(cur);
		tdc_free((void *) texts);
		tdc_free(lens);
		return tds_error_nomem(err);
	}
	for (i = 0; i < m; i++)
	{
		size_t slot = order[i];

		if (values != NULL)
			values[i] = map->numbers[slot];
		if (texts != NULL)
		{
			texts[i] = map->texts[slot];
			lens[i] = map->text_lens[slot];
		}
		ref[i] = map->ref[slot];
		cur[i] = map->cur[slot];
	}
	tdc_free(order);

	memset(column, 0, sizeof(*column));
	column->numerical = numerical && !map->text_keys;
	column->integer_dtype = false;
	column->m = m;
	column->values = values;
	column->ref = ref;
	column->cur = cur;
	column->n_ref = map->count_ref;
	column->n_cur = map->count_cur;
	if (text_keys_out != NULL)
		*text_keys_out = texts;
	if (text_lens_out != NULL)
		*text_lens_out = lens;
	return TDS_OK;
}

void
tds_value_map_free_column(tds_drift_column *column, const char **text_keys,
						  uint32_t *text_lens)
{
	tdc_free((void *) column->values);
	tdc_free((void *) column->ref);
	tdc_free((void *) column->cur);
	tdc_free((void *) text_keys);
	tdc_free(text_lens);
}
