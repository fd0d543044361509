--- homie: the Lua SDK for the Homie AI chat API.
--
-- Create a client with `homie.new`, then create chats, send a shopper's
-- question, read replies with product cards, page through history and
-- follow a chat's event stream. See the README for the guide.
-- @module homie
-- @usage
-- local homie = require "homie"
-- local client = homie.new{ api_key = os.getenv("HOMIE_API_KEY"), environment = "staging" }
-- local chat = assert(client:create_chat{ chatbotId = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f" })
-- print(assert(chat:send("Does the blue hoodie come in size L?",
--   { currentUrl = "https://store.com/products/blue-hoodie" })).content)
local client = require "homie.client"

local M = {}

--- The SDK's version string.
M.VERSION = client.VERSION

--- Creates a client; see `homie.client.new` for every option.
-- @function new
-- @tparam[opt] table opts options
-- @treturn homie.client.Client the client
-- @raise on a missing key or a wrong option
-- @usage local client = homie.new{ base_url = "http://127.0.0.1:8787", api_key = "k" }
M.new = client.new

--- A Server-Sent-Events parser on its own (the C engine `homie.sse`).
--
-- Methods: `p:feed(chunk)` returns an array of `{type, data, id}` (on an
-- event over `max_event_bytes`: `nil, err, events, before`, `before` being
-- how many of `events` came before it); `p:each(chunk, fn)` calls
-- `fn(type, data, id)` per event and returns the count; `p:last_event_id()`,
-- `p:retry()`, `p:finish()`, `p:reset()`, `p:close()`.
-- @function sse_parser
-- @tparam[opt] table opts `max_event_bytes` (default 1 MiB), `comments`
--  (true: comment lines come too, in order: `feed` lists each one's text
--  after the `:` as a string, `each` calls `fn(nil, text)`)
-- @return the parser
-- @raise on an unknown option or a wrong limit
-- @usage local p = homie.sse_parser()
-- for _, ev in ipairs(p:feed("event: chunk\ndata: hi\n\n")) do print(ev.type, ev.data) end
M.sse_parser = require("homie.sse").parser

--- True when `v` is an error returned by homie (a `homie.errors.Error`).
-- @function is_error
-- @param v any value
-- @treturn boolean
-- @usage local reply, err = chat:send(text, opts)
-- if homie.is_error(err) and err.kind == "rate_limit" then ... end
M.is_error = require("homie.errors").is_error

--- `pcall` that a homie call inside `client:gather` may wait across.
-- On LuaJIT and Lua 5.2-5.4 it is `pcall`. PUC Lua 5.1 cannot yield
-- through `pcall`, so there a plain `pcall` around a homie call inside a
-- gather task fails with "attempt to yield across metamethod/C-call
-- boundary"; `homie.pcall` runs the function in a coroutine of its own and
-- passes its waits on to the gather.
-- @function pcall
-- @tparam function fn the function
-- @param ... its arguments
-- @return true and what `fn` returned, or false and the error
-- @usage local ok, reply, err = homie.pcall(chat.send, chat, text, opts)
M.pcall = require("homie.util").pcall

return M
