# SSE parser: C unit tests, fuzzing, benchmark. Included by the Makefile;
# build products go under ctest/build, fuzz/build and bench/build.
LUA          ?= lua5.4
CLANG        ?= clang
LUA_CFLAGS   ?= $(shell pkg-config --cflags lua5.4)
FUZZ_SECONDS ?= 30
SSE_WARN     := -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -pedantic
SSE_SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# The Lua module the benchmark loads, and the cpath that finds it.
SSE_BENCH_MODULE ?= homie/sse.so
SSE_BENCH_CPATH  ?= ./?.so
SSE_BENCH_MB     ?= 100

.PHONY: ctest fuzz bench-sse

ctest/build/test_sse: ctest/test_sse.c csrc/sse.c csrc/sse.h
	@mkdir -p $(@D)
	$(CC) -O2 -g $(SSE_WARN) -o $@ ctest/test_sse.c csrc/sse.c

ctest/build/test_sse_san: ctest/test_sse.c csrc/sse.c csrc/sse.h
	@mkdir -p $(@D)
	$(CC) -O1 -g $(SSE_WARN) $(SSE_SAN) -o $@ ctest/test_sse.c csrc/sse.c

ctest: ctest/build/test_sse ctest/build/test_sse_san
	ctest/build/test_sse
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest/build/test_sse_san

fuzz/build/fuzz_sse: fuzz/fuzz_sse.c csrc/sse.c csrc/sse.h
	@mkdir -p $(@D)
	$(CLANG) -O1 -g $(SSE_WARN) $(SSE_SAN) -fsanitize=fuzzer -o $@ fuzz/fuzz_sse.c csrc/sse.c

# New inputs go to fuzz/build/corpus; fuzz/corpus holds the committed seeds.
fuzz: fuzz/build/fuzz_sse
	@mkdir -p fuzz/build/corpus
	fuzz/build/fuzz_sse -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	  fuzz/build/corpus fuzz/corpus

bench/build/sse_engine_bench: bench/sse_engine_bench.c csrc/sse.c csrc/sse.h
	@mkdir -p $(@D)
	$(CC) -O2 $(SSE_WARN) -o $@ bench/sse_engine_bench.c csrc/sse.c

bench-sse: bench/build/sse_engine_bench bench/build/sse_values.so $(SSE_BENCH_MODULE)
	$(LUA) bench/sse_bench.lua --mb $(SSE_BENCH_MB) --cpath '$(SSE_BENCH_CPATH)' \
	  --engine bench/build/sse_engine_bench --node-dir bench/node

# The floor under the Lua parser: its values made without parsing (bench/sse_values.c).
bench/build/sse_values.so: bench/sse_values.c csrc/lbind.h csrc/compat.h
	@mkdir -p $(@D)
	$(CC) -O2 $(WARN) $(LUA_CFLAGS) -I csrc -fPIC -shared -o $@ $<
