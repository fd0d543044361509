-- homie: the Lua SDK for the Homie AI chat API.
local client = require "homie.client"

local M = {}

M.VERSION = client.VERSION
M.new = client.new
M.sse_parser = require("homie.sse").parser
M.is_error = require("homie.errors").is_error

return M
