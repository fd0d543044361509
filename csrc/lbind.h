/* What the Lua bindings share: how a class is registered, how options are
 * checked, and each binding's entry point used by its module's luaopen. */
#ifndef HOMIE_LBIND_H
#define HOMIE_LBIND_H

#include <stddef.h>
#include <string.h>
#include "compat.h"

/* Registers the named metatable `name` with `methods`, __index pointing at
 * itself, and `close` as close, __gc and __close (one idempotent function,
 * so every way an object can end runs the same code). */
void homie_newclass(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close);

/* In a method of a homie_newclass class (whose upvalue 1 is the class's
 * metatable): argument 1 when it is an object of that class, else raises
 * as luaL_checkudata(L, 1, name) does. One comparison with the upvalue,
 * where luaL_checkudata looks the metatable up by name on every call
 * (about 300 instructions; a request's methods run ten times per call). */
void *homie_checkself(lua_State *L, const char *name);

/* Raises unless the value at `idx` is a table whose keys are all strings
 * listed in `keys` (NULL-terminated). `what` names the call in the error:
 * "homie: unknown <what> option 'x'". */
void homie_check_options(lua_State *L, int idx, const char *what, const char *const keys[]);

/* The same check, in the same pass calling each(L, ud, i) for every key
 * the table holds (keys[i]), its value on top of the stack (each leaves
 * the stack as it found it): a caller reads its options with one look-up
 * per key present, instead of one per key it knows. */
typedef void (*homie_option_fn)(lua_State *L, void *ud, int i);
void homie_each_option(lua_State *L, int idx, const char *what, const char *const keys[], homie_option_fn each,
                       void *ud);

/* Option `key` of the table at `idx` (raw access): `def` when absent, else
 * a whole number from 1 to HOMIE_MAX_COUNT, or raises naming the key. */
#define HOMIE_MAX_COUNT 4294967296.0 /* 4 GiB: a sane ceiling for byte limits */
size_t homie_opt_count(lua_State *L, int idx, const char *what, const char *key, size_t def);
/* The same check on the value at the top of the stack (not nil). */
size_t homie_count_value(lua_State *L, const char *what, const char *key);

/* Pushes n (at most HOMIE_MAX_COUNT) as a decimal string: lua_pushfstring
 * has no portable size_t format before 5.3. */
void homie_pushsize(lua_State *L, size_t n);

/* Pushes the n bytes at s, reusing the string in stack slot `slot` when it
 * has the same bytes, else making it and keeping it in `slot` for the next
 * call: an SSE stream's event types repeat, and so do its ids across events
 * without an id line. Inline: it runs once or twice per event. */
static inline void homie_push_cached(lua_State *L, int slot, const char *s, size_t n) {
  size_t cn;
  const char *c = lua_tolstring(L, slot, &cn);
  if (c && cn == n && memcmp(c, s, n) == 0) { lua_pushvalue(L, slot); return; }
  lua_pushlstring(L, s, n);
  lua_pushvalue(L, -1);
  lua_replace(L, slot);
}

/* With the module table on top, each adds its constructor to it. */
void homie_sse_open(lua_State *L);   /* lsse.c: parser */
void homie_json_open(lua_State *L);  /* ljson.c: json_normalize */
void homie_curl_open(lua_State *L);  /* lrequest.c: multi */

#endif
