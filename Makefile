# Entry points for people and CI. `make run` and `make test` install what is
# missing (Debian packages), build, and run; both are no-ops when up to date.

BUILDDIR ?= build
SANDIR ?= build-san
RELDIR ?= build-release
CONFIG ?= docs/examples/parley.yaml

# Everything the build and the test suite need, by Debian package name.
DEB_BUILD := gcc make meson ninja-build pkg-config python3 \
	libicu-dev libcurl4-openssl-dev libcjson-dev libnghttp2-dev libyaml-dev \
	libuv1-dev libssl-dev libhttp-parser-dev liblmdb-dev libhiredis-dev
# Offline translation (Apertium) and the pairs the example and the tests use;
# add more pairs here or install them by hand (docs/translation.md).
DEB_RUN := apertium apertium-eng-spa apertium-es-pt
DEB_TEST := libcmocka-dev curl nghttp2-client unicode-data bzip2 python3-yaml nodejs openssl \
	$(DEB_RUN)

.PHONY: all run test deps deps-run deps-test build build-san clean

all: build

deps:
	@tests/tools/apt-ensure $(DEB_BUILD)

deps-run:
	@tests/tools/apt-ensure $(DEB_BUILD) $(DEB_RUN)

deps-test:
	@tests/tools/apt-ensure $(DEB_BUILD) $(DEB_TEST)

$(BUILDDIR)/build.ninja:
	meson setup $(BUILDDIR) --buildtype=debugoptimized -Dtests=true

# A release build (-O3) is only compiled by the suite: the optimizer's
# deeper analysis finds warnings (-Werror) that -O2 does not.
$(RELDIR)/build.ninja:
	meson setup $(RELDIR) --buildtype=release

$(SANDIR)/build.ninja:
	meson setup $(SANDIR) --buildtype=debug -Dtests=true \
		-Db_sanitize=address,undefined -Db_lundef=false

build: deps $(BUILDDIR)/build.ninja
	ninja -C $(BUILDDIR)

build-san: deps-test $(SANDIR)/build.ninja
	ninja -C $(SANDIR)

# Runs the gateway in the foreground with the example configuration; with
# no LLM configured (PARLEY_LLM_URL unset) it translates with Apertium.
run: build deps-run
	PARLEY_TRANSLATE_FIRST=$${PARLEY_TRANSLATE_FIRST:-$${PARLEY_LLM_URL:+llm}} \
		exec $(BUILDDIR)/parley serve -c $(CONFIG)

# The whole suite, plain and under ASan+UBSan, then one summary line; the
# release build must compile too.
test: deps-test $(BUILDDIR)/build.ninja $(SANDIR)/build.ninja $(RELDIR)/build.ninja
	ninja -C $(BUILDDIR)
	ninja -C $(SANDIR)
	ninja -C $(RELDIR)
	-meson test -C $(BUILDDIR) --print-errorlogs --no-rebuild
	-ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		meson test -C $(SANDIR) --print-errorlogs --no-rebuild
	@python3 tests/tools/summarize.py $(BUILDDIR) $(SANDIR)

clean:
	rm -rf $(BUILDDIR) $(SANDIR) $(RELDIR)
