/* luaopen_homie_core: the module table, plus the few OS facts the Lua layer
 * needs (a monotonic clock, a sleep, library versions). */
#define _POSIX_C_SOURCE 200809L
#include <time.h>
#include <errno.h>
#include <curl/curl.h>
#include "compat.h"

void homie_open_transport(lua_State *L);
int homie_open_sse(lua_State *L);

static int core_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

static int core_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  if (s <= 0) return 0;
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
  return 0;
}

static int core_curl_version(lua_State *L) {
  lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"now", core_now}, {"sleep", core_sleep}, {"curl_version", core_curl_version},
  {NULL, NULL}};

int luaopen_homie_core(lua_State *L) {
  /* Not thread-safe by libcurl's rules; Lua states load modules one at a
   * time, and curl tolerates repeated calls (it reference-counts). */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return luaL_error(L, "homie: curl_global_init failed");
  luaL_newlib(L, funcs);
  homie_open_transport(L);
  homie_open_sse(L);
  return 1;
}
