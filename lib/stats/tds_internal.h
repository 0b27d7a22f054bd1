/*
 * tds_internal.h — what the statistics library's .c files share and
 * nowhere else: setting errors with the library's standard messages.
 */
#ifndef TDS_INTERNAL_H
#define TDS_INTERNAL_H

#include "tds_stats.h"

const char *tds_status_message(tds_status status);
tds_status	tds_error_nomem(tds_error *err);

#define tds_error_set(err, status, ...) \
	((void) tdc_error_set((err), (status), tds_status_message(status), __VA_ARGS__))

#endif /* TDS_INTERNAL_H */
