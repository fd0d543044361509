# Reference docs (LDoc, Debian lua-ldoc + lua-discount) and lint (luacheck,
# Debian lua-check). Both fail on any warning. Included by the Makefile.
.PHONY: docs lint

# LDoc says nothing but these two lines when every comment parses; anything
# else it prints is a warning, and fails the target. Then scripts/check-docs
# fails on a page config.ld names that was not written, an undocumented
# public function, and a local link or anchor that leads nowhere.
docs: deps-test
	@mkdir -p build
	@rm -rf build/doc
	ldoc . >build/ldoc.log 2>&1 || { cat build/ldoc.log; exit 1; }
	@if grep -v -e '^reading configuration from' -e '^output written to' build/ldoc.log; then \
	  echo "docs: LDoc warnings above"; exit 1; fi
	lua5.4 scripts/check-docs config.ld build/doc
	@echo "docs: build/doc/index.html"

LINT_PATHS := lua spec server examples bench bin/homie scripts/check-docs $(wildcard scripts/*.lua)
lint: deps-test
	luacheck $(LINT_PATHS)
