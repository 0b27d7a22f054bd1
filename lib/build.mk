# lib/build.mk — the one place that says how taxi_duration's C is compiled:
# compilers, the warning set (-Werror everywhere), sanitizer and fuzzer
# flags, and where each library lives with what it links.  Included by
# every library's Makefile, the Lambda's and the forwarder's; the
# extension's PGXS Makefile takes TD_WARN_PGXS and the library list.

TD_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
CLANG ?= clang

# PostgreSQL's warning set plus -Wextra, as errors.
TD_WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wpointer-arith \
	-Wdeclaration-after-statement -Werror=vla -Wendif-labels \
	-Wformat-security -fno-strict-aliasing -fwrapv
TD_GCC_WARN := -Wimplicit-fallthrough=3 -Wcast-function-type -fexcess-precision=standard
TD_CC_WARN = $(TD_WARN) $(if $(findstring clang,$(CC)),,$(TD_GCC_WARN))
# TD_OPT sets optimisation; CPPFLAGS and LDFLAGS from the caller are kept
# (e.g. a cJSON under /usr/local in the Lambda image).
TD_OPT ?= -O2 -g
TD_CFLAGS = -std=gnu99 $(TD_OPT) -fPIC $(TD_CC_WARN) $(CPPFLAGS)

# On top of PGXS's flags (PostgreSQL's own headers have unused parameters).
TD_WARN_PGXS := -Wextra -Werror -Wno-unused-parameter

TD_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TD_SAN_CC := $(shell command -v $(CLANG) >/dev/null 2>&1 && echo $(CLANG) || echo gcc)
TD_FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

# The libraries, in link order (a library before those it depends on).
TD_LIB_ORDER := model stats aws common
TD_LIB_DIR = $(TD_ROOT)/lib/$(1)
TD_LIB_A = $(TD_ROOT)/lib/$(1)/build/libtd$(1).a
TD_LDLIBS_common := -lcjson
TD_LDLIBS_model := -lcjson -lm
TD_LDLIBS_stats := -lm
TD_LDLIBS_aws := -lcurl -lcjson -lcrypto
