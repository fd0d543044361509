-- luacheck (Debian lua-check) for `make lint`. One standard for all of it:
-- the library runs on Lua 5.1-5.4 and LuaJIT, so `max` covers every global
-- any of them has; nginx-side code may read `ngx`.
std = "max"
max_line_length = 150
codes = true
exclude_files = { "bench/node/node_modules/**", "build/**", "homie/**" }

-- OpenResty code: the emulator, the ngx transport and helpers, nginx-run examples.
local ngx_globals = { globals = { "ngx" } }  -- ngx.status, ngx.header.X, ngx.ctx.X are set
files["server/**/*.lua"] = ngx_globals
files["lua/homie/transport/ngx.lua"] = ngx_globals
files["lua/homie/ngx.lua"] = ngx_globals
files["examples/openresty/**/*.lua"] = ngx_globals
files["lua/homie/transport/init.lua"] = ngx_globals  -- asks whether it runs inside nginx
files["spec/**/*.lua"] = { std = "+busted", read_globals = { "ngx" } }
files["spec/contract/ngx_service.lua"] = ngx_globals  -- a content handler inside nginx
files["bench/asks_upstream.lua"] = ngx_globals  -- the bench nginx's asks upstream
-- bench/gen_stream.lua builds long literal SSE lines on purpose.
files["bench/gen_stream.lua"] = { max_line_length = false }
