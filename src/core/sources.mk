# src/core/sources.mk — the pure-C core's sources, relative to the
# repository root.  Included by the top-level PGXS Makefile and the Lambda
# build; src/core/Makefile builds them standalone.
TD_CORE_SOURCES = \
	src/core/td_alloc.c \
	src/core/td_error.c \
	src/core/td_json.c \
	src/core/td_json_strict.c \
	src/core/td_cancel.c \
	src/core/td_members.c \
	src/core/td_bundle.c \
	src/core/td_xgboost.c \
	src/core/td_linear.c \
	src/core/td_image.c \
	src/core/td_predict.c \
	src/core/td_ride.c \
	src/core/td_timestamp.c \
	src/core/td_special.c \
	src/core/td_ks.c \
	src/core/td_drift_tests.c \
	src/core/td_regression.c \
	src/core/td_value_map.c

TD_CORE_HEADERS = \
	src/core/td_core.h \
	src/core/td_internal.h \
	src/core/td_image_layout.h \
	src/core/td_drift.h \
	src/core/td_value_map.h
