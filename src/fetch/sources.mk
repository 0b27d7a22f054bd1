# src/fetch/sources.mk — the network-fetch library's sources, relative to
# the repository root.  Included by the top-level PGXS Makefile and the
# Lambda build; src/fetch/Makefile builds them standalone.  Link with
# $(TD_FETCH_LIBS).
TD_FETCH_SOURCES = \
	src/fetch/tdf_alloc.c \
	src/fetch/tdf_error.c \
	src/fetch/tdf_sha256.c \
	src/fetch/tdf_uri.c \
	src/fetch/tdf_sigv4.c \
	src/fetch/tdf_http.c \
	src/fetch/tdf_s3.c \
	src/fetch/tdf_mlflow.c \
	src/fetch/tdf_fetch.c \
	src/fetch/tdf_kinesis.c

TD_FETCH_HEADERS = \
	src/fetch/tdf_fetch.h \
	src/fetch/tdf_internal.h \
	src/fetch/tdf_kinesis.h

TD_FETCH_LIBS = -lcurl -lcjson -lcrypto
