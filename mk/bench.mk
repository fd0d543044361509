# `make bench`: every workload, one table (bench/run prints it; see
# bench/README.md). Included by the Makefile. Node's peer is installed by
# bench/sse_bench.lua on first run.
BENCH_ARGS ?=
CHECK ?=

.PHONY: bench bench-build bench-relay

bench/build/curl_loop: bench/curl_loop.c
	@mkdir -p $(@D)
	$(CC) -O2 $(WARN) $(CURL_CFLAGS) -o $@ $< $(CURL_LIBS)

# The floor under the concurrent asks: the same transfers in C (bench/asks_bench.lua runs it).
bench/build/asks_loop: bench/asks_loop.c
	@mkdir -p $(@D)
	$(CC) -O2 $(WARN) $(CURL_CFLAGS) -o $@ $< $(CURL_LIBS)

bench-build: build bench/build/curl_loop bench/build/asks_loop bench/build/sse_engine_bench bench/build/sse_values.so ngx-build

bench: deps-bench
	$(MAKE) bench-build
	LUA=$(LUA) CHECK=$(CHECK) bench/run $(BENCH_ARGS)

# The relay's two rows alone (bench/relay_bench.lua): relay_events against
# nginx's proxy_pass in one worker, events/s and memory per open stream.
bench-relay: ngx-build
	bash -c 'ulimit -Sn "$$(ulimit -Hn)"; exec $(LUA) bench/relay_bench.lua $(BENCH_ARGS)'
