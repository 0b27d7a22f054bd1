/*
 * td_image_layout.h — the byte layout of a compiled model image.
 *
 * An image is one contiguous, 8-byte aligned block holding no pointers, only
 * offsets from its first byte, so it can be copied or mapped anywhere:
 *
 *     header | string pool | inputs | aliases | numeric features |
 *     categoricals | categorical inputs | hash slots | trees | nodes |
 *     linear coefficients | reduced trees | reduced nodes |
 *     one-hot feature -> trees index | its tree lists
 *
 * Every section starts at an 8-byte aligned offset recorded in the header.
 * Strings are NUL-terminated and referenced by their offset in the image;
 * the pool starts with an empty string (used for absent metadata) and ends
 * with a NUL, so any in-pool offset names a terminated string.
 *
 * Trees are renumbered at compile time so that the two children of a node
 * are adjacent (right = left + 1) and always have larger numbers than their
 * parent; td_image_check() relies on that to prove every traversal ends
 * inside the tree without a visited set.
 *
 * The last four sections (XGBoost only; td_reduce.c) let the scorer skip
 * the one-hot splits a row cannot take; they are derived from the node
 * table and checked against a fresh derivation when an image is loaded.
 *
 * Native byte order; the magic doubles as an endianness check.
 */
#ifndef TD_IMAGE_LAYOUT_H
#define TD_IMAGE_LAYOUT_H

#include <stdint.h>

#include "td_model.h"

#define TD_IMAGE_MAGIC 0x474D4454u /* "TDMG" read little-endian */
#define TD_IMAGE_LAYOUT_VERSION 2u
#define TD_IMAGE_ALIGN 8u
#define TD_ALIGN8(x) (((x) + 7u) & ~(uint64_t) 7u)

/* td_image_input.flags */
#define TD_INPUT_REQUIRED 0x1u
#define TD_INPUT_HAS_MIN 0x2u
#define TD_INPUT_HAS_MAX 0x4u

/* td_image_node.split: feature index, plus this bit when missing goes left */
#define TD_NODE_DEFAULT_LEFT 0x80000000u
#define TD_NODE_FEATURE_MASK 0x7FFFFFFFu

/* td_image_slot.feature of an empty hash slot */
#define TD_SLOT_EMPTY 0xFFFFFFFFu

typedef struct td_image_header
{
	uint32_t magic;
	uint32_t layout_version;
	uint64_t total_size;

	uint32_t format_version;
	uint32_t estimator; /* TD_EST_XGBOOST or TD_EST_LINEAR */
	uint32_t num_inputs;
	uint32_t num_aliases;
	uint32_t num_features;
	uint32_t num_numeric;
	uint32_t num_categorical;
	uint32_t num_cat_inputs;
	uint32_t vocabulary_size;
	uint32_t num_trees;
	uint32_t num_nodes;
	uint32_t max_key_len; /* longest key any categorical can generate */
	float	 base_score;
	uint32_t reserved;
	double	 intercept;

	uint32_t meta[TD_META_COUNT]; /* string offsets */

	uint64_t strings_off;
	uint64_t strings_size;
	uint64_t inputs_off;
	uint64_t aliases_off;
	uint64_t numeric_off;
	uint64_t categorical_off;
	uint64_t cat_inputs_off;
	uint64_t slots_off;
	uint64_t num_slots;
	uint64_t trees_off;
	uint64_t nodes_off;
	uint64_t coef_off;

	/* td_reduce.c; all 0 for linear models */
	uint64_t rtrees_off; /* num_trees td_image_tree, into the reduced nodes */
	uint64_t rnodes_off; /* num_rnodes td_image_node */
	uint64_t fptr_off;	 /* num_features + 1 uint32, into ftrees */
	uint64_t ftrees_off; /* num_ftrees uint32 tree indices */
	uint32_t num_rnodes;
	uint32_t num_ftrees;
} td_image_header;

typedef struct td_image_input
{
	uint32_t name_off;
	uint32_t name_len;
	uint32_t type; /* td_input_type */
	uint32_t flags;
	uint32_t aliases_first; /* into the aliases section (string offsets) */
	uint32_t aliases_count;
	double	 min;
	double	 max;
} td_image_input;

typedef struct td_image_numeric
{
	uint32_t input;
	uint32_t transform;
	uint32_t index;
} td_image_numeric;

typedef struct td_image_categorical
{
	uint32_t name_off;
	uint32_t sep_off;
	uint32_t sep_len;
	uint32_t inputs_first; /* into the categorical inputs section */
	uint32_t inputs_count;
	uint32_t slots_first; /* into the slots section */
	uint32_t slots_mask;  /* capacity - 1, capacity a power of two */
	uint32_t max_key_len;
	uint32_t vocab_count;
} td_image_categorical;

/* Open addressing with linear probing, FNV-1a hash of the key bytes. */
typedef struct td_image_slot
{
	uint32_t key_off;
	uint32_t key_len;
	uint32_t hash;
	uint32_t feature; /* TD_SLOT_EMPTY when unused */
} td_image_slot;

typedef struct td_image_tree
{
	uint32_t first; /* index of the root in the nodes section */
	uint32_t count;
} td_image_tree;

/* 12 bytes.  left < 0: a leaf whose output is value. */
typedef struct td_image_node
{
	int32_t	 left;
	uint32_t split;
	float	 value;
} td_image_node;

typedef char td_image_node_is_12_bytes[(sizeof(td_image_node) == 12) ? 1 : -1];
typedef char td_image_header_is_aligned[(sizeof(td_image_header) % 8 == 0) ? 1 : -1];

static inline uint32_t
td_fnv1a(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t	 i;

	for (i = 0; i < len; i++)
	{
		h ^= (unsigned char) s[i];
		h *= 16777619u;
	}
	return h;
}

#define TD_IMG_HDR(img) ((const td_image_header *) (const void *) (img))
#define TD_IMG_AT(img, off, type) \
	((const type *) (const void *) ((const char *) (img) + (off)))

#endif /* TD_IMAGE_LAYOUT_H */
