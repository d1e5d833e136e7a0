# ----------------------------------------------------------------------------
# Makefile for tdgen (PGXS)
#
#     make && make install    build and install into the server of PG_CONFIG
#                             (the extension and the CI client tdgen_refresh)
#     make demo               the demo on a throwaway cluster (tools/demo.sh)
#     make test               every test suite on a throwaway cluster (tools/test.sh)
# ----------------------------------------------------------------------------

EXTENSION = tdgen
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = tdgen
OBJS = \
	src/copy.o \
	src/dict.o \
	src/dict_data.o \
	src/entry.o \
	src/jobs.o \
	src/keys.o \
	src/load.o \
	src/prf.o \
	src/registry.o \
	src/remote.o \
	src/scan_values.o \
	src/subset.o \
	src/tdgen.o \
	src/transform_fake.o \
	src/transform_fpe.o \
	src/transform_hash.o \
	src/transform_id.o \
	src/transform_json.o \
	src/transform_number.o \
	src/transform_text.o \
	src/transform_time.o

# The install script is assembled from schema/, in this order: each part
# may use what the parts before it define.
SCHEMA_PARTS = \
	schema/head.sql \
	schema/transforms.sql \
	schema/catalog.sql \
	schema/source.sql \
	schema/production.sql \
	schema/environment.sql \
	schema/rules.sql \
	schema/scan.sql \
	schema/gate.sql \
	schema/shadow.sql \
	schema/run.sql \
	schema/schedule.sql \
	schema/plan.sql \
	schema/subset.sql \
	schema/refresh.sql

DATA_built = $(EXTENSION)--$(EXTVERSION).sql

REGRESS = \
	install \
	fdw_loopback \
	transform_fpe \
	transform_values \
	transform_properties \
	transform_registry \
	catalog_rules \
	security_catalog \
	load_rows \
	run_jobs

PG_CONFIG ?= pg_config

# Warnings are errors unless WERROR= is given on the command line.  Unused
# parameters are allowed: PostgreSQL's own inline functions have them, and
# every V1 function receives fcinfo whether it reads arguments or not.
WERROR ?= -Werror
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter $(WERROR)
PG_CPPFLAGS = -DTDGEN_VERSION=\"$(EXTVERSION)\" -I$(libpq_srcdir)
SHLIB_LINK = -lsodium -lcrypto
SHLIB_LINK_INTERNAL = $(libpq)

EXTRA_CLEAN = src/dict_data.c results regression.diffs regression.out test/isolation/output

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(SCHEMA_PARTS)
	cat $^ > $@

# The CI client (bin/): a program over libpq, installed beside the
# server's own.
CLIENT = bin/tdgen_refresh
all: $(CLIENT)
$(CLIENT): bin/tdgen_refresh.c
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g -Wall -Wextra $(WERROR) -I$(includedir) -o $@ $< -L$(libdir) -lpq
install: install-client
install-client: $(CLIENT) installdirs
	$(INSTALL_PROGRAM) $(CLIENT) '$(DESTDIR)$(bindir)/'
EXTRA_CLEAN += $(CLIENT)
.PHONY: install-client

# dictionaries are compiled in from data/
src/dict_data.c: tools/gen_dict.pl data/first_names.tsv data/last_names.tsv data/places.tsv data/states.tsv
	perl tools/gen_dict.pl data > $@.tmp && mv $@.tmp $@

.PHONY: demo test
demo:
	bash tools/demo.sh
test:
	bash tools/test.sh
