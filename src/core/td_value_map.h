/*
 * td_value_map.h — exact per-column value counts for the drift aggregates.
 *
 * A value map counts, for every distinct value of a column, how often it
 * occurs in the reference window and in the current window, plus how many
 * values of each window were missing (NULL, NaN, ±Infinity: Evidently drops
 * them all).  It is the whole state of a drift aggregate: maps built by
 * parallel workers are serialized, merged and finally sorted into the
 * td_drift_column the tests read.  Keys are either numbers (finite doubles,
 * -0 folded into 0) or byte strings; memory is O(distinct values).
 */
#ifndef TD_VALUE_MAP_H
#define TD_VALUE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_core.h"
#include "td_drift.h"

typedef struct td_value_map td_value_map;

/* Bytes of the longest text key accepted (longer keys: TD_ERR_LIMIT). */
#define TD_VALUE_MAP_MAX_TEXT_KEY 65535

/* A new, empty map of number keys or text keys; NULL when out of memory. */
td_value_map *td_value_map_create(bool text_keys);
void		  td_value_map_free(td_value_map *map);

bool td_value_map_has_text_keys(const td_value_map *map);

/*
 * Count a number (NaN and ±Infinity count as missing) or a text value in
 * the reference (reference = true) or current window.  TD_ERR_NOMEM when
 * the map cannot grow (the map is unchanged), TD_ERR_INPUT when the key
 * kind does not match the map.
 */
td_status td_value_map_add_number(td_value_map *map, double value, bool reference);
td_status td_value_map_add_text(td_value_map *map, const char *value, size_t len,
								bool reference);
void	  td_value_map_add_missing(td_value_map *map, bool reference);

/* Totals: counted values and missing values per window, distinct keys. */
int64_t td_value_map_count(const td_value_map *map, bool reference);
int64_t td_value_map_missing(const td_value_map *map, bool reference);
size_t	td_value_map_distinct(const td_value_map *map);

/* A copy (NULL when out of memory); a sorted run is copied as it is. */
td_value_map *td_value_map_clone(const td_value_map *map);

/*
 * into += from.  Both maps must have the same key kind.  Two sorted runs
 * (decoded from parallel workers) merge in one linear pass.
 */
td_status td_value_map_merge(td_value_map *into, const td_value_map *from,
							 td_error *err);

/*
 * A self-describing byte string (one td_malloc block) and back.  Decoding
 * checks every length and count, so any byte string is safe to decode.
 */
td_status td_value_map_serialize(const td_value_map *map, char **out,
								 size_t *len, td_error *err);
td_status td_value_map_deserialize(const char *data, size_t len,
								   td_value_map **out, td_error *err);

/*
 * The map as the tests read it.  Number maps give values sorted ascending;
 * text maps give keys in byte order (text_keys_out, when non-NULL, receives
 * pointers into the map and text_lens_out their lengths).  The arrays are
 * one td_malloc block each; free them with td_value_map_free_column.  The
 * column stays valid while the map is neither changed nor freed.
 */
td_status td_value_map_column(const td_value_map *map, bool numerical,
							  td_drift_column *column,
							  const char	***text_keys_out,
							  uint32_t **text_lens_out, td_error *err);
void	  td_value_map_free_column(td_drift_column *column,
								   const char **text_keys, uint32_t *text_lens);

#endif /* TD_VALUE_MAP_H */
