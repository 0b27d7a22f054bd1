# Makefile — the taxi_duration extension (PGXS), and the way into every
# other build of the repository.
#
#   make                 build taxi_duration.so (the extension, linked with
#                        the model, statistics, AWS and common libraries)
#   make install         install it, the SQL script and the default bundle
#   make installcheck    pg_regress (tests/regress/) on a throwaway instance,
#                        every SQL area: predict, jsonb, model management,
#                        trigger, decoder, monitoring (not as root)
#   make lib-test        every library's unit tests (make -C lib/<name> test)
#   make test            every test (tests/run_all.sh; root is fine)
#   make lint            code-quality gates: clang-format, ruff, cppcheck, clang-tidy
#                        (tests/ops/lint.sh; tools: tests/ops/install-lint.sh)
#   make format          apply clang-format, ruff format and ruff check --fix
#
# Compilers and warnings for everything: lib/build.mk.  The Lambda and the
# forwarder build with make -C lambda and make -C forwarder.

EXTENSION = taxi_duration
MODULE_big = taxi_duration
EXTVERSION = 0.1.0

include lib/build.mk

# The extension by subsystem; each folder's header says what it holds.
EXT_SOURCES = src/taxi_duration.c $(wildcard src/glue/*.c) $(wildcard src/serving/*.c) \
	$(wildcard src/monitoring/*.c) $(wildcard src/decoding/*.c)
OBJS = $(EXT_SOURCES:.c=.o)

# The libraries it links (static, position-independent: only the objects it
# calls end up in the .so).
EXT_LIBS = model stats aws common
EXT_LIB_ARCHIVES = $(foreach l,$(EXT_LIBS),$(call TD_LIB_A,$(l)))
SHLIB_LINK = $(EXT_LIB_ARCHIVES) $(sort $(foreach l,$(EXT_LIBS),$(TD_LDLIBS_$(l))))

# The extension script is assembled from the parts in sql/install/, in order.
SQL_PARTS = sql/install/serving.sql sql/install/monitoring.sql sql/install/drift_report.sql \
	sql/install/monitors.sql sql/install/profiles.sql
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DEFAULT_BUNDLE = python/taxi_duration_ml/default_bundle.json

REGRESS = $(patsubst tests/regress/sql/%.sql,%,$(sort $(wildcard tests/regress/sql/*.sql)))
# REGRESS_OUT: where results and the temporary instance go (run_all.sh
# points it outside the tree).
REGRESS_OUT ?= tests/regress
REGRESS_OPTS = --temp-instance=$(REGRESS_OUT)/tmp_check --temp-config=tests/regress/regress.conf \
	--inputdir=tests/regress --outputdir=$(REGRESS_OUT) --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/src $(foreach l,$(EXT_LIBS),-I$(call TD_LIB_DIR,$(l))) $(TD_WARN_PGXS)

EXTRA_CLEAN = tests/regress/tmp_check tests/regress/results tests/regress/regression.diffs \
	tests/regress/regression.out $(foreach l,$(TD_LIB_ORDER),lib/$(l)/build)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(shlib): $(EXT_LIB_ARCHIVES)

# Each library by its own Makefile (with the flags of lib/build.mk).
$(EXT_LIB_ARCHIVES): FORCE
	$(MAKE) -C $(TD_ROOT)/lib/$(patsubst libtd%.a,%,$(notdir $@)) lib

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $(SQL_PARTS) > $@

# The default bundle goes next to the extension's SQL script.
install: install-default-bundle

install-default-bundle: $(DEFAULT_BUNDLE)
	$(MKDIR_P) '$(DESTDIR)$(datadir)/extension/$(EXTENSION)'
	$(INSTALL_DATA) $(DEFAULT_BUNDLE) '$(DESTDIR)$(datadir)/extension/$(EXTENSION)/default_bundle.json'

lib-test:
	@set -e; for l in $(TD_LIB_ORDER); do $(MAKE) -C lib/$$l test; done

test:
	bash tests/run_all.sh

lint:
	bash tests/ops/lint.sh

format:
	bash tests/ops/lint.sh --fix

.PHONY: FORCE install-default-bundle lib-test test lint format
