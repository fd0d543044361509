# Reference docs (LDoc, Debian lua-ldoc + lua-discount) and lint (luacheck,
# Debian lua-check). Both fail on any warning. Included by the Makefile.
.PHONY: docs lint

# LDoc says nothing but these two lines when every comment parses; anything
# else it prints is a warning, and fails the target.
docs: deps-test
	@mkdir -p build
	ldoc . >build/ldoc.log 2>&1 || { cat build/ldoc.log; exit 1; }
	@if grep -v -e '^reading configuration from' -e '^output written to' build/ldoc.log; then \
	  echo "docs: LDoc warnings above"; exit 1; fi
	@echo "docs: build/doc/index.html"

LINT_PATHS := lua spec server examples bench bin/homie $(wildcard scripts/*.lua)
lint: deps-test
	luacheck $(LINT_PATHS)
