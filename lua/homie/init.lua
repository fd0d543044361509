-- homie: the Lua SDK for the Homie AI chat API.
local client = require "homie.client"
local sse = require "homie.sse"
require "homie.chat"    -- the REST calls and chat handles
require "homie.stream"  -- client:events, chat:events
require "homie.ask"     -- chat:ask

local M = {}

M.VERSION = client.VERSION
M.new = client.new
M.sse_parser = sse.parser
M.is_error = require("homie.errors").is_error

return M
