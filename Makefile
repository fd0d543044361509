# homie: build the C core, run the tests, run the demo. Thin on purpose:
# flags come from pkg-config, packages from scripts/install-deps.
LUA      ?= lua5.4
LUA_PC   ?= lua5.4
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -std=c99 -D_POSIX_C_SOURCE=200809L
LUA_CFLAGS  ?= $(shell pkg-config --cflags $(LUA_PC) 2>/dev/null)
CURL_CFLAGS ?= $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS   ?= $(shell pkg-config --libs libcurl 2>/dev/null)
HDRS     := $(wildcard csrc/*.h)
BUSTED   ?= $(LUA) /usr/bin/busted
include mk/sources.mk

.PHONY: all build deps deps-test test busted spec portable rock demo live clean clean-core asan valgrind check bench soak \
  links matrix matrix-build compat sources mutate mutants-check contract

all: build
build: homie/sse.so homie/curl.so

# $(call module,LUA_CFLAGS,SOURCES,LIBS): one shared object from its sources.
define module
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared $(1) -o $@ $(2) $(3)
endef

homie/sse.so: $(SSE_SRCS) $(HDRS)
	$(call module,$(LUA_CFLAGS),$(SSE_SRCS))
homie/curl.so: $(CURL_SRCS) $(HDRS)
	$(call module,$(LUA_CFLAGS) $(CURL_CFLAGS),$(CURL_SRCS),$(CURL_LIBS))

# Each C module and its sources, one line each (scripts/check-rock compares
# them with the rockspec's).
sources:
	@echo "homie.sse $(SSE_SRCS)"
	@echo "homie.curl $(CURL_SRCS)"

# homie.sse must not pull libcurl in (a runtime with its own sockets loads it).
links: build
	scripts/check-links homie/sse.so

deps:
	@scripts/install-deps demo
deps-test:
	@scripts/install-deps test
deps-bench:
	@scripts/install-deps bench

# The one command users run: everything a change must pass.
test: deps-test
	$(MAKE) build
	$(MAKE) links
	$(MAKE) mutants-check
	$(MAKE) ctest
	$(MAKE) rock
	scripts/run-busted $(BUSTED)

busted: build
	scripts/run-busted $(BUSTED)

# One spec file (or folder) with the right interpreter: make spec F=spec/unit/bounds_spec.lua
F ?= spec
spec: build
	scripts/run-busted $(BUSTED) $(F)

# Both modules built for every Lua Debian ships (build/<lua>/homie/*.so),
# then under each interpreter the unit specs and one real conversation.
MATRIX ?= lua5.1 lua5.2 lua5.3 lua5.4 luajit
matrix-build: $(foreach l,$(MATRIX),build/$(l)/homie/sse.so build/$(l)/homie/curl.so)
build/%/homie/sse.so: $(SSE_SRCS) $(HDRS)
	$(call module,$(shell pkg-config --cflags $*),$(SSE_SRCS))
build/%/homie/curl.so: $(CURL_SRCS) $(HDRS)
	$(call module,$(shell pkg-config --cflags $*) $(CURL_CFLAGS),$(CURL_SRCS),$(CURL_LIBS))
matrix: deps-test
	$(MAKE) matrix-build
	scripts/matrix $(MATRIX)
# The old name.
compat: matrix

# The portable poll() path of transport.c (what macOS and the BSDs build),
# built here with -DHOMIE_NO_EPOLL and put through the curl transport's specs.
PORTABLE_SPECS ?= spec/integration/transport_spec.lua spec/integration/curl_sched_spec.lua spec/integration/curl_transport_spec.lua \
  spec/integration/client_spec.lua spec/integration/stream_spec.lua spec/integration/reliability_spec.lua spec/integration/connect_timeout_spec.lua \
  spec/integration/curl_h2_spec.lua
build/portable/homie/sse.so: $(SSE_SRCS) $(HDRS)
	$(call module,$(LUA_CFLAGS),$(SSE_SRCS))
build/portable/homie/curl.so: $(CURL_SRCS) $(HDRS)
	$(call module,$(LUA_CFLAGS) $(CURL_CFLAGS) -DHOMIE_NO_EPOLL,$(CURL_SRCS),$(CURL_LIBS))
portable: deps-test build/portable/homie/sse.so build/portable/homie/curl.so
	scripts/run-busted $(BUSTED) --cpath="build/portable/?.so" $(PORTABLE_SPECS)

# luarocks make into a throwaway tree proves the rockspec installs a working module.
rock:
	scripts/check-rock

demo: deps
	$(MAKE) build
	scripts/demo

# The same emulator, showing a reply as it streams in (examples/live.lua).
live: deps
	$(MAKE) build
	scripts/demo examples/live.lua

# The whole busted suite against a core built with ASan+UBSan, hosted by a
# Lua interpreter linked with the same runtime (ctest/lua_host.c).
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ctest/build/lua_host_san: ctest/lua_host.c
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) $(WARN) $(LUA_CFLAGS) -o $@ $< $(shell pkg-config --libs $(LUA_PC)) -lm
# scripts/run-asan checks leaks only where LeakSanitizer can work (a probe
# that leaks on purpose tells), and says plainly when it cannot.
ctest/build/lsan_probe: ctest/lsan_probe.c
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) $(WARN) -o $@ $<
asan: deps-test ctest/build/lua_host_san ctest/build/lsan_probe
	$(MAKE) clean-core
	$(MAKE) build CFLAGS="$(SAN_FLAGS)"
	scripts/run-asan ctest/build/lsan_probe ctest/build/lua_host_san /usr/bin/busted; rc=$$?; \
	  $(MAKE) clean-core; exit $$rc

valgrind: deps-test
	$(MAKE) build
	HOMIE_VALGRIND=1 scripts/run-busted valgrind --quiet --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite --suppressions=scripts/valgrind.supp $(BUSTED)

check:
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	  --std=c99 --inline-suppr -D__GNUC__ -DLUA_VERSION_NUM=504 -I csrc csrc

# LaunchDarkly's SSE contract suite against homie's streams, on the curl
# transport and inside nginx (spec/contract/). The harness is not in the
# repository: without ../shared/tools/sse-contract-harness this says so and passes.
contract: build
	LUA_PATH="./lua/?.lua;./lua/?/init.lua;./?.lua;;" LUA_CPATH="./?.so;;" $(LUA) spec/contract/run.lua

# Benchmarks (mk/bench.mk) and the soak print their numbers; none is part of `make test`.
SOAK_ARGS ?=
soak: build
	$(LUA) bench/soak.lua $(SOAK_ARGS)

clean-core:
	rm -f homie/sse.so homie/curl.so

clean: clean-core
	rm -rf homie build fuzz/build ctest/build bench/build bench/node/node_modules

-include mk/sse.mk
-include mk/bench.mk
-include mk/ngx.mk
-include mk/docs.mk

# Mutation testing (scripts/mutate.lua, scripts/mutants.lua): every mutant
# must be killed by the specs it names. MUTATE_SAMPLE=N runs a window picked
# by the commit's hash, so one commit always gets the same answer.
# mutants-check (part of `make test`, about a second) fails the commit that
# moved code out from under a mutant, instead of some later day's CI.
MUTATE_SAMPLE ?=
mutants-check:
	MUTATE_CHECK=1 $(LUA) scripts/mutate.lua
mutate: build
	MUTATE_SAMPLE=$(MUTATE_SAMPLE) $(LUA) scripts/mutate.lua
