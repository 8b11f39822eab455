# Makefile for codeexec: the backend library (PGXS MODULE_big) and the
# sandbox helper executable, which links CPython and libseccomp but no
# PostgreSQL code and so is built by its own rules below.

EXTENSION = codeexec
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" codeexec.control)

MODULE_big = codeexec
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/backend/*.c))) src/common/wire.o
# The extension script is assembled from src/sql/*.sql in name order, one
# file per concern, so each part of the SQL surface lives beside its peers.
DATA_built = codeexec--$(EXTVERSION).sql
# Earlier versions' install scripts, frozen, and the updates from them.
DATA = $(sort $(wildcard src/sql/versions/*.sql))
PGFILEDESC = "codeexec - run untrusted Python in a sandboxed helper"

REGRESS = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=codeexec

HELPER = codeexec-helper
PYTHON3 ?= /usr/bin/python3
PYTHON_CONFIG ?= /usr/bin/python3-config
PYTHON_HOME := $(shell $(PYTHON3) -c 'import sys; print(sys.base_prefix)')

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
HELPER_BINDIR := $(shell $(PG_CONFIG) --bindir)

PG_CPPFLAGS = -Isrc/common -Isrc/backend \
	-DCODEEXEC_HELPER_PATH='"$(HELPER_BINDIR)/$(HELPER)"'
SHLIB_LINK = -lpcre2-8

EXTRA_CLEAN = $(HELPER) src/helper/*.o src/helper/embedded_py.c

include $(PGXS)

# ---- the helper executable (untrusted side) ----
HELPER_SRCS = $(sort $(wildcard src/helper/*.c)) src/helper/embedded_py.c
HELPER_OBJS = $(patsubst %.c,%.o,$(filter-out src/helper/embedded_py.c,$(HELPER_SRCS))) \
	src/helper/embedded_py.o src/helper/wire_helper.o
HELPER_PY = $(sort $(wildcard src/helper/py/*.py))
HELPER_CFLAGS = -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-D_GNU_SOURCE -fstack-protector-strong -Isrc/common -Isrc/helper \
	$(shell $(PYTHON_CONFIG) --includes) -DCODEEXEC_PYTHON_HOME='"$(PYTHON_HOME)"'
HELPER_LIBS = $(shell $(PYTHON_CONFIG) --embed --ldflags) -lseccomp -Wl,-z,relro,-z,now

all: $(HELPER)

$(HELPER): $(HELPER_OBJS)
	$(CC) -o $@ $(HELPER_OBJS) $(HELPER_LIBS)

src/helper/%.o: src/helper/%.c $(wildcard src/helper/*.h) src/common/wire.h
	$(CC) $(HELPER_CFLAGS) -c -o $@ $<

src/helper/wire_helper.o: src/common/wire.c src/common/wire.h
	$(CC) $(HELPER_CFLAGS) -c -o $@ $<

src/helper/embedded_py.c: $(HELPER_PY) src/helper/embed_py.py
	$(PYTHON3) src/helper/embed_py.py $(HELPER_PY) > $@

$(OBJS): $(wildcard src/backend/*.h) src/common/wire.h

codeexec--$(EXTVERSION).sql: $(sort $(wildcard src/sql/*.sql))
	( echo '-- generated from src/sql/*.sql; do not edit'; \
	  echo '\\echo Use "CREATE EXTENSION codeexec" to load this file. \\quit'; \
	  for f in $^; do echo; echo "-- $$f"; cat $$f; done ) > $@

install: install-helper
install-helper: $(HELPER)
	$(MKDIR_P) '$(DESTDIR)$(HELPER_BINDIR)'
	$(INSTALL_PROGRAM) $(HELPER) '$(DESTDIR)$(HELPER_BINDIR)/$(HELPER)'

uninstall: uninstall-helper
uninstall-helper:
	rm -f '$(DESTDIR)$(HELPER_BINDIR)/$(HELPER)'

.PHONY: install-helper uninstall-helper
