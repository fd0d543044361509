-- homie: the Lua SDK for the Homie AI chat API.
local client = require "homie.client"
local core = require "homie.core"
require "homie.chat"    -- the REST calls and chat handles
require "homie.stream"  -- client:events, chat:events
require "homie.ask"     -- chat:ask

local M = {}

M.VERSION = client.VERSION
M.new = client.new
M.sse_parser = core.sse_parser
M.is_error = require("homie.errors").is_error

return M
