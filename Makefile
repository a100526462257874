# kd: knowledge distillation as Unix pipes.
#
#   make            build lib/ into build/libkd.a and every tools/kd-*.c into bin/
#   make test       install what is missing (as root), then all tests in all builds
#   make check      build, then run the C unit tests and the bats tests
#   make asan       the same tests under AddressSanitizer (build-asan/)
#   make ubsan      the same tests under UndefinedBehaviorSanitizer (build-ubsan/)
#   make fuzz       every reader under libFuzzer (clang-14, build-fuzz/) for
#                   FUZZ_SECONDS (default 60) each; see tests/fuzz/
#   make bench      speed figures (see bench/; BENCH=stream or model for one
#                   part; BENCH=mpi: kd-student-mpi on 1 and 2 processes)
#   make demo       the Fashion-MNIST distillation demo (see pipelines/)
#   make install PREFIX=/usr/local   tools and man pages (MPI=1: and
#                   kd-student-mpi)
#   make MPI=1      also bin/kd-student-mpi, for `mpirun -np P` (Open MPI's
#                   mpicc; Debian libopenmpi-dev openmpi-bin); make check
#                   builds it whenever mpicc is found (MPI=0: never)
#
# Variants build into their own folders so that plain, asan and ubsan
# objects never mix: VARIANT=asan puts everything under build-asan/.

VARIANT ?=
CC      ?= cc
PREFIX  ?= /usr/local

BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)

WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wpointer-arith -Wformat=2 -Wvla
CFLAGS  ?= -O2 -g
# -fno-math-errno: sqrtf and its kind need not set errno, so that loops
# over them (Adam's update) vectorize; -fvect-cost-model=dynamic: -O3's
# cost model, under which the elementwise passes (bias and ReLU, their
# gradient, dropout's scale) vectorize behind a check that their arrays do
# not overlap, where -O2's refuses such a check (the bias and ReLU pass
# took 16% of inference). Results are unchanged: no fast-math, so no sum
# is reordered, and C11 keeps a * b + c unfused. GCC's option only: the
# fuzz build's clang goes without (VECT, set below).
KD_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(BLAS_CFLAGS) -Ilib \
            -fno-math-errno $(VECT)
LDLIBS  = -lzstd -lcsv -lz $(BLAS_LIBS) -lm -lpthread

ifeq ($(VARIANT),asan)
  SAN = -fsanitize=address -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ifeq ($(VARIANT),ubsan)
  SAN = -fsanitize=undefined -fno-sanitize-recover=all
endif
VECT = -fvect-cost-model=dynamic
# the fuzz build: everything instrumented for libFuzzer's coverage and the
# sanitizers; only tests/fuzz/fuzz_*.c link libFuzzer itself
ifeq ($(VARIANT),fuzz)
  VECT =
  CC  = clang-14
  SAN = -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
        -fno-sanitize-recover=all
endif
FUZZ_SECONDS ?= 60

# the data-parallel student: kd-student.c with -DKD_MPI (tools/kd_mpi.h),
# linked with the same libkd.a; mpicc drives $(CC)
MPICC ?= mpicc
MPI   ?=
HAVE_MPICC := $(shell command -v $(MPICC) 2>/dev/null)

ifeq ($(VARIANT),)
  B   = build
  BIN = bin
else
  B   = build-$(VARIANT)
  BIN = $(B)/bin
endif

LIB_SRC   = $(sort $(wildcard lib/*.c))
LIB_OBJ   = $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
# the command line the tools share (it prints, exits and spawns, which
# lib/ never does): tools/common/ into libkdtools.a
CMD_SRC   = $(sort $(wildcard tools/common/*.c))
CMD_OBJ   = $(CMD_SRC:tools/common/%.c=$(B)/tools/%.o)
CMD_LIBS  = $(B)/libkdtools.a $(B)/libkd.a
TOOL_SRC  = $(sort $(wildcard tools/kd-*.c))
TOOLS     = $(TOOL_SRC:tools/%.c=$(BIN)/%)
UNIT_SRC  = $(sort $(wildcard tests/unit/test_*.c))
UNITS     = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
HELPER_SRC = $(sort $(wildcard tests/helpers/*.c))
HELPERS   = $(HELPER_SRC:tests/helpers/%.c=$(B)/tests/%)
FUZZ_SRC  = $(sort $(wildcard tests/fuzz/fuzz_*.c))
REPLAYS   = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(B)/tests/replay-%)
FUZZERS   = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(B)/fuzz/fuzz_%)
MPI_TOOL  = $(BIN)/kd-student-mpi
# what make check adds: the MPI tool with MPI=1, or when mpicc is there
CHECK_MPI = $(if $(filter 1,$(MPI)),$(MPI_TOOL),$(if $(filter 0,$(MPI)),,$(if $(HAVE_MPICC),$(MPI_TOOL))))
BENCH_SRC = $(sort $(wildcard bench/*.c))
BENCHES   = $(BENCH_SRC:bench/%.c=$(B)/bench/%)
HDRS      = $(wildcard lib/*.h) $(wildcard tools/common/*.h) $(wildcard tests/unit/*.h)
CMD_CFLAGS = -Itools/common

.PHONY: all check unit asan ubsan valgrind fuzz fuzz-run test deps bench demo install clean FORCE
.DELETE_ON_ERROR:

all: $(TOOLS) $(UNITS) $(HELPERS) $(REPLAYS) $(if $(filter 1,$(MPI)),$(MPI_TOOL))

$(B)/lib/%.o: lib/%.c $(HDRS) | $(B)/lib
	$(CC) $(KD_CFLAGS) $(CFLAGS) $(SAN) -c -o $@ $<

$(B)/libkd.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/tools/%.o: tools/common/%.c $(HDRS) | $(B)/tools
	$(CC) $(KD_CFLAGS) $(CMD_CFLAGS) $(CFLAGS) $(SAN) -c -o $@ $<

$(B)/libkdtools.a: $(CMD_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BIN)/kd-%: tools/kd-%.c $(CMD_LIBS) $(HDRS) | $(BIN)
	$(CC) $(KD_CFLAGS) $(CMD_CFLAGS) $(CFLAGS) $(SAN) -o $@ $< $(CMD_LIBS) $(LDLIBS)

$(MPI_TOOL): tools/kd-student.c tools/kd_mpi.h $(CMD_LIBS) $(HDRS) | $(BIN)
	OMPI_CC="$(CC)" $(MPICC) -DKD_MPI $(KD_CFLAGS) $(CMD_CFLAGS) $(CFLAGS) $(SAN) -o $@ $< $(CMD_LIBS) $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(CMD_LIBS) $(HDRS) | $(B)/tests
	$(CC) $(KD_CFLAGS) $(CMD_CFLAGS) $(CFLAGS) $(SAN) -Itests/unit -o $@ $< $(CMD_LIBS) $(LDLIBS)

$(B)/tests/%: tests/helpers/%.c $(CMD_LIBS) $(HDRS) | $(B)/tests
	$(CC) $(KD_CFLAGS) $(CMD_CFLAGS) $(CFLAGS) $(SAN) -o $@ $< $(CMD_LIBS) $(LDLIBS)

# a fuzz target without libFuzzer: replays the inputs kept in
# tests/fuzz/regress/ in every build (tests/bats/fuzz-regress.bats)
$(B)/tests/replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(B)/libkd.a $(HDRS) | $(B)/tests
	$(CC) $(KD_CFLAGS) $(CFLAGS) $(SAN) -Itests/fuzz -o $@ $< tests/fuzz/replay.c $(B)/libkd.a $(LDLIBS)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(B)/libkd.a $(HDRS) | $(B)/fuzz
	$(CC) $(KD_CFLAGS) $(CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  -Itests/fuzz -o $@ $< $(B)/libkd.a $(LDLIBS)

$(B)/bench/%: bench/%.c $(CMD_LIBS) $(HDRS) | $(B)/bench
	$(CC) $(KD_CFLAGS) $(CMD_CFLAGS) $(CFLAGS) $(SAN) -o $@ $< $(CMD_LIBS) $(LDLIBS)

$(B)/lib $(B)/tools $(B)/tests $(B)/bench $(B)/fuzz $(BIN):
	mkdir -p $@

# The test runner counts every unit and bats test and ends with
# "N passed, N failed". KD_BIN tells the bats tests which binaries to use.
check: all $(CHECK_MPI)
	KD_BIN=$(abspath $(BIN)) KD_TESTBIN=$(abspath $(B)/tests) KD_VARIANT=$(VARIANT) bash tests/run

unit: all
	KD_BIN=$(abspath $(BIN)) KD_TESTBIN=$(abspath $(B)/tests) bash tests/run --unit-only

asan:
	$(MAKE) VARIANT=asan CFLAGS="-O1 -g" check

ubsan:
	$(MAKE) VARIANT=ubsan CFLAGS="-O1 -g" check

# make valgrind: the pipeline and stream tests with every tool under
# valgrind's memcheck (installs valgrind from Debian when missing)
valgrind: all
	bash .ci/install-deps valgrind
	KD_BIN=$(abspath $(BIN)) KD_TESTBIN=$(abspath $(B)/tests) bash tests/valgrind

# make fuzz: build the fuzz targets (and the tools that make their seeds)
# with clang-14, then run each for FUZZ_SECONDS
fuzz:
	$(MAKE) VARIANT=fuzz CFLAGS="-O1 -g" fuzz-run

fuzz-run: $(FUZZERS) $(TOOLS) $(HELPERS)
	FUZZ_DIR=$(abspath $(B)) bash tests/fuzz/run $(FUZZ_SECONDS)

# make test: the README's test command. Installs what is missing from
# Debian (as root), then runs every test in the plain, asan and ubsan
# builds and ends with the total "N passed, N failed".
test: deps
	bash tests/all

deps:
	bash .ci/install-deps

bench: all $(BENCHES) $(if $(filter mpi,$(BENCH)),$(MPI_TOOL))
	bash bench/run $(BENCH)

# make demo: the README's first command: installs what is missing (as
# root), builds, and runs the Fashion-MNIST distillation (QUICK=1: a
# 10,000-image subset in a few minutes)
demo:
	bash .ci/install-deps demo
	$(MAKE) all
	$(MAKE) -C pipelines demo

# with MPI=1, kd-student-mpi too
INSTALL_TOOLS = $(TOOLS) $(if $(filter 1,$(MPI)),$(MPI_TOOL))
install: all $(INSTALL_TOOLS)
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	for t in $(INSTALL_TOOLS); do \
	  n=$$(basename $$t); \
	  install -m 755 $$t $(DESTDIR)$(PREFIX)/bin/$$n || exit 1; \
	  help2man --no-info --no-discard-stderr -N -n "$$($$t --help | awk 'NR > 1 && !/^ / { print; exit }')" $$t \
	    > $(DESTDIR)$(PREFIX)/share/man/man1/$$n.1 || exit 1; \
	done

clean:
	rm -rf build build-asan build-ubsan build-fuzz bin
