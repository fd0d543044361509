/* Leaks one block on purpose. `make asan` runs it first, built with the
 * same sanitizer flags and started the same way as the suite, to learn
 * whether LeakSanitizer can work here: it must stop the process's threads
 * with ptrace at exit, which a tracer (strace, gdb), a seccomp filter or
 * Yama's ptrace_scope can forbid. A working LSan reports this leak and
 * exits with LSAN_OPTIONS' exitcode; a blocked one says "LeakSanitizer has
 * encountered a fatal error" (scripts/run-asan tells the two apart). */
#include <stdio.h>
#include <stdlib.h>

static void *volatile kept;

int main(void) {
  kept = malloc(64);
  kept = NULL; /* the only pointer is gone: a definite leak */
  puts("lsan probe: leaked 64 bytes");
  return 0;
}
