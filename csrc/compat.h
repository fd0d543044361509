/* Every Lua 5.1-5.4 (and LuaJIT) API difference the core needs, and only here. */
#ifndef HOMIE_COMPAT_H
#define HOMIE_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
/* 5.1 / LuaJIT: fenv plays the role of the uservalue. */
#define lua_rawlen(L, i) lua_objlen(L, (i))
/* LuaJIT 2.1 already has these two (from 5.2); plain 5.1 does not. */
#ifndef luaL_newlib
#define luaL_setmetatable(L, n) (luaL_getmetatable(L, (n)), lua_setmetatable(L, -2))
#define luaL_newlib(L, l) (lua_newtable(L), luaL_register(L, NULL, (l)))
#endif
#define homie_setuservalue(L, i) lua_setfenv(L, (i))
static inline int homie_getuservalue(lua_State *L, int i) { lua_getfenv(L, i); return lua_type(L, -1); }
static inline void *homie_newuserdata(lua_State *L, size_t n) { return lua_newuserdata(L, n); }
#define homie_newuserdata0 homie_newuserdata
#elif LUA_VERSION_NUM < 504
#define homie_setuservalue(L, i) lua_setuservalue(L, (i))
static inline int homie_getuservalue(lua_State *L, int i) { lua_getuservalue(L, i); return lua_type(L, -1); }
static inline void *homie_newuserdata(lua_State *L, size_t n) { return lua_newuserdata(L, n); }
#define homie_newuserdata0 homie_newuserdata
#else
#define homie_setuservalue(L, i) lua_setiuservalue(L, (i), 1)
static inline int homie_getuservalue(lua_State *L, int i) { return lua_getiuservalue(L, i, 1); }
static inline void *homie_newuserdata(lua_State *L, size_t n) { return lua_newuserdatauv(L, n, 1); }
/* One with no user value (16 bytes less on 5.4), for one that never has one. */
static inline void *homie_newuserdata0(lua_State *L, size_t n) { return lua_newuserdatauv(L, n, 0); }
#endif

/* Push a whole number of at most 2^53: an integer where Lua has them (5.3+),
 * else a float (exact up to 2^53). */
static inline void homie_pushint53(lua_State *L, double v) {
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(L, (lua_Integer)v);
#else
  lua_pushnumber(L, (lua_Number)v);
#endif
}

#endif
