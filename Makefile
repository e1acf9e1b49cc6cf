# Thin front for CMake: the commands people type.
#   make        build build/librill.{so,a}, build/rill, build/rill-broker
#   make test   unit + interop tests, then the suite again under ASan+UBSan
#   make demo   start a throw-away rill-broker and run the examples against it
#   make bench  side-by-side benchmarks -> bench/RESULTS.md
#   make fuzz   libFuzzer targets, each for a bounded time
JOBS ?= 2
FUZZ_SECONDS ?= 30
CMAKE_FLAGS ?=

.PHONY: all build deps test test-fast test-asan demo bench fuzz install clean format

all: build

deps:
	@sh scripts/deps.sh --with-node

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j$(JOBS) -- --no-print-directory

build-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRILL_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j$(JOBS) -- --no-print-directory

test: build build-asan
	cd build && ctest --output-on-failure -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

test-fast: build
	cd build && ctest --output-on-failure -j$(JOBS)

demo: build
	@sh scripts/demo.sh

bench: build
	@sh bench/run.sh

fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DRILL_FUZZ=ON -DRILL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-fuzz -j$(JOBS)
	@set -e; for f in build-fuzz/fuzz/fuzz_*; do \
	  name=$$(basename $$f); mkdir -p build-fuzz/corpus/$$name; \
	  echo "== $$name ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 build-fuzz/corpus/$$name \
	      tests/fuzz/corpus/$$name 2>&1 | tail -2; \
	done

install: build
	cmake --install build

format:
	clang-format -i include/*.h src/*/*.[ch] src/*/*/*.[ch] tools/*.c tools/cli/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] tests/tools/*.c tests/tools/preload/*.c examples/*.c bench/*.c

clean:
	rm -rf build build-asan build-fuzz
