-- Writes a deterministic Homie-shaped text/event-stream of at least MB
-- megabytes (default 100) to PATH, in the emulator's vocabulary (homie-api.md):
-- per reply, typing on, tool steps (no event line, MessageEventDto JSON), ~80
-- `event: chunk` pieces, typing off, and the final 8 KB `event: message`;
-- `: ping` heartbeats in between; ids increase. ASCII only, so byte counts
-- and JavaScript string lengths agree.
-- SHAPE "messages" (the default) pads each final message to 8 KB, so most
-- bytes are in big events; "chunks" leaves it unpadded (~600 bytes), so
-- most bytes are in the ~100-byte chunk events (80% of the events either way).
-- usage: lua gen_stream.lua PATH [MB [SHAPE]]
local path, mb, shape = arg[1], tonumber(arg[2] or "100"), arg[3] or "messages"
assert(path and (shape == "messages" or shape == "chunks"), "usage: lua gen_stream.lua PATH [MB [messages|chunks]]")
local PAD_TO = shape == "messages" and 8192 or 0

-- A fixed LCG, not math.random, so every Lua version writes the same bytes.
local seed = 12345
local function rnd(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n + 1
end

local words = { "the", "blue", "hoodie", "is", "in", "stock", "size", "L", "and", "ships",
  "tomorrow", "cotton", "soft", "warm", "we", "also", "have", "matching", "joggers", "price" }
local function text(n)
  local t = {}
  for i = 1, n do t[i] = words[rnd(#words)] end
  return table.concat(t, " ")
end
local function uuid()
  return string.format("%08x-%04x-4%03x-a%03x-%012x", rnd(2147483647), rnd(65535), rnd(4095), rnd(4095), rnd(2147483647))
end

local out = assert(io.open(path, "wb"))
local id, bytes, target = 0, 0, mb * 1000 * 1000
local counts = { chunk = 0, typing = 0, message = 0, tool = 0, ping = 0 }
local function emit(ev, data)
  id = id + 1
  local s = (ev and ("event: " .. ev .. "\n") or "") .. "id: " .. id .. "\ndata: " .. data .. "\n\n"
  out:write(s)
  bytes = bytes + #s
  counts[ev or "tool"] = counts[ev or "tool"] + 1
end
local function ping()
  out:write(": ping\n\n"); bytes = bytes + 8; counts.ping = counts.ping + 1
end

out:write("retry: 1000\n\n")
while bytes < target do
  local chat, msg = uuid(), uuid()
  emit("typing", string.format('{"chatId":"%s","typing":true}', chat))
  for _ = 1, 6 + rnd(4) do
    local ev = uuid()
    local args = string.format('{"query":"%s","limit":5}', text(3))
    emit(nil, string.format('{"chatId":"%s","eventId":"%s","toolName":"product_search","content":"Searching","toolArgs":%s,"status":"inProgress"}', chat, ev, args))
    emit(nil, string.format('{"chatId":"%s","eventId":"%s","toolName":"product_search","content":"Found products","toolArgs":%s,"toolResponse":{"products":[{"gtin":"1234567890123","designation":"%s","price":59.99}]},"status":"completed"}', chat, ev, args, text(2)))
  end
  local parts = {}
  for i = 1, 80 do
    parts[i] = text(rnd(4)) .. " "
    emit("chunk", string.format('{"chatId":"%s","messageId":"%s","index":%d,"content":"%s"}', chat, msg, i - 1, parts[i]))
    if i % 20 == 0 then ping() end
  end
  emit("typing", string.format('{"chatId":"%s","typing":false}', chat))
  -- the final MessageDto, padded with a description to about 8 KB
  local body = string.format('{"id":"%s","chatId":"%s","type":"answer","content":"%s","products":[{"gtin":"1234567890123","brand":"Homie","designation":"Blue Hoodie","description":"',
    msg, chat, table.concat(parts))
  local tail = '"}],"createdAt":"2025-07-08T16:32:11Z"}'
  local pad = {}
  local n = #body + #tail
  while n < PAD_TO do local w = text(1) .. " "; pad[#pad + 1] = w; n = n + #w end
  emit("message", body .. table.concat(pad) .. tail)
end
out:close()
-- One line for the caller: what was written.
print(string.format("bytes=%d events=%d chunk=%d tool=%d typing=%d message=%d ping=%d",
  bytes + 13, id, counts.chunk, counts.tool, counts.typing, counts.message, counts.ping))
