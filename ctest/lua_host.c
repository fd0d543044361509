/* A minimal Lua 5.4 host: `lua_host script args...`. The sanitizer targets
 * link it with ASan+UBSan, so the runtime comes with the executable instead
 * of LD_PRELOAD, which every child process (nginx, curl, openssl) would
 * inherit. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* lua_close unloads every C module with dlclose. Keep them loaded: LSan's
 * exit-time scan can crash on the dynamic TLS a library with thread-locals
 * (libcurl's TLS stack) leaves behind when unloaded, and a leak inside a
 * module is reported with symbols only while the module is mapped. Defined
 * here, in the executable, it takes the place of libc's for liblua. */
int dlclose(void *handle);
int dlclose(void *handle) {
  (void)handle;
  return 0;
}

/* LeakSanitizer checks from an exit handler and, when it finds a leak or
 * cannot run, ends the process with _exit: stdio buffers are never flushed
 * and busted's summary (stdout is a pipe) is lost. Flushed from a handler
 * registered after the sanitizer's, it runs first. */
static void flush_all(void) { fflush(NULL); }

/* Ctrl-C as the stock interpreter takes it: the next Lua instruction raises
 * "interrupted!", so a program (bin/homie) can catch it and leave cleanly.
 * A signal handler may only set the hook; the hook raises. */
static lua_State *running;
static void interrupted(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}
static void on_sigint(int sig) {
  signal(sig, SIG_DFL);  /* a second Ctrl-C ends the process */
  lua_sethook(running, interrupted, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static int traceback(lua_State *L) {
  luaL_traceback(L, L, lua_tostring(L, 1), 1);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s script [args]\n", argv[0]); return 2; }
  atexit(flush_all);
  lua_State *L = luaL_newstate();
  if (!L) return 1;
  luaL_openlibs(L);
  lua_createtable(L, argc, 0);           /* arg, as the stock interpreter builds it */
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
  lua_pushcfunction(L, traceback);
  int status = luaL_loadfile(L, argv[1]);
  if (status == LUA_OK) {
    for (int i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
    running = L;
    signal(SIGINT, on_sigint);
    status = lua_pcall(L, argc - 2, 0, 1);
    signal(SIGINT, SIG_DFL);
  }
  if (status != LUA_OK) fprintf(stderr, "%s\n", lua_tostring(L, -1));
  lua_close(L);   /* runs every __gc, so leaks in finalizers show */
  return status == LUA_OK ? 0 : 1;
}
