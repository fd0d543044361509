/* A minimal Lua 5.4 host: `lua_host script args...`. The sanitizer targets
 * link it with ASan+UBSan, so the runtime comes with the executable instead
 * of LD_PRELOAD, which every child process (nginx, curl, openssl) would
 * inherit. */
#include <stdio.h>
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

static int traceback(lua_State *L) {
  luaL_traceback(L, L, lua_tostring(L, 1), 1);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s script [args]\n", argv[0]); return 2; }
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
    status = lua_pcall(L, argc - 2, 0, 1);
  }
  if (status != LUA_OK) fprintf(stderr, "%s\n", lua_tostring(L, -1));
  lua_close(L);   /* runs every __gc, so leaks in finalizers show */
  return status == LUA_OK ? 0 : 1;
}
