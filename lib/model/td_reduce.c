/*
 * td_reduce.c — sparse rows: each tree's "reduced" copy, and the trees each
 * one-hot feature appears in.
 *
 * A feature that no numeric feature writes is set only by a categorical,
 * to 1.0, and is otherwise missing; a row sets a handful of them (its
 * PU_DO, PU and DO entries).  A tree none of whose splits is on one of the
 * row's one-hot features therefore takes the default direction at every
 * one-hot split: its reduced copy, with each one-hot split replaced by its
 * default subtree, reaches the very same leaf in a few numeric splits.  The
 * scorer walks the full tree only for the trees listed under the row's
 * one-hot features ("dirty"), the reduced copy for the others, and adds the
 * leaves in tree order as before: the result is bit-identical.
 *
 * The sections (appended after the rest of the image):
 *     rtrees   num_trees td_image_tree, into rnodes
 *     rnodes   num_rnodes td_image_node, the node table's invariants
 *     fptr     num_features + 1 uint32: feature f's trees are
 *              ftrees[fptr[f] .. fptr[f + 1]), ascending
 *     ftrees   num_ftrees uint32 tree indices
 * td_reduce_derive() computes them from the node table; the image check
 * derives them again from the checked node table and requires equality,
 * so the scorer can trust them as it trusts the node table.
 */
#include <string.h>

#include "td_internal.h"
#include "td_image_layout.h"

/* Per feature: 1 when numeric features write it (never reduced). */
static unsigned char *
numeric_marks(const td_image_header *h, const td_image_numeric *numeric)
{
	unsigned char *m = tdc_calloc_array((size_t) h->num_features + 1, 1);
	uint32_t	   i;

	if (m == NULL)
		return NULL;
	for (i = 0; i < h->num_numeric; i++)
		if (numeric[i].index < h->num_features)
			m[numeric[i].index] = 1;
	return m;
}

/* Follow default directions from n past one-hot splits. */
static uint32_t
resolve(const td_image_node *nd, uint32_t n, const unsigned char *numeric)
{
	while (nd[n].left >= 0 && !numeric[nd[n].split & TD_NODE_FEATURE_MASK])
		n = (uint32_t) nd[n].left + ((nd[n].split & TD_NODE_DEFAULT_LEFT) ? 0u : 1u);
	return n;
}

/*
 * Reduced copy of one tree (count nodes at nd) into out (room for count
 * nodes; NULL to count only), children adjacent and after their parent;
 * returns its node count.  stack: room for 2 * count entries.
 */
static uint32_t
reduce_tree(const td_image_node *nd, uint32_t count, const unsigned char *numeric,
			uint32_t *stack, td_image_node *out)
{
	uint32_t sp = 0;
	uint32_t next = 1;

	(void) count;
	stack[sp++] = resolve(nd, 0, numeric);
	stack[sp++] = 0;
	while (sp > 0)
	{
		uint32_t dst = stack[--sp];
		uint32_t src = stack[--sp];

		if (nd[src].left < 0)
		{
			if (out != NULL)
				out[dst] = nd[src];
			continue;
		}
		if (out != NULL)
		{
			out[dst] = nd[src];
			out[dst].left = (int32_t) next;
		}
		stack[sp++] = resolve(nd, (uint32_t) nd[src].left + 1, numeric);
		stack[sp++] = next + 1;
		stack[sp++] = resolve(nd, (uint32_t) nd[src].left, numeric);
		stack[sp++] = next;
		next += 2;
	}
	return next;
}

td_status
td_reduce_derive(const td_image_header *h, const td_image_numeric *numeric,
				 const td_image_tree *trees, const td_image_node *nodes,
				 td_reduced *r)
{
	unsigned char *marks = NULL;
	uint32_t	  *stack = NULL;
	unsigned char *seen = NULL;
	uint32_t	   max_count = 0;
	uint32_t	   t;
	uint32_t	   j;
	uint64_t	   total = 0;
	td_status	   st = TD_ERR_NOMEM;

	memset(r, 0, sizeof(*r));
	for (t = 0; t < h->num_trees; t++)
		if (trees[t].count > max_count)
			max_count = trees[t].count;
	marks = numeric_marks(h, numeric);
	stack = tdc_calloc_array((size_t) max_count * 2 + 2, sizeof(uint32_t));
	seen = tdc_calloc_array((size_t) h->num_features + 1, 1);
	r->rtrees = tdc_calloc_array(h->num_trees, sizeof(td_image_tree));
	r->fptr = tdc_calloc_array((size_t) h->num_features + 1, sizeof(uint32_t));
	if (marks == NULL || stack == NULL || seen == NULL || r->rtrees == NULL || r->fptr == NULL)
		goto done;

	/* Sizes: reduced nodes; per one-hot feature, the trees it splits. */
	for (t = 0; t < h->num_trees; t++)
	{
		const td_image_node *nd = nodes + trees[t].first;

		r->rtrees[t].first = (uint32_t) total;
		r->rtrees[t].count = reduce_tree(nd, trees[t].count, marks, stack, NULL);
		total += r->rtrees[t].count;
		for (j = 0; j < trees[t].count; j++)
		{
			uint32_t f = nd[j].split & TD_NODE_FEATURE_MASK;

			if (nd[j].left >= 0 && !marks[f] && seen[f] != 1)
			{
				seen[f] = 1;
				r->fptr[f + 1]++;
				r->num_ftrees++;
			}
		}
		for (j = 0; j < trees[t].count; j++)
			seen[nd[j].split & TD_NODE_FEATURE_MASK] = 0;
	}
	r->num_rnodes = (uint32_t) total; /* at most num_nodes */
	for (j = 0; j < h->num_features; j++)
		r->fptr[j + 1] += r->fptr[j];
	r->rnodes = tdc_calloc_array(total, sizeof(td_image_node));
	r->ftrees = tdc_calloc_array(r->num_ftrees, sizeof(uint32_t));
	if ((total > 0 && r->rnodes == NULL) || (r->num_ftrees > 0 && r->ftrees == NULL))
		goto done;

	/* Contents; fill[] reuses the stack as per-feature cursors would be too big. */
	for (t = 0; t < h->num_trees; t++)
	{
		const td_image_node *nd = nodes + trees[t].first;

		reduce_tree(nd, trees[t].count, marks, stack, r->rnodes + r->rtrees[t].first);
		for (j = 0; j < trees[t].count; j++)
		{
			uint32_t f = nd[j].split & TD_NODE_FEATURE_MASK;

			if (nd[j].left >= 0 && !marks[f] && seen[f] != 1)
			{
				seen[f] = 1;
				/* fptr[f] is feature f's cursor; restored below */
				r->ftrees[r->fptr[f]++] = t;
			}
		}
		for (j = 0; j < trees[t].count; j++)
			seen[nd[j].split & TD_NODE_FEATURE_MASK] = 0;
	}
	/* The cursors ended at each feature's end: shift back. */
	for (j = h->num_features; j > 0; j--)
		r->fptr[j] = r->fptr[j - 1];
	r->fptr[0] = 0;
	st = TD_OK;
done:
	tdc_free(marks);
	tdc_free(stack);
	tdc_free(seen);
	if (st != TD_OK)
		td_reduce_free(r);
	return st;
}

void
td_reduce_free(td_reduced *r)
{
	tdc_free(r->rtrees);
	tdc_free(r->rnodes);
	tdc_free(r->fptr);
	tdc_free(r->ftrees);
	memset(r, 0, sizeof(*r));
}

/* Bytes the four sections take, each 8-byte aligned. */
uint64_t
td_reduce_bytes(const td_image_header *h, const td_reduced *r)
{
	return TD_ALIGN8((uint64_t) h->num_trees * sizeof(td_image_tree)) +
		   TD_ALIGN8((uint64_t) r->num_rnodes * sizeof(td_image_node)) +
		   TD_ALIGN8(((uint64_t) h->num_features + 1) * sizeof(uint32_t)) +
		   TD_ALIGN8((uint64_t) r->num_ftrees * sizeof(uint32_t));
}

/* Write the sections at off (zeroed memory) and record them in h. */
void
td_reduce_write(td_image_header *h, char *img, uint64_t off, const td_reduced *r)
{
	h->rtrees_off = off;
	memcpy(img + off, r->rtrees, (size_t) h->num_trees * sizeof(td_image_tree));
	off += TD_ALIGN8((uint64_t) h->num_trees * sizeof(td_image_tree));
	h->rnodes_off = off;
	h->num_rnodes = r->num_rnodes;
	memcpy(img + off, r->rnodes, (size_t) r->num_rnodes * sizeof(td_image_node));
	off += TD_ALIGN8((uint64_t) r->num_rnodes * sizeof(td_image_node));
	h->fptr_off = off;
	memcpy(img + off, r->fptr, ((size_t) h->num_features + 1) * sizeof(uint32_t));
	off += TD_ALIGN8(((uint64_t) h->num_features + 1) * sizeof(uint32_t));
	h->ftrees_off = off;
	h->num_ftrees = r->num_ftrees;
	if (r->num_ftrees > 0)
		memcpy(img + off, r->ftrees, (size_t) r->num_ftrees * sizeof(uint32_t));
}

static bool
same(const char *img, uint64_t off, uint64_t total, const void *want, uint64_t bytes)
{
	return off % TD_IMAGE_ALIGN == 0 && off <= total && bytes <= total - off &&
		   (bytes == 0 || memcmp(img + off, want, (size_t) bytes) == 0);
}

/*
 * Check an image's sections against a derivation from its checked node
 * table: returns false when they differ or lie outside the image.
 */
td_status
td_reduce_check(const void *image, const td_image_numeric *numeric,
				const td_image_tree *trees, const td_image_node *nodes, bool *ok)
{
	const td_image_header *h = TD_IMG_HDR(image);
	const char			  *img = (const char *) image;
	td_reduced			   r;
	td_status			   st;

	*ok = false;
	/* Sizes first: what the derivation allocates is bounded by the image. */
	if (!same(img, h->rtrees_off, h->total_size, NULL, 0) ||
		!same(img, h->rnodes_off, h->total_size, NULL, 0) ||
		!same(img, h->fptr_off, h->total_size, NULL, 0) ||
		!same(img, h->ftrees_off, h->total_size, NULL, 0) ||
		((uint64_t) h->num_features + 1) * sizeof(uint32_t) > h->total_size - h->fptr_off ||
		(uint64_t) h->num_rnodes * sizeof(td_image_node) > h->total_size - h->rnodes_off ||
		(uint64_t) h->num_ftrees * sizeof(uint32_t) > h->total_size - h->ftrees_off)
		return TD_OK;
	st = td_reduce_derive(h, numeric, trees, nodes, &r);
	if (st != TD_OK)
		return st;
	*ok = h->num_rnodes == r.num_rnodes && h->num_ftrees == r.num_ftrees &&
		  h->rtrees_off >= sizeof(td_image_header) && h->rnodes_off >= sizeof(td_image_header) &&
		  h->fptr_off >= sizeof(td_image_header) && h->ftrees_off >= sizeof(td_image_header) &&
		  same(img, h->rtrees_off, h->total_size, r.rtrees, (uint64_t) h->num_trees * sizeof(td_image_tree)) &&
		  same(img, h->rnodes_off, h->total_size, r.rnodes, (uint64_t) r.num_rnodes * sizeof(td_image_node)) &&
		  same(img, h->fptr_off, h->total_size, r.fptr, ((uint64_t) h->num_features + 1) * sizeof(uint32_t)) &&
		  same(img, h->ftrees_off, h->total_size, r.ftrees, (uint64_t) r.num_ftrees * sizeof(uint32_t));
	td_reduce_free(&r);
	return TD_OK;
}
