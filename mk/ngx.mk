# OpenResty (nginx's Lua module): the LuaJIT build of homie's C modules,
# the non-blocking benchmark, the storefront demo. Included by the Makefile.
# nginx's Lua module is LuaJIT: homie.sse (and, for the blocking peer in
# the benchmark, homie.curl) are built for it under build/luajit by the
# Makefile's build/%/homie/*.so rules.
.PHONY: ngx-build bench-openresty openresty-demo

ngx-build: build/luajit/homie/sse.so build/luajit/homie/curl.so

# One nginx worker, 200 shoppers at once vs one alone; the curl peer blocks
# the worker, so it runs fewer (BENCH_OPENRESTY_ARGS="--curl-shoppers 200"
# for the full, ~100 s, figure).
BENCH_OPENRESTY_ARGS ?=
bench-openresty: deps-test ngx-build
	$(LUA) bench/openresty.lua $(BENCH_OPENRESTY_ARGS)

# The storefront (examples/openresty): emulator + the shop's nginx; prints the URL.
OPENRESTY_DEMO_PORT ?= 8080
openresty-demo: deps ngx-build
	scripts/openresty-demo --port $(OPENRESTY_DEMO_PORT)

# The storefront in headless Chromium (spec/browser): puppeteer-core from npm.
.PHONY: test-browser deps-browser
deps-browser:
	@scripts/install-deps browser
spec/browser/node_modules: spec/browser/package.json
	cd spec/browser && npm install --no-audit --no-fund --silent
	@touch $@
test-browser: deps-browser ngx-build
	$(MAKE) spec/browser/node_modules
	$(BUSTED) --pattern=_test spec/browser
