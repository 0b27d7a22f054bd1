# Makefile — builds and installs the taxi_duration extension (PGXS).
#
#   make                 build taxi_duration.so (core + extension)
#   make install         install it, the SQL script and the default bundle
#   make installcheck    pg_regress on a throwaway cluster (not as root)
#   make core-test       the pure-C core's unit tests (+ sanitizers, fuzzing:
#                        core-sanitize, core-fuzz)
#   make fetch-test      the fetch library against real moto and MLflow servers
#   make test            every test (tests/run_all.sh; root is fine)
#   make lint            code-quality gates: clang-format, ruff, cppcheck, clang-tidy
#                        (tests/ops/lint.sh; tools: tests/ops/install-lint.sh)
#   make format          apply clang-format, ruff format and ruff check --fix

EXTENSION = taxi_duration
MODULE_big = taxi_duration
EXTVERSION = 0.1.0

include src/core/sources.mk
include src/fetch/sources.mk

EXT_SOURCES = $(wildcard src/*.c)
OBJS = $(EXT_SOURCES:.c=.o) $(TD_CORE_SOURCES:.c=.o) $(TD_FETCH_SOURCES:.c=.o)

# The extension script is assembled from the parts in sql/install/, in order.
SQL_PARTS = sql/install/serving.sql sql/install/monitoring.sql sql/install/drift_report.sql \
	sql/install/monitors.sql
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DEFAULT_BUNDLE = model/default_bundle.json

REGRESS = predict jsonb model_management trigger decoder
REGRESS_OPTS = --temp-instance=./tmp_check --temp-config=tests/regress.conf \
	--inputdir=. --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config
# -Wextra -Werror on our code; PostgreSQL's own headers have unused parameters
PG_CPPFLAGS = -I$(srcdir)/src/core -I$(srcdir)/src/fetch -Wextra -Werror -Wno-unused-parameter
SHLIB_LINK = -lcjson -lcurl -lcrypto

EXTRA_CLEAN = tmp_check results regression.diffs regression.out

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $(SQL_PARTS) > $@

# The default bundle goes next to the extension's SQL script.
install: install-default-bundle

install-default-bundle: $(DEFAULT_BUNDLE)
	$(MKDIR_P) '$(DESTDIR)$(datadir)/extension/$(EXTENSION)'
	$(INSTALL_DATA) $(DEFAULT_BUNDLE) '$(DESTDIR)$(datadir)/extension/$(EXTENSION)/default_bundle.json'

core-test:
	$(MAKE) -C src/core test

core-sanitize:
	$(MAKE) -C src/core test-sanitize

core-fuzz:
	$(MAKE) -C src/core fuzz-run

fetch-test:
	$(MAKE) -C src/fetch test

test:
	bash tests/run_all.sh

.PHONY: lint format

lint:
	bash tests/ops/lint.sh

format:
	bash tests/ops/lint.sh --fix

.PHONY: install-default-bundle core-test core-sanitize core-fuzz fetch-test test
