/* luaopen_homie_curl: the libcurl transport (lrequest.c) and the library's
 * version, for the User-Agent. */
#include <curl/curl.h>
#include "lbind.h"

static int curl_version_string(lua_State *L) {
  lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
  return 1;
}

static const luaL_Reg funcs[] = {{"version", curl_version_string}, {NULL, NULL}};

int luaopen_homie_curl(lua_State *L) {
  /* Not thread-safe by libcurl's rules; Lua states load modules one at a
   * time, and curl tolerates repeated calls (it reference-counts). */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return luaL_error(L, "homie: curl_global_init failed");
  luaL_newlib(L, funcs);
  homie_curl_open(L);
  return 1;
}
